"""People, not only questions: feedback that reaches the operators, greetings and thanks,
/about with the operator's details, and answering in the language a message is written in."""

from __future__ import annotations

import asyncio
import io
import os
import threading

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import Chat
from conftest import (
    I18N,
    ChatDriver,
    buttons,
    find_button,
    forget_reply,
    make_dispatcher,
    only_text,
    texts,
    translated,
)

from bot.config import Settings
from bot.keyboards import LANGUAGE_NAMES, ForgetCb, LocateCb, MenuCb, OpCb, SwitchCb
from bot.people.language import detect_language
from bot.storage import Database
from bot.terminal import LOCATION_HINT, LocalSession, TerminalChat, UpdateFactory

ADMIN = 9001
PROMPT = (
    "What would you like to tell the people who run this bot? Write it in one message: "
    "what is wrong and where (your question and my answer), or your suggestion. "
    "Write nothing personal you would not want stored. /cancel to stop."
)
OFFER = (
    "Thank you for telling me. Tap the button below and write what is wrong or what "
    "you would like to say: it will reach the people who run this bot."
)
THANKS = (
    "Thank you! Your message has been passed on to the people who run this bot. "
    "Ask me anything else, or pick a section:"
)
PASSED_ON = "your question has been passed on to the people who keep my answers"
GREETING = "Hello! Ask me about elections in Kazakhstan in your own words, or pick a section:"
WELCOME = "You're welcome! Ask me anything else about the elections, or pick a section:"
HOW_ARE_YOU = (
    "I am fine, thank you! I am here to answer questions about elections in Kazakhstan: "
    "ask in your own words, or pick a section:"
)
NO_OPERATOR = (
    "The operator of this bot has not set their name or contact details. "
    "You can write to them with /feedback."
)
NOT_OFFICIAL = (
    "It is not an official service: official information is published by the Central "
    "Election Commission at election.gov.kz."
)
KURULTAI_RU = "Когда выборы в Курултай?"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_ids": frozenset({ADMIN})})


def person(dp: Dispatcher, bot: Bot, session: LocalSession, user_id: int, lang: str) -> ChatDriver:
    return ChatDriver(dp, bot, session, UpdateFactory(user_id=user_id, language_code=lang))


async def stored_feedback(db: Database) -> list[tuple[int, str, str]]:
    async with db.conn.execute("SELECT user_id, lang, text FROM feedback ORDER BY id") as cur:
        return [tuple(row) for row in await cur.fetchall()]


# --- feedback -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_feedback_command_stores_the_message_for_the_operators(
    dp, bot, session, db: Database, lang
):
    user = person(dp, bot, session, 601, lang)
    assert only_text(await user.send("/feedback")) == translated(PROMPT, lang)
    report = "The Moscow address <b>is</b> out of date"
    reply = only_text(await user.send(f"  {report} "))
    assert reply == translated(THANKS, lang)
    assert find_button(user.last_message().reply_markup, "sec:elections:0")
    assert await stored_feedback(db) == [(601, lang, report)]
    # The step is over: the next message is a question again, not feedback.
    await user.send(KURULTAI_RU)
    assert len(await stored_feedback(db)) == 1

    admin = person(dp, bot, session, ADMIN, "en")
    inbox = only_text(await admin.send("/feedback_inbox"))
    assert inbox.startswith("<b>" + translated("Feedback, newest first", "en") + "</b>")
    assert "The Moscow address &lt;b&gt;is&lt;/b&gt; out of date" in inbox  # escaped
    assert f"· {lang}" in inbox
    assert "601" not in inbox  # operators read what was written, not who wrote it


