"""Free-text questions, and everything else a user may send that is not a button or command.

Registered last: it catches whatever the other routers did not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.delivery.metrics import Metrics, search_outcome
from bot.handlers import abroad, feedback
from bot.handlers.common import acknowledge, show
from bot.keyboards import (
    SourcesCb,
    entry_keyboard,
    main_menu,
    menu_button,
    suggestions_keyboard,
    with_switch,
)
from bot.library import UNCOVERED_ARTICLE, Library
from bot.operators.usage import ANSWERED, UNANSWERED, UNSURE
from bot.people.talk import small_talk, with_operator
from bot.render import more_sources, render_answer, uncovered_articles
from bot.search.articles import article_numbers
from bot.search.engine import FEEDBACK
from bot.storage import Database


async def unknown_command(message: Message) -> None:
    await message.answer(
        _("I don't know that command. Type /help to see what I can do."), reply_markup=main_menu()
    )


async def question(
    message: Message,
    library: Library,
    db: Database,
    i18n: I18n,
    today: Callable[[], date],
    settings: Settings,
    metrics: Metrics,
    offer_locale: str | None = None,
) -> None:
    """`offer_locale`: the language the question was detected in and answered in, which the
    user has not chosen: every reply then offers to keep it."""
    text = (message.text or "").strip()
    if message.chat.type != "private" and message.bot is not None:
        # In a group the question is addressed to the bot: the mention is not part of it.
        me = await message.bot.me()
        text = re.sub(rf"@{re.escape(me.username or '')}\b", " ", text, flags=re.I).strip()
    lang = i18n.current_locale
    if not any(ch.isalnum() for ch in text):
        # Only spaces, punctuation, emoji or invisible marks: nothing to search or to record.
        await message.answer(_("Please type your question in words."), reply_markup=main_menu())
        return
    result = library.search(text)
    day = today()
    # A place abroad ("Стамбулда учаске бар ма?", "Italy") gets its station card.
    placed = await abroad.answer_places(message, library, result, lang, day)
    metrics.searches.inc("answered" if placed else search_outcome(result))
    if placed:
        await db.count_question(day, ANSWERED)
        return
    if result.answer is not None:
        entry = library.entry(result.answer.entry_id)
        if entry is not None:
            await db.count_question(day, ANSWERED, entry.id)
            answer = with_operator(
                render_answer(library.content, entry, lang, day),
                entry.id,
                settings.operator_name,
                settings.operator_contact,
            )
            await message.answer(
                answer,
                reply_markup=with_switch(
                    entry_keyboard(entry.section, more_sources(library.content, entry, day)),
                    offer_locale,
                ),
                disable_web_page_preview=True,
            )
            return
    if result.intent == UNCOVERED_ARTICLE:
        await db.count_question(day, UNANSWERED)
        covered = library.covered_articles()
        await message.answer(
            uncovered_articles(article_numbers(text), [n for n, _entry in covered]),
            reply_markup=with_switch(
                suggestions_keyboard(
                    [(entry.id, library.title(entry, lang)) for _n, entry in covered]
                ),
                offer_locale,
            ),
        )
        return
    if result.intent == FEEDBACK:
        await feedback.offer_feedback(message)
        return
    private = message.chat.type == "private"  # nothing of group chatter is stored
    if result.suggestions:
        items = [
            (entry.id, library.title(entry, lang))
            for entry_id in result.suggestions
            if (entry := library.entry(entry_id)) is not None
        ]
        await db.count_question(day, UNSURE)
        if private:
            await db.record_unsure(text, lang, [entry_id for entry_id, _ in items])
        await message.answer(
            _("I am not sure I understood. Did you mean one of these?"),
            reply_markup=with_switch(suggestions_keyboard(items), offer_locale),
        )
        return
    reply = small_talk(result.intent)
    if reply is not None:
        await message.answer(reply, reply_markup=with_switch(main_menu(), offer_locale))
        return
    await db.count_question(day, UNANSWERED)
    if not private:
        # Nothing of a group is stored, so nothing is passed on: do not say it is.
        await message.answer(
            _(
                "Sorry, I don't know the answer to that. I only answer questions about "
                "elections in Kazakhstan. Try other words, or pick a section:"
            ),
            reply_markup=main_menu(),
        )
        return
    # Stored for the operators, who read it with /unanswered: so the reply may say so.
    await db.record_unanswered(text, lang)
    await message.answer(
        _(
            "Sorry, I don't know the answer to that. I only answer questions about elections "
            "in Kazakhstan; your question has been passed on to the people who keep my answers "
            "up to date. Try other words, or pick a section:"
        ),
        reply_markup=with_switch(main_menu(), offer_locale),
    )


async def not_text(message: Message) -> None:
    await message.answer(
        _("I can read only text messages. Please type your question."),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[menu_button()]]),
    )


async def all_sources(
    callback: CallbackQuery,
    callback_data: SourcesCb,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    """The answer again, now with every source it rests on."""
    entry = library.entry(callback_data.entry_id)
    if entry is None:
        await unknown_button(callback)
        return
    await acknowledge(callback)
    text = render_answer(library.content, entry, i18n.current_locale, today(), all_sources=True)
    await show(callback, text, entry_keyboard(entry.section))


async def unknown_button(callback: CallbackQuery) -> None:
    """Buttons from an older version of the bot, or forged callback data."""
    await acknowledge(callback, _("This button is out of date."))
    await show(callback, _("Here is the current menu:"), main_menu())


def build() -> Router:
    router = Router(name="faq")
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(question, F.text)
    router.message.register(not_text)
    router.callback_query.register(all_sources, SourcesCb.filter())
    router.callback_query.register(unknown_button)
    return router
