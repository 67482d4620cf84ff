"""The handlers, through the production Dispatcher and an in-process Bot API session."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from aiogram import Dispatcher
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, SendMessage, SetMyCommands
from babel.dates import format_date
from conftest import (
    I18N,
    TODAY,
    ChatDriver,
    all_translations,
    buttons,
    find_button,
    forget_reply,
    kept_line,
    make_dispatcher,
    only_text,
    translated,
)

from bot import LOCALES
from bot.config import Settings
from bot.handlers.menu import help_text
from bot.keyboards import PAGE_SIZE, LangCb
from bot.library import Library
from bot.people.language import detect_language
from bot.render import MAX_SOURCE_LINKS, answer_sources, first_sources, source_link
from bot.storage import Database
from bot.terminal import LocalSession, local_bot

GREETING = (
    "Hello! I am Saylau, a bot that answers questions about elections in Kazakhstan: dates, "
    "voting abroad, parties and the new Constitution."
)
CHOOSE = "Choose your language:"
SAVED = "Done! Ask me a question in your own words, or pick a section:"
MENU = "What would you like to know? Pick a section, or just type your question."
DONT_KNOW = (
    "Sorry, I don't know the answer to that. I only answer questions about elections in "
    "Kazakhstan; your question has been passed on to the people who keep my answers up to date. "
    "Try other words, or pick a section:"
)
NOT_SURE = "I am not sure I understood. Did you mean one of these?"
SOURCES_WORD = {"kk": "Дереккөздер", "ru": "Источники", "en": "Sources"}
OFF_TOPIC = {
    "en": "recipe for chocolate cake",
    "ru": "курс доллара",
    "kk": "шоколад торт рецепті",
}
# Questions an entry answers with certainty: one of its own phrasings, or close to one.
KURULTAI_ELECTION = {
    "ru": "Когда выборы в Курултай?",
    "kk": "Құрылтай сайлауы қашан өтті?",
    "en": "When was the Kurultai election?",
}
# Vague questions; the search should hesitate on at least one of them.
VAGUE = ("voting", "конституция", "is the senate still a thing")


def marked(markup: object) -> list[str]:
    return [b.callback_data or "" for b in buttons(markup) if b.text.startswith("✅")]


def in_locale(fn, lang: str) -> str:
    """What a text-building function of the bot says in `lang`."""
    with I18N.context(), I18N.use_locale(lang):
        return fn()


def library(dp: Dispatcher) -> Library:
    return dp["library"]  # type: ignore[no-any-return]


# --- /start and the language ---------------------------------------------------------------


@pytest.mark.parametrize("code", ["kk", "ru", "en"])
async def test_start_greets_in_all_languages_and_marks_telegram_language(chat, code):
    user: ChatDriver = chat(code)
    requests = await user.send("/start")

    [reply] = [r for r in requests if isinstance(r, SendMessage)]
    for greeting in all_translations(GREETING).values():
        assert greeting in reply.text
    assert reply.text.endswith(translated(CHOOSE, code))
    assert [b.callback_data for b in buttons(reply.reply_markup)] == [
        LangCb(code=c).pack() for c in LOCALES
    ]
    assert marked(reply.reply_markup) == [LangCb(code=code).pack()]


@pytest.mark.parametrize("code", ["de", None, "", "zz-ZZ"])
async def test_start_with_another_telegram_language_speaks_kazakh(chat, code):
    user: ChatDriver = chat(code)
    text = only_text(await user.send("/start"))
    for greeting in all_translations(GREETING).values():
        assert greeting in text
    assert text.endswith(translated(CHOOSE, "kk"))


async def test_start_with_another_telegram_language_marks_nothing(chat):
    user: ChatDriver = chat("de")
    await user.send("/start")
    assert marked(user.last_message().reply_markup) == []


@pytest.mark.parametrize("choice", ["kk", "ru", "en"])
async def test_pressing_a_language_saves_it_and_answers_in_it(chat, db: Database, choice):
    user: ChatDriver = chat("en" if choice != "en" else "ru")
    await user.send("/start")
    requests = await user.press_button(LangCb(code=choice).pack())

    assert await db.get_locale(user.user_id) == choice
    [ack] = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert ack.text == translated("Language saved.", choice)
    # The greeting is replaced in place by the confirmation and the main menu.
    assert only_text(requests) == translated(SAVED, choice)
    shown = user.last_message()
    assert shown.text == translated(SAVED, choice)
    assert find_button(shown.reply_markup, "sec:elections:0")


async def test_saved_language_beats_telegram_language(chat, db: Database):
    user: ChatDriver = chat("en")
    await user.send("/start")
    await user.press_button("lang:ru")
    # Later updates still carry language_code "en".
    assert user.updates.user.language_code == "en"
    assert only_text(await user.send("/menu")) == translated(MENU, "ru")
    text = only_text(await user.send(KURULTAI_ELECTION["en"]))
    assert SOURCES_WORD["ru"] in text
    # /start again: the keyboard marks the saved choice, not Telegram's language.
    await user.send("/start")
    assert marked(user.last_message().reply_markup) == ["lang:ru"]
    # A second user with the same Telegram language is not affected.
    other: ChatDriver = chat("en")
    assert only_text(await other.send("/menu")) == translated(MENU, "en")
    assert await db.get_locale(other.user_id) is None


async def test_language_command_and_menu_button(chat):
    user: ChatDriver = chat("ru")
    text = only_text(await user.send("/language"))
    assert text == translated(CHOOSE, "ru")
    assert marked(user.last_message().reply_markup) == ["lang:ru"]
    await user.send("/menu")
    requests = await user.press_button("menu:language")
    assert only_text(requests) == translated(CHOOSE, "ru")
    await user.press_button("lang:en")
    assert user.last_message().text == translated(SAVED, "en")


# --- the menu and its sections -------------------------------------------------------------


@pytest.mark.parametrize("code", ["kk", "ru", "en"])
async def test_menu_shows_sections(chat, code):
    user: ChatDriver = chat(code)
    text = only_text(await user.send("/menu"))
    assert text == translated(MENU, code)
    data = [b.callback_data for b in buttons(user.last_message().reply_markup)]
    for section in ("elections", "abroad", "parties", "constitution", "about"):
        assert f"sec:{section}:0" in data
    labels = [b.text for b in buttons(user.last_message().reply_markup)]
    assert any(translated("Elections and dates", code) in label for label in labels)


async def test_section_lists_its_entries(chat, dp: Dispatcher):
    content = library(dp).content
    section = next(
        s for s in ("abroad", "about", "parties") if 0 < len(content.published(s)) <= PAGE_SIZE
    )
    entries = content.published(section)
    user: ChatDriver = chat("en")
    await user.send("/menu")
    requests = await user.press_button(f"sec:{section}:0")

    assert any(isinstance(r, AnswerCallbackQuery) for r in requests)
    text = only_text(requests)
    assert translated("Pick a question:", "en") in text
    markup = user.last_message().reply_markup
    entry_buttons = [b for b in buttons(markup) if (b.callback_data or "").startswith("faq:")]
    assert [b.callback_data for b in entry_buttons] == [f"faq:{e.id}" for e in entries]
    assert [b.text for b in entry_buttons] == [library(dp).title(e, "en") for e in entries]
    assert not any(b.text in ("▶️", "◀️") for b in buttons(markup))
    assert find_button(markup, "menu:main")


@pytest.mark.parametrize("code", LOCALES)
async def test_section_buttons_show_the_titles_written_for_them(chat, dp: Dispatcher, code):
    entries = library(dp).content.published("abroad")
    assert 0 < len(entries) <= PAGE_SIZE
    user: ChatDriver = chat(code)
    await user.send("/menu")
    await user.press_button("sec:abroad:0")
    labels = {
        b.callback_data: b.text
        for b in buttons(user.last_message().reply_markup)
        if b.callback_data.startswith("faq:")
    }
    assert labels == {f"faq:{e.id}": e.text(code).title for e in entries}
    # Written for the button: not the entry's first phrasing.
    assert any(e.text(code).title != e.text(code).questions[0] for e in entries)


async def test_long_section_is_paged(chat, dp: Dispatcher):
    entries = library(dp).content.published("elections")
    assert len(entries) > PAGE_SIZE, "the test needs a section with more than one page"
    pages = -(-len(entries) // PAGE_SIZE)
    user: ChatDriver = chat("ru")
    await user.send("/menu")
    await user.press_button("sec:elections:0")
    first = buttons(user.last_message().reply_markup)
    assert [b.callback_data for b in first if b.callback_data.startswith("faq:")] == [
        f"faq:{e.id}" for e in entries[:PAGE_SIZE]
    ]
    assert "◀️" not in [b.text for b in first]
    assert f"1/{pages}" in [b.text for b in first]

    await user.press_button("▶️")
    second = buttons(user.last_message().reply_markup)
    assert [b.callback_data for b in second if b.callback_data.startswith("faq:")] == [
        f"faq:{e.id}" for e in entries[PAGE_SIZE : 2 * PAGE_SIZE]
    ]
    assert f"2/{pages}" in [b.text for b in second]
    assert "◀️" in [b.text for b in second]

    await user.press_button("◀️")
    assert [b.callback_data for b in buttons(user.last_message().reply_markup)] == [
        b.callback_data for b in first
    ]


@pytest.mark.parametrize("page", [-5, 99])
async def test_page_out_of_range_is_clamped(chat, page):
    user: ChatDriver = chat("en")
    text = only_text(await user.press(f"sec:elections:{page}"))
    assert translated("Pick a question:", "en") in text
    assert any(
        b.callback_data.startswith("faq:") for b in buttons(user.last_message().reply_markup)
    )


@pytest.mark.parametrize("code", ["kk", "ru", "en"])
async def test_entry_shows_answer_sources_and_verified_date(chat, dp: Dispatcher, code):
    entry = library(dp).entry("voting.hours")
    assert entry is not None
    user: ChatDriver = chat(code)
    await user.send("/menu")
    await user.press_button("sec:elections:0")
    requests = await user.press_button(f"faq:{entry.id}")

    text = only_text(requests)
    assert entry.text(code).answer in text
    assert SOURCES_WORD[code] in text
    assert translated("Sources: {sources}", code).split("{")[0] in text
    verified = format_date(entry.verified, "long", locale=code)
    assert translated("Verified on {date}", code).format(date=verified) in text
    # The back button returns to the entry's section.
    markup = user.last_message().reply_markup
    assert find_button(markup, f"sec:{entry.section}:0")
    await user.press_button(f"sec:{entry.section}:0")
    assert translated("Pick a question:", code) in user.last_message().text


async def test_verified_date_is_formatted_per_language(chat, dp: Dispatcher):
    day = date(2026, 11, 22)
    expected = {"kk": "қараша", "ru": "ноября", "en": "November 22, 2026"}
    for code, word in expected.items():
        assert word in format_date(day, "long", locale=code)
        user: ChatDriver = chat(code)
        text = only_text(await user.press("faq:parliament.kurultai"))
        assert word in text


async def test_next_vote_uses_the_clock(chat, dp: Dispatcher):
    """voting.next is built from elections.yaml and the injected clock (22 Nov 2026)."""
    content = library(dp).content
    user: ChatDriver = chat("en")
    text = only_text(await user.press("faq:voting.next"))
    upcoming = [v for v in content.votes if v.status == "announced" and v.date and v.date >= TODAY]
    if not upcoming:
        assert translated("No upcoming vote with a date is announced in our data.", "en") in text
        held = sorted((v for v in content.votes if v.status == "held"), key=lambda v: v.sort_key)
        assert translated("The most recent vote in our data:", "en") in text
        assert held[-1].title.get("en") in text
    assert "election.gov.kz" in text
    assert SOURCES_WORD["en"] in text


@pytest.mark.parametrize("code", LOCALES)
async def test_a_long_answer_shows_three_sources_and_a_button_for_the_rest(
    chat, dp: Dispatcher, code
):
    content = library(dp).content
    entry = library(dp).entry("voting.next")
    assert entry is not None
    every = answer_sources(content, entry, TODAY)
    assert len(every) > MAX_SOURCE_LINKS  # the next-vote answer rests on many
    user: ChatDriver = chat(code)
    text = only_text(await user.press("faq:voting.next"))
    # The answer first, then at most three links and how many more there are.
    assert text.index("election.gov.kz") < text.index(SOURCES_WORD[code])
    footer = text[text.index(SOURCES_WORD[code]) :]
    assert footer.count("<a ") <= MAX_SOURCE_LINKS
    rest = len(every) - len(first_sources(every))
    assert I18N.gettext("and {n} more", "and {n} more", rest, locale=code).format(n=rest) in text
    await user.press_button("src:voting.next")
    full = user.last_message().text or ""
    assert full.startswith(text.split("\n")[0])  # the same answer, now with every source
    for source in every:
        assert source_link(source) in full
    assert not any(
        b.callback_data == "src:voting.next" for b in buttons(user.last_message().reply_markup)
    )


async def test_a_short_answer_has_no_more_sources_button(chat, dp: Dispatcher):
    content = library(dp).content
    short = [e for e in content.published() if len(answer_sources(content, e, TODAY)) == 1]
    assert short
    user: ChatDriver = chat("en")
    await user.press(f"faq:{short[0].id}")
    markup = user.last_message().reply_markup
    assert not any((b.callback_data or "").startswith("src:") for b in buttons(markup))


@pytest.mark.parametrize("data", ["src:nope", "src:", "src", "src:voting.next:extra"])
async def test_forged_sources_buttons_get_a_polite_reply(chat, data):
    user: ChatDriver = chat("en")
    requests = await user.press(data)
    acks = [r.text for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert acks == [translated("This button is out of date.", "en")]
    assert translated("Here is the current menu:", "en") in (user.last_message().text or "")


async def test_next_vote_counts_down_to_an_announced_vote(settings: Settings, updates):
    async with Database(settings.database_path) as store:
        content = await store.load_content()
    announced = [v for v in content.votes if v.status == "announced"]
    if not announced:
        pytest.skip("no announced vote in data/")
    vote = announced[0]
    if vote.date:
        today = vote.date - timedelta(days=3)
    else:
        year, month = (int(x) for x in (vote.month or "").split("-"))
        today = date(year, month, 1)
    session = LocalSession()
    bot = local_bot(session)
    dispatcher = make_dispatcher(settings, today=today)
    await dispatcher.emit_startup(bot=bot, **dispatcher.workflow_data)
    try:
        user = ChatDriver(dispatcher, bot, session, updates("ru"))
        text = only_text(await user.press("faq:voting.next"))
    finally:
        await dispatcher.emit_shutdown(bot=bot, **dispatcher.workflow_data)
    assert translated("The next vote:", "ru") in text
    assert vote.title.get("ru") in text
    if vote.date:
        assert I18N.gettext("{n} day left", "{n} days left", 3, locale="ru").format(n=3) in text


# --- free-text questions ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ru", "kk", "en"])
async def test_question_is_answered_in_the_users_language(chat, dp: Dispatcher, code):
    entry = library(dp).entry("parliament.kurultai_election")
    assert entry is not None
    user: ChatDriver = chat(code)
    text = only_text(await user.send(KURULTAI_ELECTION[code]))
    assert entry.text(code).answer in text
    assert SOURCES_WORD[code] in text
    assert find_button(user.last_message().reply_markup, f"sec:{entry.section}:0")


async def test_question_in_another_language_than_the_chosen_one(chat, dp: Dispatcher):
    """A language the user chose is kept whatever they write in (tests/test_people.py has
    the user who has not chosen one)."""
    entry = library(dp).entry("parliament.kurultai_election")
    assert entry is not None
    user: ChatDriver = chat("ru")
    await user.send("/start")
    await user.press_button("lang:en")
    text = only_text(await user.send(KURULTAI_ELECTION["ru"]))
    assert entry.text("en").answer in text
    assert not [b for b in buttons(user.last_message().reply_markup) if "switch" in b.callback_data]


async def test_unsure_question_offers_entries_that_open(chat, dp: Dispatcher):
    lib = library(dp)
    vague = next((q for q in VAGUE if lib.search(q).suggestions), None)
    assert vague is not None, f"none of {VAGUE} makes the search hesitate"
    suggested = lib.search(vague).suggestions

    user: ChatDriver = chat("en")
    text = only_text(await user.send(vague))
    assert text == translated(NOT_SURE, "en")
    markup = user.last_message().reply_markup
    offered = [b for b in buttons(markup) if b.callback_data.startswith("faq:")]
    assert [b.callback_data for b in offered] == [f"faq:{s}" for s in suggested]
    assert find_button(markup, "menu:main")

    entry = lib.entry(suggested[0])
    assert entry is not None
    assert offered[0].text == lib.title(entry, "en")
    answer = only_text(await user.press_button(offered[0].callback_data))
    assert entry.text("en").answer in answer


async def test_unsure_question_is_recorded_with_what_was_offered(chat, dp: Dispatcher, db):
    lib = library(dp)
    vague = next(q for q in VAGUE if lib.search(q).suggestions)
    await chat("en").send(vague)
    [(stored, lang, asked_at, offered)] = await db.unsure()
    assert (stored, lang, offered) == (vague, "en", list(lib.search(vague).suggestions))
    assert datetime.fromisoformat(asked_at).tzinfo is not None
    assert await db.unanswered() == []  # the two lists stay apart


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        (
            "Сәлеметсіз бе!",
            "Hello! Ask me about elections in Kazakhstan in your own words, or pick a section:",
        ),
        (
            "спасибо большое",
            "You're welcome! Ask me anything else about the elections, or pick a section:",
        ),
        (
            "hi, how are you?",
            "I am fine, thank you! I am here to answer questions about elections in Kazakhstan: "
            "ask in your own words, or pick a section:",
        ),
    ],
)
@pytest.mark.parametrize("code", ["kk", "ru", "en"])
async def test_small_talk_gets_a_reply_and_the_menu(chat, db: Database, message, reply, code):
    user: ChatDriver = chat(code)
    # No language chosen yet: the reply is in the language of the message.
    written = detect_language(message)
    assert written is not None
    assert only_text(await user.send(message)) == translated(reply, written)
    assert find_button(user.last_message().reply_markup, "sec:elections:0")
    assert await db.unanswered() == [] and await db.unsure() == []


async def test_greeting_with_a_question_answers_the_question(chat, dp: Dispatcher):
    entry = library(dp).entry("parliament.kurultai_election")
    assert entry is not None
    text = only_text(await chat("ru").send("Привет! " + KURULTAI_ELECTION["ru"]))
    assert entry.text("ru").answer in text


@pytest.mark.parametrize(
    "question",
    [
        "За кого голосовать: Аманат или Ақ жол?",
        "Should I vote for Respublica?",
        "Аманатқа дауыс берейін бе?",
    ],
)
async def test_a_request_for_a_recommendation_gets_the_neutrality_answer(
    chat, dp: Dispatcher, question
):
    entry = library(dp).entry("bot.neutrality")
    assert entry is not None
    written = detect_language(question) or "en"  # no language chosen: the question's
    assert entry.text(written).answer in only_text(await chat("en").send(question))


@pytest.mark.parametrize("code", ["kk", "ru", "en"])
async def test_off_topic_question_is_recorded_without_the_user(chat, dp: Dispatcher, db, code):
    question = OFF_TOPIC[code]
    result = library(dp).search(question)
    assert result.answer is None and not result.suggestions, "the question is not off-topic"
    user: ChatDriver = chat(code)
    text = only_text(await user.send(f"  {question}  "))
    assert text == translated(DONT_KNOW, code)
    assert find_button(user.last_message().reply_markup, "sec:elections:0")

    [(stored, lang, asked_at)] = await db.unanswered()
    assert (stored, lang) == (question, code)
    assert datetime.fromisoformat(asked_at).tzinfo is not None
    async with db.conn.execute("PRAGMA table_info(unanswered)") as cur:
        columns = [row[1] for row in await cur.fetchall()]
    assert columns == ["id", "text", "lang", "asked_at", "suggested"]
    async with db.conn.execute("SELECT * FROM unanswered") as cur:
        rows = await cur.fetchall()
    assert all(str(user.user_id) not in map(str, row[1:]) for row in rows)


async def test_answered_questions_are_not_recorded(chat, db: Database):
    user: ChatDriver = chat("ru")
    await user.send(KURULTAI_ELECTION["ru"])
    assert await db.unanswered() == []


# --- commands about the bot ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["kk", "ru", "en"])
async def test_help(chat, code):
    user: ChatDriver = chat(code)
    text = only_text(await user.send("/help"))
    for command in ("/menu", "/language", "/about", "/forget"):
        assert command in text
    assert text == in_locale(help_text, code)
    assert find_button(user.last_message().reply_markup, "sec:elections:0")


@pytest.mark.parametrize("code", ["kk", "ru", "en"])
async def test_about_shows_the_about_entry(chat, dp: Dispatcher, code):
    entry = library(dp).entry("bot.about")
    assert entry is not None
    user: ChatDriver = chat(code)
    text = only_text(await user.send("/about"))
    assert entry.text(code).answer in text
    assert SOURCES_WORD[code] in text


async def test_forget_deletes_the_saved_language(chat, db: Database):
    user: ChatDriver = chat("en")
    await user.send("/start")
    await user.press_button("lang:ru")
    assert await db.get_locale(user.user_id) == "ru"

    assert only_text(await user.send("/forget")) == forget_reply("ru")
    assert await db.get_locale(user.user_id) == "ru"  # nothing before the confirmation
    text = only_text(await user.press_button("forget:1"))
    # Confirmed in the language in use when the button arrived, saying what stays.
    assert translated("your language choice", "ru") in text
    assert text.endswith(kept_line("ru"))
    assert await db.get_locale(user.user_id) is None
    async with db.conn.execute("SELECT COUNT(*) FROM users WHERE id = ?", (user.user_id,)) as c:
        assert (await c.fetchone())[0] == 0
    # Back to Telegram's language.
    assert only_text(await user.send("/menu")) == translated(MENU, "en")


async def test_forget_without_saved_data_is_fine(chat, db: Database):
    user: ChatDriver = chat("kk")
    assert only_text(await user.send("/forget")) == forget_reply("kk")
    text = only_text(await user.press_button("forget:1"))
    assert text.startswith(translated("Done. The bot stored nothing about you.", "kk"))
    assert await db.get_locale(user.user_id) is None


async def test_main_menu_button_returns_to_the_menu(chat):
    user: ChatDriver = chat("kk")
    await user.press("faq:parliament.kurultai")
    requests = await user.press_button("menu:main")
    assert only_text(requests) == translated(MENU, "kk")


async def test_pressing_the_same_button_twice_is_not_an_error(chat):
    user: ChatDriver = chat("en")
    await user.send("/menu")
    await user.press_button("sec:abroad:0")
    message = user.last_message()
    requests = await user.press("sec:abroad:0", message)
    assert any(isinstance(r, AnswerCallbackQuery) for r in requests)
    assert translated("Pick a question:", "en") in user.last_message().text


async def test_every_main_menu_button_leads_somewhere(chat):
    user: ChatDriver = chat("en")
    await user.send("/menu")
    menu = user.last_message()
    for button in buttons(menu.reply_markup):
        requests = await user.press(button.callback_data, menu)
        acks = [r.text for r in requests if isinstance(r, AnswerCallbackQuery)]
        assert len(acks) == 1, button.text
        assert translated("This button is out of date.", "en") not in acks, button.text
        assert only_text(requests) != translated("Here is the current menu:", "en")


# --- the command menu (set_my_commands) ------------------------------------------------------


async def test_commands_are_set_in_every_language(dp: Dispatcher, session: LocalSession):
    calls = session.sent(SetMyCommands)
    assert [c.language_code for c in calls] == [None, "kk", "ru", "en"]
    by_lang = {c.language_code: c.commands for c in calls}
    for lang in LOCALES:
        names = [c.command for c in by_lang[lang]]
        assert names == [
            "menu", "help", "language", "about", "remind", "feedback", "stop", "forget", "start"
        ]  # fmt: skip
        descriptions = {c.command: c.description for c in by_lang[lang]}
        assert descriptions["menu"] == translated("Sections to browse", lang)
        assert descriptions["forget"] == translated("Delete my data", lang)
    assert len({by_lang[lang][0].description for lang in LOCALES}) == 3
    # Clients with another language get the default locale's (Kazakh) commands.
    assert by_lang[None] == by_lang["kk"]


class CommandsFail(LocalSession):
    def __init__(self, error: type[Exception]) -> None:
        super().__init__()
        self.error = error

    async def make_request(self, bot, method, timeout=None):
        if isinstance(method, SetMyCommands):
            self.requests.append(method)
            if self.error is TelegramRetryAfter:
                raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=5)
            raise self.error(method=method, message="Bad Request: no commands for you")
        return await super().make_request(bot, method, timeout)


@pytest.mark.parametrize("error", [TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter])
async def test_set_commands_failure_does_not_stop_startup(settings: Settings, updates, error):
    session = CommandsFail(error)
    bot = local_bot(session)
    dispatcher = make_dispatcher(settings)
    await dispatcher.emit_startup(bot=bot, **dispatcher.workflow_data)
    try:
        assert len(session.sent(SetMyCommands)) == 4  # every language was still tried
        assert library(dispatcher).entry("parliament.kurultai") is not None
        user = ChatDriver(dispatcher, bot, session, updates("ru"))
        assert only_text(await user.send("/menu")) == translated(MENU, "ru")
    finally:
        await dispatcher.emit_shutdown(bot=bot, **dispatcher.workflow_data)


@pytest.mark.parametrize(
    ("lang", "question"),
    [("en", "article 200"), ("kk", "200-бап"), ("ru", "статья 200"), ("ru", "что в статье 200?")],
)
async def test_an_article_the_content_does_not_cover_says_so_and_lists_the_covered_ones(
    chat, dp: Dispatcher, lang: str, question: str
):
    """Article 200 is not Article 5: the reply names what is covered, with a button for each."""
    covered = library(dp).covered_articles()
    numbers = [n for n, _ in covered]
    assert {5, 9, 43} <= set(numbers) and 200 not in numbers
    user: ChatDriver = chat(lang)
    message = (await user.send(question))[-1]
    text = message.text or ""
    not_covered = I18N.gettext(
        "Our answers do not cover article {numbers} of the new Constitution.",
        "Our answers do not cover articles {numbers} of the new Constitution.",
        1,
        locale=lang,
    )
    assert not_covered.format(numbers="200") in text
    listed = translated(
        "Articles our answers cover: {articles}. Pick one below, or ask about a topic in "
        "your own words.",
        lang,
    ).format(articles=", ".join(str(n) for n in numbers))
    assert listed in text
    treaties = library(dp).entry("constitution.treaties").text(lang).answer.split("\n")[0]
    assert treaties not in text
    assert [b.callback_data for b in buttons(message.reply_markup)][: len(covered)] == [
        f"faq:{entry.id}" for _, entry in covered
    ]