@pytest.mark.parametrize(
    ("message", "lang"),
    [
        ("I found a mistake", "en"),
        ("there is an error in your answer", "en"),
        ("хочу оставить отзыв", "ru"),
        ("В вашем ответе ошибка", "ru"),
        ("қате тапым", "kk"),
        ("Жауабыңда қате бар", "kk"),
    ],
)
async def test_reporting_a_mistake_in_words_offers_to_write_it(chat, db: Database, message, lang):
    user: ChatDriver = chat(lang)
    assert only_text(await user.send(message)) == translated(OFFER, lang)
    assert await db.unanswered() == [] and await db.unsure() == []
    # One tap, and the bot asks for the message.
    write = find_button(user.last_message().reply_markup, MenuCb(action="feedback").pack())
    assert write.text == "✍️ " + translated("Write feedback", lang)
    await user.press_button(write.callback_data or "")
    assert user.last_message().text == translated(PROMPT, lang)
    assert only_text(await user.send("Wrong hours for Istanbul")) == translated(THANKS, lang)
    assert await stored_feedback(db) == [(user.user_id, lang, "Wrong hours for Istanbul")]


async def test_the_menu_has_a_feedback_button(chat, db: Database):
    user: ChatDriver = chat("ru")
    await user.send("/menu")
    await user.press_button(MenuCb(action="feedback").pack())
    assert user.last_message().text == translated(PROMPT, "ru")
    await user.send("Ошибка в часах работы")
    assert await stored_feedback(db) == [(user.user_id, "ru", "Ошибка в часах работы")]


async def test_cancel_and_empty_messages_while_waiting(chat, db: Database):
    user: ChatDriver = chat("en")
    await user.send("/feedback")
    reply = only_text(await user.send("🙂 !!"))
    assert reply == translated("Please type your message in words, or /cancel.", "en")
    reply = only_text(await user.send("/cancel"))
    assert reply == translated("Cancelled. Ask me a question, or pick a section:", "en")
    await user.send("hello")
    assert await stored_feedback(db) == []


async def test_a_command_or_a_button_leaves_the_feedback_step(chat, db: Database):
    user: ChatDriver = chat("en")
    await user.send("/feedback")
    menu = only_text(await user.send("/menu"))
    assert menu == translated(
        "What would you like to know? Pick a section, or just type your question.", "en"
    )
    menu_message = user.last_message()
    await user.send("when is the next election")
    await user.send("/feedback")
    await user.press("sec:elections:0", menu_message)  # a button: the step ends too
    assert (user.last_message().text or "").startswith("<b>")  # the section opened
    await user.send("when is the next election")
    assert await stored_feedback(db) == []


async def test_forget_deletes_the_feedback(dp, bot, session, db: Database):
    user = person(dp, bot, session, 602, "kk")
    other = person(dp, bot, session, 603, "kk")
    for driver in (user, other):
        await driver.send("/feedback")
        await driver.send(f"Қате бар, {driver.user_id}")
    assert only_text(await user.send("/forget")) == forget_reply("kk")
    assert len(await stored_feedback(db)) == 2  # only a question so far
    done = only_text(await user.press(ForgetCb(confirm=True).pack(), user.last_message()))
    item = I18N.gettext(
        "{n} feedback message you wrote", "{n} feedback messages you wrote", 1, locale="kk"
    )
    assert item.format(n=1) in done
    assert await stored_feedback(db) == [(603, "kk", "Қате бар, 603")]
    # Nothing of the person beyond what they wrote: no name, username or chat.
    async with db.conn.execute("PRAGMA table_info(feedback)") as cur:
        columns = [row[1] for row in await cur.fetchall()]
    assert columns == ["id", "user_id", "lang", "text", "sent_at"]


async def test_feedback_in_a_group_points_to_the_private_chat(dp, bot, session, db: Database):
    user = person(dp, bot, session, 604, "en")
    user.updates.chat = Chat(id=-100, type="group")
    reply = only_text(await user.send("I found a mistake"))
    private_only = translated(
        "Feedback is taken in a private chat: open a chat with me and send /feedback.", "en"
    )
    assert reply == private_only
    assert only_text(await user.send("/feedback")) == private_only
    await user.send("/menu")
    # The local session files every sent message under a private chat: this one is the group's.
    in_group = user.last_message().model_copy(update={"chat": user.updates.chat})
    requests = await user.press(MenuCb(action="feedback").pack(), in_group)
    assert [r.text for r in requests if isinstance(r, AnswerCallbackQuery)] == [private_only]
    await user.send("@saylau_bot Nothing here is feedback")
    assert await stored_feedback(db) == []


# --- "passed on" only where it is true ------------------------------------------------------


