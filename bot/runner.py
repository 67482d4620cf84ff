"""`python -m bot run`: the bot against Telegram, by long polling or, with WEBHOOK_URL, webhook."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.utils.token import TokenValidationError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.config import Settings, SettingsError
from bot.dispatcher import build_dispatcher

log = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    """Waits out Telegram's flood control (429) and retries brief server errors (5xx), so a
    busy election day delays an answer instead of losing it."""

    def __init__(self, attempts: int = 3, max_wait: float = 30.0) -> None:
        self.attempts = attempts
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                log.warning(
                    "%s: flood control, retrying in %s s", type(method).__name__, exc.retry_after
                )
                await asyncio.sleep(exc.retry_after)
            except TelegramServerError as exc:
                if attempt == self.attempts:
                    raise
                log.warning("%s: %s, retrying", type(method).__name__, exc)
                await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")


def make_bot(settings: Settings) -> Bot:
    if settings.bot_token is None:
        raise SettingsError(
            "BOT_TOKEN is not set: get one from @BotFather, or try the bot without one: "
            "python -m bot chat"
        )
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.bot_api_url))
    session.middleware(RetryMiddleware())
    try:
        return Bot(
            settings.bot_token.get_secret_value(),
            session=session,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
    except TokenValidationError:
        raise SettingsError("BOT_TOKEN is malformed: expected <digits>:<letters>") from None


async def run_bot(settings: Settings) -> None:
    bot = make_bot(settings)
    dp = build_dispatcher(settings)
    if not settings.webhook_url:
        log.info("starting long polling against %s", settings.bot_api_url)
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=True)
        return
    path = urlsplit(settings.webhook_url).path or "/"
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None

    async def register_webhook(bot: Bot) -> None:
        await bot.set_webhook(settings.webhook_url or "", secret_token=secret)

    dp.startup.register(register_webhook)
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, path=path)
    setup_application(app, dp, bot=bot)
    log.info("serving webhook %s on %s:%s", path, settings.webhook_host, settings.webhook_port)
    await web._run_app(app, host=settings.webhook_host, port=settings.webhook_port)
