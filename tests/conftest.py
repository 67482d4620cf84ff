"""Shared fixtures: the production Dispatcher (build_dispatcher) driven in process through
LocalSession, in the style of aiogram's own tests (dp.feed_update with a mocked session).

The content store is imported from data/ once per test session into a template database;
each test gets a copy, so tests may change it freely and stay independent.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` as well as `python -m pytest` from the root
    sys.path.insert(0, str(ROOT))

from bot import LOCALES  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.content.sync import import_path  # noqa: E402
from bot.dispatcher import build_dispatcher  # noqa: E402
from bot.i18n import build_i18n  # noqa: E402
from bot.library import Library  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.terminal import LocalSession, UpdateFactory, local_bot  # noqa: E402

DATA_DIR = ROOT / "data"
LOCALES_DIR = ROOT / "locales"
TODAY = date(2026, 11, 22)
I18N = build_i18n(LOCALES_DIR, "kk")


def translated(msgid: str, lang: str) -> str:
    """The catalogue's translation of a user-facing string, as the bot would say it."""
    return I18N.gettext(msgid, locale=lang)


def all_translations(msgid: str) -> dict[str, str]:
    return {lang: translated(msgid, lang) for lang in LOCALES}


FORGET_MSGID = (
    "Delete everything the bot stores about you: your language, your station, your "
    "reminders, the feedback you wrote and the record of your messages and of what it sent "
    "you? This cannot be undone."
)
KEPT_MSGID = (
    "Kept: questions the bot could not answer, stored without your name or Telegram "
    "account so that people can improve its answers, and deleted after {days} days."
)


def forget_reply(lang: str) -> str:
    """The reply to /forget: a question, answered by a button."""
    return translated(FORGET_MSGID, lang)


def kept_line(lang: str, days: int = 90) -> str:
    """The last line after /forget is confirmed: what stays."""
    return translated(KEPT_MSGID, lang).format(days=days)


ERROR_MSGID = "Sorry, something went wrong on my side. Please try again in a moment."
# Every setting the bot reads from the environment: tests must not inherit a developer's .env.
SETTING_NAMES = (
    "BOT_TOKEN",
    "BOT_API_URL",
    "DATABASE_PATH",
    "ADMIN_IDS",
    "DEFAULT_LOCALE",
    "DATA_DIR",
    "LOCALES_DIR",
    "WEBHOOK_URL",
    "WEBHOOK_HOST",
    "WEBHOOK_PORT",
    "WEBHOOK_SECRET",
    "HEALTH_PORT",
    "HEALTH_HOST",
    "HEALTH_MAX_AGE",
    "WORKERS",
    "SEND_RATE",
    "CHAT_SEND_INTERVAL",
    "BROADCAST_IN_FLIGHT",
    "RETRY_MAX_DELAY",
    "SHUTDOWN_TIMEOUT",
    "THROTTLE_BURST",
    "THROTTLE_RATE",
    "UNANSWERED_RETENTION_DAYS",
    "CONTENT_POLL_SECONDS",
    "OPERATOR_NAME",
    "OPERATOR_CONTACT",
)


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without the bot's settings, plus `extra`: for subprocess tests."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in SETTING_NAMES}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file (WAL included) through the backup API."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def table_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def make_dispatcher(settings: Settings, today: date = TODAY) -> Dispatcher:
    """build_dispatcher, as production calls it, with the test clock."""
    return build_dispatcher(settings, today=lambda: today)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/ imported once, with the indexes a first start stores; tests copy it (import_path
    is the same code as `bot import`), so a bot process started on a copy loads them."""
    path = tmp_path_factory.mktemp("template") / "saylau.db"

    async def build() -> None:
        async with Database(path) as db:
            await import_path(db, DATA_DIR)
            await Library(I18N).load(db)

    asyncio.run(build())
    return path


@pytest.fixture
def settings(tmp_path: Path, template_db: Path) -> Settings:
    db_path = tmp_path / "saylau.db"
    copy_db(template_db, db_path)
    return load_settings(_env_file=None, database_path=db_path)


@pytest.fixture
def session() -> LocalSession:
    return LocalSession()


@pytest.fixture
def bot(session: LocalSession) -> Bot:
    return local_bot(session)


@pytest_asyncio.fixture
async def dp(settings: Settings, bot: Bot) -> AsyncIterator[Dispatcher]:
    dispatcher = make_dispatcher(settings)
    # Exactly what Dispatcher.start_polling passes to the startup and shutdown hooks.
    await dispatcher.emit_startup(bot=bot, **dispatcher.workflow_data)
    try:
        yield dispatcher
    finally:
        await dispatcher.emit_shutdown(bot=bot, **dispatcher.workflow_data)


@pytest.fixture
def db(dp: Dispatcher) -> Database:
    return dp["db"]  # type: ignore[no-any-return]


@pytest.fixture
def updates() -> Callable[..., UpdateFactory]:
    """updates(language_code) -> an UpdateFactory for a new user (fresh user id each call)."""
    ids = itertools.count(501)

    def make(language_code: str | None = "en") -> UpdateFactory:
        return UpdateFactory(user_id=next(ids), language_code=language_code)

    return make


@pytest.fixture(autouse=True)
def _no_handler_errors(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Every test fails if the bot's error handler fired, unless marked allow_handler_errors."""
    caplog.set_level(logging.ERROR, logger="bot.handlers.errors")
    yield
    if request.node.get_closest_marker("allow_handler_errors"):
        return
    fired = [r for r in caplog.get_records("call") if r.name == "bot.handlers.errors"]
    assert not fired, f"the error handler fired: {fired[0].getMessage()} {fired[0].exc_info}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_handler_errors: the test expects the bot's error handler to fire"
    )


