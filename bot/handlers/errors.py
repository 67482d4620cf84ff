"""Last line of defence: a handler that fails logs it and the user gets a polite reply.

The return value is the update's outcome in the inbox (bot/delivery/inbox.py). Telegram's
"slow down" never reaches here: the sender waits it out.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from bot.delivery.inbox import BLOCKED, FAILED

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> str:
    update = event.update
    if isinstance(event.exception, TelegramForbiddenError):
        log.info("update %s: the person blocked the bot; nothing sent", update.update_id)
        return BLOCKED
    log.error("update %s failed", update.update_id, exc_info=event.exception)
    text = _("Sorry, something went wrong on my side. Please try again in a moment.")
    # The reply itself may fail (user blocked the bot, Telegram down): nothing more to do then.
    with suppress(TelegramAPIError, LookupError):
        if update.message:
            await update.message.answer(text)
        elif update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
    return FAILED


def build() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