async def test_an_unanswered_question_is_shown_to_operators(dp, bot, session, db: Database):
    user = person(dp, bot, session, 605, "en")
    reply = only_text(await user.send("recipe for chocolate cake"))
    assert PASSED_ON in reply
    admin = person(dp, bot, session, ADMIN, "ru")
    await admin.send("/admin")
    await admin.press_button(OpCb(action="unanswered").pack())
    shown = admin.last_message().text or ""
    assert translated("Questions the bot could not answer, newest first", "ru") in shown
    assert "recipe for chocolate cake" in shown and "· en" in shown
    await admin.press_button(OpCb(action="menu").pack())
    await admin.press_button(OpCb(action="feedback").pack())
    assert translated("No feedback yet.", "ru") in (admin.last_message().text or "")


async def test_in_a_group_nothing_is_stored_and_the_reply_does_not_say_it_is(
    dp, bot, session, db: Database
):
    user = person(dp, bot, session, 606, "en")
    user.updates.chat = Chat(id=-101, type="supergroup")
    reply = only_text(await user.send("@saylau_bot recipe for chocolate cake"))
    assert reply == translated(
        "Sorry, I don't know the answer to that. I only answer questions about elections in "
        "Kazakhstan. Try other words, or pick a section:",
        "en",
    )
    assert await db.unanswered() == []


# --- greetings and thanks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "reply", "lang"),
    [
        ("привет", GREETING, "ru"),
        ("Hello", GREETING, "en"),
        ("Сәлем", GREETING, "kk"),
        ("рахмет", WELCOME, "kk"),
        ("thanks!", WELCOME, "en"),
        ("Спасибо!", WELCOME, "ru"),
        ("hi how are you", HOW_ARE_YOU, "en"),
        ("сәлем қалайсың", HOW_ARE_YOU, "kk"),
        ("Привет, как дела?", HOW_ARE_YOU, "ru"),
    ],
)
async def test_greetings_and_thanks_get_what_a_person_expects(
    chat, db: Database, message, reply, lang
):
    user: ChatDriver = chat(lang)
    assert only_text(await user.send(message)) == translated(reply, lang)
    assert find_button(user.last_message().reply_markup, "sec:elections:0")
    assert await db.unanswered() == []


# --- /about ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_about_without_operator_details_says_so(chat, lang):
    text = only_text(await chat(lang).send("/about"))
    assert translated(NO_OPERATOR, lang) in text
    assert translated(NOT_OFFICIAL, lang) in text


async def test_about_names_the_operator_and_their_contact(
    settings: Settings, bot, session, updates
):
    configured = settings.model_copy(
        update={"operator_name": "Civic <Lab>", "operator_contact": "@civic_lab"}
    )
    dispatcher = make_dispatcher(configured)
    await dispatcher.emit_startup(bot=bot, **dispatcher.workflow_data)
    try:
        user = ChatDriver(dispatcher, bot, session, updates("ru"))
        text = only_text(await user.send("/about"))
        expected = translated("This bot is run by {name}. Contact: {contact}.", "ru")
        assert expected.format(name="Civic &lt;Lab&gt;", contact="@civic_lab") in text
        assert translated(NOT_OFFICIAL, "ru") in text
        # Asked in words, or opened from the About section, the about answer says the same.
        assert "@civic_lab" in only_text(await user.send("кто ведёт этого бота"))
        await user.press("faq:bot.about", user.last_message())
        assert "@civic_lab" in (user.last_message().text or "")
    finally:
        await dispatcher.emit_shutdown(bot=bot, **dispatcher.workflow_data)


# --- the language of the message ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("saılaý qashan ótedi", "kk"),
        ("saylau qashan bolady", "kk"),
        ("Stambulda uchaske bar ma", "kk"),
        ("qate taptym", "kk"),
        ("when is the election", "en"),
        ("where can I vote in Istanbul", "en"),
        ("what about Qatar", "en"),
        ("Сайлау қашан?", "kk"),
        ("сайлау кашан болады", "kk"),
        ("Когда выборы?", "ru"),
        ("9-бап не туралы?", "kk"),
        ("не знаю", None),
        ("За кого голосовать: Аманат или Ақ жол?", "ru"),
        ("Istanbul", None),
        ("Qatar", None),
        ("Алматы", None),
        ("privet kak dela", None),
        ("Où voter à Paris", None),
        ("🙂", None),
        ("zzqx zzqx zzqx", None),
    ],
)
def test_the_language_of_a_message_is_detected_only_when_clear(text, lang):
    assert detect_language(text) == lang


