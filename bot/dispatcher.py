"""build_dispatcher: the one factory behind `run`, `chat` and the tests.

Long-lived objects (settings, database, i18n, the content library, the clock) live in the
Dispatcher's workflow data and open/close in its startup/shutdown hooks; middlewares only do
per-update work (the user's locale).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import date, datetime

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import ASTANA, LOCALES
from bot.config import Settings
from bot.content.sync import open_store
from bot.delivery.metrics import Metrics
from bot.fsm import SqliteStorage
from bot.handlers import build_router
from bot.i18n import LocaleMiddleware, build_i18n
from bot.library import Library
from bot.storage import Database

log = logging.getLogger(__name__)


def astana_today() -> date:
    return datetime.now(ASTANA).date()


def build_dispatcher(settings: Settings, *, today: Callable[[], date] = astana_today) -> Dispatcher:
    i18n = build_i18n(settings.locales_dir, settings.default_locale)
    db = Database(settings.database_path)
    dp = Dispatcher(
        # Guided operator edits live in the same file, so they survive a restart.
        storage=SqliteStorage(db),
        settings=settings,
        db=db,
        i18n=i18n,
        library=Library(i18n),
        poller=ContentPoller(),
        today=today,
        metrics=Metrics(),  # this process's counters, served by GET /metrics
    )
    LocaleMiddleware(i18n, db).setup(dp)
    dp.include_router(build_router())
    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


async def prepare(settings: Settings, db: Database, library: Library) -> None:
    """Opens and fills the store (open_store), loads the library."""
    await open_store(settings, db)
    await library.load(db)


class ContentPoller:
    """Reloads the library every few seconds when another process (`python -m bot import`)
    changed the store, so its changes are answered without a restart."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, db: Database, library: Library, every: float) -> None:
        self._task = asyncio.create_task(self._run(db, library, every), name="content-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @staticmethod
    async def _run(db: Database, library: Library, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await library.refresh(db)
            except Exception:  # a busy or broken read is tried again next time, never fatal
                log.exception("content refresh failed")


async def on_startup(
    bot: Bot,
    settings: Settings,
    db: Database,
    library: Library,
    i18n: I18n,
    poller: ContentPoller,
) -> None:
    await prepare(settings, db, library)
    poller.start(db, library, settings.content_poll_seconds)
    await set_commands(bot, i18n)


async def on_shutdown(db: Database, poller: ContentPoller) -> None:
    await poller.stop()
    await db.close()


def command_list() -> list[BotCommand]:
    return [
        BotCommand(command="menu", description=_("Sections to browse")),
        BotCommand(command="help", description=_("How to ask a question")),
        BotCommand(command="language", description=_("Change the language")),
        BotCommand(command="about", description=_("About this bot and its sources")),
        BotCommand(command="remind", description=_("Reminders before a vote")),
        BotCommand(command="feedback", description=_("Report a mistake or give feedback")),
        BotCommand(command="stop", description=_("Stop announcements")),
        BotCommand(command="forget", description=_("Delete my data")),
        BotCommand(command="start", description=_("Start over")),
    ]


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu in each language; a failure is logged and never stops the bot."""
    with i18n.context():
        for lang in (None, *LOCALES):
            with i18n.use_locale(lang or i18n.default_locale):
                commands = command_list()
            try:
                await bot.set_my_commands(commands, language_code=lang)
            except (TelegramAPIError, OSError, TimeoutError) as exc:
                log.warning("set_my_commands(%s) failed: %s", lang or "default", exc)
