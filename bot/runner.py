"""`python -m bot run`: the bot against Telegram, by long polling or, with WEBHOOK_URL, webhook.

Either way updates go into the durable inbox (bot/delivery/inbox.py) before Telegram is told
they arrived, and everything the bot sends goes through the one Sender (bot/delivery/sender.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiohttp import web

from bot.config import Settings
from bot.delivery import announcements
from bot.delivery.health import Health
from bot.delivery.inbox import Inbox
from bot.delivery.intake import UPDATE_KINDS, Intake
from bot.delivery.metrics import Metrics
from bot.delivery.outage import Outage
from bot.delivery.outbox import Deliverer
from bot.delivery.reminders import Renderers
from bot.delivery.sender import Sender, backoff
from bot.dispatcher import build_dispatcher
from bot.storage import Database

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25  # seconds Telegram may hold a getUpdates call
PURGE_EVERY = 3600.0
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_sender(settings: Settings, outage: Outage, metrics: Metrics | None = None) -> Sender:
    return Sender(
        rate=settings.send_rate,
        chat_interval=settings.chat_send_interval,
        max_delay=settings.retry_max_delay,
        outage=outage,
        metrics=metrics,
    )


def make_bot(settings: Settings, outage: Outage, sender: Sender | None = None) -> Bot:
    """The bot whose every request goes through `sender` (by default one from settings)."""
    token = settings.token()
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.bot_api_url), timeout=30)
    session.middleware(sender or make_sender(settings, outage))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


async def until_stopped(stop: asyncio.Event, work: Awaitable[Any]) -> bool:
    """Runs `work` unless `stop` is set first (then cancels it); True when work finished."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def run_bot(settings: Settings) -> None:
    outage = Outage()
    dp = build_dispatcher(settings)
    db: Database = dp["db"]
    sender = make_sender(settings, outage, dp["metrics"])
    bot = make_bot(settings, outage, sender)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    hooks = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    started = False
    try:
        # Opening the store, the command menu and getMe wait out an unreachable Bot API.
        started = await until_stopped(stop, dp.emit_startup(bot=bot, **hooks))
        if not started or not await until_stopped(stop, bot.me()):
            return
        me = await bot.me()
        inbox = Inbox(
            dp=dp,
            bot=bot,
            db=db,
            i18n=dp["i18n"],
            intake=Intake(
                me.id, me.username or "", settings.throttle_burst, settings.throttle_rate
            ),
            workers=settings.workers,
            metrics=dp["metrics"],
        )
        if resumed := await db.inbox_requeue():
            log.info("resuming %d updates that were being handled when the bot stopped", resumed)
        inbox.start()
        renderers = {
            announcements.KIND: announcements.render,
            **Renderers(db, dp["library"], dp["i18n"]).kinds(),
        }
        deliverer = Deliverer(db, bot, renderers, settings.broadcast_in_flight)
        deliverer.start()
        purger = asyncio.create_task(purge(db, settings))
        health = Health(
            db=db,
            metrics=dp["metrics"],
            sender=sender,
            outage=outage,
            deliverer=deliverer.holder,
            max_age=settings.health_max_age,
        )
        health_server = await serve_health(settings, health)
        try:
            if settings.webhook_url:
                await serve_webhook(settings, bot, inbox, health, stop)
            else:
                await until_stopped(stop, poll(bot, inbox, db, outage, settings))
        finally:
            log.info("stopping: finishing running updates for %s s", settings.shutdown_timeout)
            purger.cancel()
            if health_server is not None:
                await health_server.cleanup()
            await asyncio.gather(
                inbox.stop(settings.shutdown_timeout), deliverer.stop(settings.shutdown_timeout)
            )
    finally:
        if started:
            await dp.emit_shutdown(bot=bot, **hooks)
        await bot.session.close()
        log.info("stopped")


async def purge(db: Database, settings: Settings) -> None:
    """Retention: unanswered questions after UNANSWERED_RETENTION_DAYS, handled updates."""
    while True:
        removed = await db.purge_unanswered(timedelta(days=settings.unanswered_retention_days))
        await db.purge_inbox()
        if removed:
            log.info("purged %d unanswered questions past retention", removed)
        await asyncio.sleep(PURGE_EVERY)


async def poll(bot: Bot, inbox: Inbox, db: Database, outage: Outage, settings: Settings) -> None:
    """Long polling on raw JSON: an update aiogram's models reject is stored and skipped by
    the inbox instead of failing the whole batch. The offset that confirms a batch is sent
    only after the batch is in the database."""
    await bot.delete_webhook(drop_pending_updates=False)
    offset = await db.inbox_next_offset()
    http = await bot.session.create_session()
    url = bot.session.api.api_url(bot.token, "getUpdates")
    timeout = aiohttp.ClientTimeout(total=POLL_TIMEOUT + 10)
    log.info("long polling %s", settings.bot_api_url)
    failures = 0
    while True:
        params = {"offset": offset, "timeout": POLL_TIMEOUT, "allowed_updates": UPDATE_KINDS}
        try:
            async with http.post(url, json=params, timeout=timeout) as response:
                body = await response.json(content_type=None)
            if not isinstance(body, dict) or body.get("ok") is not True:
                detail = body.get("description") if isinstance(body, dict) else None
                raise PollError(str(detail or f"HTTP {response.status}"))
            updates = [u for u in body.get("result") or [] if isinstance(u, dict)]
        except (aiohttp.ClientError, TimeoutError, ValueError, PollError) as exc:
            detail = str(exc) if isinstance(exc, PollError) else type(exc).__name__
            outage.failed("getUpdates", detail)
            failures += 1
            await asyncio.sleep(backoff(failures, settings.retry_max_delay))
            continue
        outage.recovered()
        failures = 0
        ids = [u["update_id"] for u in updates if isinstance(u.get("update_id"), int)]
        await inbox.receive([u for u in updates if isinstance(u.get("update_id"), int)])
        if ids:
            offset = max(ids) + 1


class PollError(Exception):
    """getUpdates answered, but not with updates (Telegram's description, no user data)."""


async def serve_health(settings: Settings, health: Health) -> web.AppRunner | None:
    """/healthz and /metrics on HEALTH_PORT, when it is set (long polling has no other
    server); None when it is not."""
    if settings.health_port is None:
        return None
    app = web.Application()
    health.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.health_host, settings.health_port).start()
    log.info("serving /healthz and /metrics on %s:%s", settings.health_host, settings.health_port)
    return runner


async def serve_webhook(
    settings: Settings, bot: Bot, inbox: Inbox, health: Health, stop: asyncio.Event
) -> None:
    """Telegram's POSTs go into the inbox and get their 200 only once stored. Settings make
    sure WEBHOOK_SECRET is set; a request without it is refused."""
    assert settings.webhook_url and settings.webhook_secret
    path = urlsplit(settings.webhook_url).path or "/"
    secret = settings.webhook_secret.get_secret_value()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret.encode()):
            return web.json_response({"ok": False}, status=401)
        try:
            update = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            update = None
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.json_response({"ok": False, "error": "not an update"}, status=400)
        await inbox.receive([update])
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(path, receive)
    health.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    log.info("serving webhook %s on %s:%s", path, settings.webhook_host, settings.webhook_port)
    try:
        registered = bot.set_webhook(
            settings.webhook_url, secret_token=secret, allowed_updates=list(UPDATE_KINDS)
        )
        if await until_stopped(stop, registered):
            await stop.wait()
    finally:
        await runner.cleanup()