async def test_a_question_in_another_language_is_answered_in_it_with_a_switch(
    chat, dp: Dispatcher, db: Database
):
    entry = dp["library"].entry("parliament.kurultai_election")
    user: ChatDriver = chat("en")  # Telegram says English; nothing chosen
    text = only_text(await user.send(KURULTAI_RU))
    assert entry.text("ru").answer in text
    answer = user.last_message()
    switch = find_button(answer.reply_markup, SwitchCb(code="ru").pack())
    expected = translated("Always answer in: {language}", "ru").format(
        language=LANGUAGE_NAMES["ru"]
    )
    assert switch.text == "🌐 " + expected

    requests = await user.press(switch.callback_data or "", answer)
    assert await db.get_locale(user.user_id) == "ru"
    assert texts(requests) == [
        translated("Done! Ask me a question in your own words, or pick a section:", "ru")
    ]
    # The answer stays where it was; the chosen language now holds for every message.
    assert session_text(user, answer) == answer.text
    reply = only_text(await user.send("When was the Kurultai election?"))
    assert entry.text("ru").answer in reply
    assert not [b for b in buttons(user.last_message().reply_markup) if "switch" in b.callback_data]


async def test_a_question_in_the_users_own_language_offers_no_switch(chat):
    user: ChatDriver = chat("ru")
    await user.send(KURULTAI_RU)
    assert not [b for b in buttons(user.last_message().reply_markup) if "switch" in b.callback_data]


def session_text(user: ChatDriver, message) -> str | None:
    return user.session.messages[(message.chat.id, message.message_id)].text


# --- the terminal chat ----------------------------------------------------------------------


async def test_terminal_chat_shows_how_to_share_a_location(dp: Dispatcher):
    out = io.StringIO()
    terminal = TerminalChat(dp, language_code="en", out=out)
    await terminal.send("/menu")
    await terminal.send(number_of(terminal, "sec:abroad:0"))
    await terminal.send(number_of(terminal, LocateCb().pack()))
    shown = out.getvalue()
    assert f"[📍 {translated('Share my location', 'en')}] {LOCATION_HINT}" in shown
    await terminal.send("/loc 41.01 28.98")  # the hint's own example is understood
    after = out.getvalue()[len(shown) :]
    assert "Istanbul" in after, after


async def test_terminal_chat_quits_cleanly_when_cancelled(settings: Settings):
    """Ctrl-C: asyncio.run cancels the chat's task, which says goodbye and closes the store;
    the thread waiting for a line does not keep the process alive (it is a daemon)."""
    read_end, write_end = os.pipe()
    out = PromptWatch()
    dispatcher = make_dispatcher(settings)
    with os.fdopen(read_end) as lines:
        task = asyncio.create_task(TerminalChat(dispatcher, "en", out=out).run(lines))
        await asyncio.wait_for(out.prompted.wait(), timeout=60)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert out.getvalue().endswith("Bye.\n")
        assert dispatcher["db"]._conn is None  # closed by the shutdown hook
        readers = [t for t in threading.enumerate() if t.name == "terminal-input"]
        assert readers and all(t.daemon for t in readers)
        os.close(write_end)  # end of input: the reader thread ends


class PromptWatch(io.StringIO):
    """Terminal output that tells when the chat waits for a line."""

    def __init__(self) -> None:
        super().__init__()
        self.prompted = asyncio.Event()

    def write(self, text: str) -> int:
        if "> " in text:
            self.prompted.set()
        return super().write(text)


def number_of(terminal: TerminalChat, data: str) -> str:
    """The number to type for the button with this callback data."""
    numbers = [str(n) for n, (_, d, _) in enumerate(terminal.buttons, 1) if d == data]
    assert numbers, f"no button {data} in {terminal.buttons}"
    return numbers[0]
