"""Whatever a user (or a forged client) sends, the bot replies politely or ignores it, no
handler fails, and the curated content stays exactly as it was.

The autouse fixture in conftest fails any test here if the bot's error handler fired.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import AnswerCallbackQuery, SendMessage, TelegramMethod
from aiogram.types import Location, PhotoSize, Sticker
from conftest import (
    ERROR_MSGID,
    LOCALES,
    ChatDriver,
    all_translations,
    forget_reply,
    make_dispatcher,
    only_text,
    texts,
    translated,
)
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.content.models import Content
from bot.storage import UNANSWERED_MAX_CHARS, Database
from bot.terminal import LocalSession, local_bot

ERROR_TEXTS = set(all_translations(ERROR_MSGID).values())
OUT_OF_DATE = set(all_translations("This button is out of date.").values())


async def snapshot(db: Database) -> tuple[Content, dict[str, int]]:
    """The content and every table's row count, except the log of unanswered questions."""
    async with db.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ) as cur:
        tables = [row[0] for row in await cur.fetchall()]
    counts = {}
    for table in tables:
        async with db.conn.execute(f'SELECT COUNT(*) FROM "{table}"') as cur:
            counts[table] = (await cur.fetchone())[0]
    return await db.load_content(), counts


def assert_no_error_text(requests: list[TelegramMethod[Any]]) -> None:
    said = texts(requests) + [r.text for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert not ERROR_TEXTS.intersection(said), said


async def assert_store_unchanged(
    db: Database, before: tuple[Content, dict[str, int]], unanswered_growth: int = 1
) -> None:
    content, counts = await snapshot(db)
    assert content == before[0]
    grown = counts.pop("unanswered") - before[1]["unanswered"]
    assert 0 <= grown <= unanswered_growth
    # A question is counted (a row per day and outcome): one message adds one row at most.
    counted = counts.pop("question_counts") - before[1]["question_counts"]
    assert 0 <= counted <= 1
    logs = ("unanswered", "question_counts")
    assert counts == {k: v for k, v in before[1].items() if k not in logs}


WEIRD_TEXTS = [
    (" ", "space"),
    ("\n\t  \n", "whitespace"),
    ("\u200b", "zero-width-space"),
    ("\u00a0\u2028", "nbsp-line-separator"),
    ("?", "question-mark"),
    ("а" * 4096, "4096-cyrillic"),
    (("Когда выборы в Курултай? " * 200)[:4096], "4096-repeated-question"),
    ("🗳🇰🇿👍", "emoji-only"),
    ("👨‍👩‍👧‍👦" * 500, "emoji-zwj-long"),
    ("متى الانتخابات في كازاخستان؟", "arabic"),
    ("מתי הבחירות בקזחסטן?", "hebrew"),
    ("\u202eКурултай\u202c", "rtl-override"),
    ("\x00\x01\x07\x1b[31mred\x7f", "control-characters"),
    ("\\" * 9, "backslashes"),
    ('"', "double-quote"),
    ("*", "star"),
    ("NOT", "fts-not"),
    ("col:x", "fts-column"),
    ("NEAR(выборы курултай)", "fts-near"),
    ("'; DROP TABLE faq_entries; --", "sql-injection"),
    ("%_%", "like-wildcards"),
    ("<b>bold</b> <script>alert(1)</script> &amp; &", "html"),
    ("{n} {sources} %s %(x)s", "format-placeholders"),
    ("Курултай" + "\u0301" * 50, "combining-marks"),
    ("\ud7ff\ufffd\U0010ffff", "edge-codepoints"),
]


@pytest.mark.parametrize("code", ["ru", "de"])
async def test_weird_text_gets_one_polite_reply(chat, db: Database, subtests, code: str):
    user: ChatDriver = chat(code)
    for text, name in WEIRD_TEXTS:
        with subtests.test(name):
            before = await snapshot(db)
            requests = await user.send(text)
            reply = only_text(requests)
            assert reply.strip()
            assert_no_error_text(requests)
            await assert_store_unchanged(db, before)
    for stored, _lang, _when in await db.unanswered():
        assert len(stored) <= UNANSWERED_MAX_CHARS


async def test_empty_text_asks_for_words(chat, db: Database):
    user: ChatDriver = chat("en")
    assert only_text(await user.send("   ")) == translated(
        "Please type your question in words.", "en"
    )
    assert await db.unanswered() == []


async def test_a_long_unanswerable_text_is_stored_truncated(chat, db: Database):
    user: ChatDriver = chat("en")
    text = "zzqx " * 819  # 4095 characters no entry knows
    reply = only_text(await user.send(text))
    assert reply.startswith(translated("Sorry, I don't know the answer to that.", "en")[:20])
    [(stored, lang, _)] = await db.unanswered()
    assert lang == "en"
    assert stored == text.strip()[:UNANSWERED_MAX_CHARS]


def sticker() -> Sticker:
    return Sticker(
        file_id="CAACAgIAAxk",
        file_unique_id="AgADsticker",
        type="regular",
        width=512,
        height=512,
        is_animated=False,
        is_video=False,
        emoji="🗳",
    )


def photo() -> list[PhotoSize]:
    return [PhotoSize(file_id="AgACAgIAAxk", file_unique_id="AQADphoto", width=90, height=90)]


NON_TEXT = {
    "sticker": {"sticker": sticker()},
    "photo": {"photo": photo()},
    "captioned-photo": {"photo": photo(), "caption": "Когда выборы в Курултай?"},
}


async def test_non_text_message_is_told_to_type(chat, db: Database, subtests):
    before = await snapshot(db)
    for code in LOCALES:
        user: ChatDriver = chat(code)
        for name, fields in NON_TEXT.items():
            with subtests.test(f"{name}-{code}"):
                requests = await user.send(None, **fields)
                assert only_text(requests) == translated(
                    "I can read only text messages. Please type your question.", code
                )
    await assert_store_unchanged(db, before, unanswered_growth=0)


async def test_location_message_gets_one_reply(chat, db: Database):
    before = await snapshot(db)
    user: ChatDriver = chat("en")
    requests = await user.send(None, location=Location(latitude=51.13, longitude=71.43))
    assert len([r for r in requests if isinstance(r, SendMessage)]) >= 1
    assert_no_error_text(requests)
    await assert_store_unchanged(db, before, unanswered_growth=0)


FORGED = [
    "faq:does.not.exist",
    "faq:",
    "faq:bot.about:extra",
    "sec:nosuch:0",
    "sec:elections:notanumber",
    "sec:elections:99999999999999999999999999",
    "sec:elections:-1",
    "lang:xx",
    "lang:",
    "lang:kk:ru",
    "menu:nosuch",
    "menu:",
    "garbage",
    "",
    ":::",
    "x" * 64,
    "faq:../../etc/passwd",
    "faq:'; DROP TABLE faq_entries; --",
]


async def test_forged_callback_data(chat, db: Database, subtests):
    before = await snapshot(db)
    for with_message in (True, False):
        for data in FORGED:
            with subtests.test(data=data, with_message=with_message):
                user: ChatDriver = chat("ru")
                message = None
                if with_message:
                    await user.send("/menu")
                    message = user.last_message()
                requests = await user.press(data, message)

                acks = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
                assert len(acks) == 1, "the button's spinner must stop exactly once"
                assert len(texts(requests)) <= 1
                assert_no_error_text(requests)
                assert acks[0].text in OUT_OF_DATE | {None}
                assert await db.get_locale(user.user_id) is None
    await assert_store_unchanged(db, before, unanswered_growth=0)


async def test_callback_without_data(chat):
    user: ChatDriver = chat("en")
    await user.send("/menu")
    requests = await user.press(None, user.last_message())  # e.g. a game button
    assert len([r for r in requests if isinstance(r, AnswerCallbackQuery)]) == 1
    assert_no_error_text(requests)


async def test_unknown_entry_button_says_out_of_date(chat):
    user: ChatDriver = chat("kk")
    requests = await user.press("faq:does.not.exist")
    [ack] = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert ack.text == translated("This button is out of date.", "kk")
    assert texts(requests) == []


async def test_garbage_button_shows_the_current_menu(chat):
    user: ChatDriver = chat("en")
    await user.send("/help")
    requests = await user.press("garbage", user.last_message())
    assert only_text(requests) == translated("Here is the current menu:", "en")


GARBAGE_COMMANDS = [
    ("/start ☃☃ ;;", "start"),
    ("/start@saylau_bot", "start"),
    ("/menu extra args", "menu"),
    ("/menu@saylau_bot", "menu"),
    ("/help me please", "help"),
    ("/forget everything", "forget"),
    ("/nosuchcommand", "unknown"),
    ("/nosuchcommand with args", "unknown"),
    ("/START", "unknown"),
    ("/menu@some_other_bot", "unknown"),
    ("/", "unknown"),
    ("//", "unknown"),
    ("/" + "x" * 4000, "unknown"),
]


async def test_commands_with_garbage(chat, db: Database, subtests):
    before = await snapshot(db)
    expected_text = {
        "menu": translated(
            "What would you like to know? Pick a section, or just type your question.", "en"
        ),
        "forget": forget_reply("en"),
        "unknown": translated("I don't know that command. Type /help to see what I can do.", "en"),
    }
    user: ChatDriver = chat("en")
    for command, expected in GARBAGE_COMMANDS:
        with subtests.test(command[:40]):
            requests = await user.send(command)
            reply = only_text(requests)
            assert_no_error_text(requests)
            if expected == "start":
                assert reply.endswith(translated("Choose your language:", "en"))
            elif expected == "help":
                assert "/language" in reply
            else:
                assert reply == expected_text[expected]
    await assert_store_unchanged(db, before, unanswered_growth=0)


# --- when something does fail ---------------------------------------------------------------


@pytest.mark.allow_handler_errors
@pytest.mark.parametrize("code", LOCALES)
async def test_a_failing_handler_gets_a_polite_reply(chat, dp: Dispatcher, monkeypatch, code):
    def broken(question: str) -> Any:
        raise RuntimeError("search index exploded")

    monkeypatch.setattr(dp["library"], "search", broken)
    user: ChatDriver = chat(code)
    assert only_text(await user.send("Когда выборы?")) == translated(ERROR_MSGID, code)
    # The next update is handled normally.
    assert only_text(await user.send("/menu")) == translated(
        "What would you like to know? Pick a section, or just type your question.", code
    )


@pytest.mark.allow_handler_errors
async def test_a_failing_button_gets_an_alert(chat, dp: Dispatcher, monkeypatch):
    def broken(entry_id: str) -> Any:
        raise RuntimeError("library is gone")

    monkeypatch.setattr(dp["library"], "entry", broken)
    user: ChatDriver = chat("ru")
    requests = await user.press("faq:parliament.kurultai")
    [ack] = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert (ack.text, ack.show_alert) == (translated(ERROR_MSGID, "ru"), True)


class BlockedSession(LocalSession):
    """Telegram answers 403 to every message: the user blocked the bot."""

    async def make_request(self, bot, method, timeout=None):
        if isinstance(method, SendMessage):
            self.requests.append(method)
            raise TelegramForbiddenError(method=method, message="Forbidden: bot was blocked")
        return await super().make_request(bot, method, timeout)


@pytest.mark.allow_handler_errors
async def test_a_blocked_user_does_not_break_the_dispatcher(settings, updates):
    session = BlockedSession()
    bot = local_bot(session)
    dispatcher = make_dispatcher(settings)
    await dispatcher.emit_startup(bot=bot, **dispatcher.workflow_data)
    try:
        user = ChatDriver(dispatcher, bot, session, updates("en"))
        await user.send("/menu")  # the reply fails: nothing raises, no apology is tried
        assert len(session.sent(SendMessage)) == 1
    finally:
        await dispatcher.emit_shutdown(bot=bot, **dispatcher.workflow_data)


# --- property: any text at all -------------------------------------------------------------


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.one_of(
        st.text(),
        st.text(min_size=1).map(lambda t: "/" + t),
        st.text(alphabet="абвгдеёжзиқңөұүһәі ?!.,", max_size=60),
    )
)
async def test_any_text_gets_exactly_one_reply(chat, db: Database, text: str):
    user: ChatDriver = chat("ru")
    before = await snapshot(db)
    requests = await user.send(text)
    replies = texts(requests)
    assert len(replies) == 1, (text, replies)
    assert replies[0].strip()
    assert_no_error_text(requests)
    await assert_store_unchanged(db, before)