# --- driving a chat ----------------------------------------------------------------------


class ChatDriver:
    """One user talking to the production dispatcher; returns what the bot did per update."""

    def __init__(
        self, dp: Dispatcher, bot: Bot, session: LocalSession, updates: UpdateFactory
    ) -> None:
        self.dp, self.bot, self.session, self.updates = dp, bot, session, updates
        self.results: list[tuple[TelegramMethod[Any], Any]] = []
        session.listeners.append(lambda method, result: self.results.append((method, result)))

    @property
    def user_id(self) -> int:
        return self.updates.user.id

    async def feed(self, update: Update) -> list[TelegramMethod[Any]]:
        before = len(self.session.requests)
        await self.dp.feed_update(self.bot, update)
        return self.session.requests[before:]

    async def send(self, text: str | None = None, **fields: Any) -> list[TelegramMethod[Any]]:
        return await self.feed(self.updates.message(text, **fields))

    async def press(self, data: str, message: Message | None = None) -> list[TelegramMethod[Any]]:
        return await self.feed(self.updates.callback(data, message))

    def last_message(self) -> Message:
        """The bot's latest sent or edited message, as the client now shows it."""
        for method, result in reversed(self.results):
            if isinstance(method, SendMessage | EditMessageText) and isinstance(result, Message):
                return self.session.messages[(result.chat.id, result.message_id)]
        raise AssertionError("the bot has not sent a message")

    async def press_button(self, label_or_data: str) -> list[TelegramMethod[Any]]:
        """Presses a button of the latest message, found by its callback data or its label."""
        message = self.last_message()
        button = find_button(message.reply_markup, label_or_data)
        assert button.callback_data is not None
        return await self.press(button.callback_data, message)


def buttons(markup: Any) -> list[InlineKeyboardButton]:
    assert isinstance(markup, InlineKeyboardMarkup), f"expected an inline keyboard: {markup!r}"
    return [b for row in markup.inline_keyboard for b in row]


def find_button(markup: Any, label_or_data: str) -> InlineKeyboardButton:
    found = [b for b in buttons(markup) if label_or_data in (b.callback_data, b.text)]
    found = found or [b for b in buttons(markup) if label_or_data in b.text]
    assert found, f"no button {label_or_data!r} in {[b.text for b in buttons(markup)]}"
    return found[0]


def texts(requests: list[TelegramMethod[Any]]) -> list[str]:
    """The texts the bot sent or put in place (edits) in these requests."""
    return [r.text for r in requests if isinstance(r, SendMessage | EditMessageText)]


def only_text(requests: list[TelegramMethod[Any]]) -> str:
    sent = texts(requests)
    assert len(sent) == 1, f"expected exactly one reply, got {sent!r}"
    return sent[0]


@pytest.fixture
def chat(
    dp: Dispatcher, bot: Bot, session: LocalSession, updates: Callable[..., UpdateFactory]
) -> Callable[..., ChatDriver]:
    """chat(language_code) -> a ChatDriver for a new user with that Telegram language."""

    def make(language_code: str | None = "en") -> ChatDriver:
        return ChatDriver(dp, bot, session, updates(language_code))

    return make
