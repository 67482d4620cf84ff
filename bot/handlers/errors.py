"""Last line of defence: a handler that fails logs it and the user gets a polite reply."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> bool:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    update = event.update
    text = _("Sorry, something went wrong on my side. Please try again in a moment.")
    # The reply itself may fail (user blocked the bot, Telegram down): nothing more to do then.
    with suppress(TelegramAPIError, LookupError):
        if update.message:
            await update.message.answer(text)
        elif update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
    return True


def build() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
