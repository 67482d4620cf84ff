"""The main menu, browsing sections and their entries, and the commands about the bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.handlers.common import acknowledge, show
from bot.keyboards import (
    EntryCb,
    MenuCb,
    SectionCb,
    entries_keyboard,
    entry_keyboard,
    main_menu,
    section_titles,
)
from bot.library import Library
from bot.people.talk import ABOUT_ENTRY, with_operator
from bot.render import OFFICIAL_SITE, more_sources, next_vote, party_sort_key, render_answer
from bot.storage import Database


def menu_text() -> str:
    return _("What would you like to know? Pick a section, or just type your question.")


async def menu(message: Message) -> None:
    await message.answer(menu_text(), reply_markup=main_menu())


async def menu_button(callback: CallbackQuery) -> None:
    await acknowledge(callback)
    await show(callback, menu_text(), main_menu())


def help_text() -> str:
    return _(
        "Type a question in your own words, in Kazakh, Russian or English, for example "
        "<i>when is the next election</i> or <i>where can I vote in Istanbul</i>.\n\n"
        "/menu: sections to browse\n/language: change the language\n"
        "/about: who makes this bot and where its facts come from\n"
        "/remind: reminders before a vote\n"
        "/feedback: report a mistake or write to the people who run the bot\n"
        "/forget: delete what the bot stores about you"
    )


async def help_command(message: Message) -> None:
    await message.answer(help_text(), reply_markup=main_menu())


async def about(
    message: Message,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
    settings: Settings,
) -> None:
    entry = library.entry(ABOUT_ENTRY)
    text = (
        render_answer(library.content, entry, i18n.current_locale, today(), all_sources=True)
        if entry
        else help_text()
    )
    text = with_operator(text, ABOUT_ENTRY, settings.operator_name, settings.operator_contact)
    await message.answer(text, reply_markup=main_menu(), disable_web_page_preview=True)


async def stop(message: Message, db: Database) -> None:
    if message.from_user:
        await db.user_stopped(message.from_user.id)
    await message.answer(
        _(
            "Done: the bot will send you nothing unasked any more, no announcements and no "
            "reminders. It still answers your questions. Send /start to receive them again."
        )
    )


def section_entries(library: Library, section: str, lang: str) -> list[tuple[str, str]]:
    entries = library.content.published(section)
    if section == "parties":
        # Party cards in a neutral order, alphabetical in the reader's language; a party whose
        # registration is unconfirmed comes after the confirmed ones, as in the list.
        cards = [e for e in entries if (e.render or "").startswith("party:")]
        names = {
            e.id: (party.unconfirmed, party_sort_key(party, lang))
            for e in cards
            if (party := library.content.party((e.render or "").split(":", 1)[1]))
        }
        first = [e for e in entries if e not in cards and e.render == "party_list"]
        rest = [e for e in entries if e not in cards and e not in first]
        entries = first + sorted(cards, key=lambda e: names.get(e.id, (True, ()))) + rest
    return [(e.id, library.title(e, lang)) for e in entries]


def section_intro(section: str, library: Library, lang: str, today: date) -> str:
    """What a section says above its list of questions."""
    if section == "elections":
        return "\n\n".join(
            (
                next_vote(library.content, lang, today),
                _("Polling stations are open 07:00-20:00 local time."),
                _(
                    "Bring your identity card or passport; a digital ID in the eGov Mobile, "
                    "Kaspi or Halyk apps is accepted; a driver's licence is not."
                ),
            )
        )
    if section == "parties":
        return _(
            "Saylau recommends no party or candidate. Parties are listed alphabetically; "
            "every card has the same fields. Official lists: {site}"
        ).format(site=OFFICIAL_SITE)
    if section == "constitution":
        return _(
            "The new Constitution was adopted at the referendum of 15 March 2026 and has been "
            "in force since 1 July 2026. Pick a topic, or type an article number, "
            "e.g. <i>9-бап</i>, <i>статья 9</i> or <i>article 9</i>."
        )
    return ""


async def open_section(
    callback: CallbackQuery,
    callback_data: SectionCb,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    titles = section_titles()
    if callback_data.section not in titles:
        await acknowledge(callback, _("This button is out of date."))
        return
    await acknowledge(callback)
    lang = i18n.current_locale
    items = section_entries(library, callback_data.section, lang)
    intro = section_intro(callback_data.section, library, lang, today())
    text = "\n\n".join(
        part
        for part in (f"<b>{titles[callback_data.section]}</b>", intro, _("Pick a question:"))
        if part
    )
    await show(callback, text, entries_keyboard(items, callback_data.section, callback_data.page))


async def open_entry(
    callback: CallbackQuery,
    callback_data: EntryCb,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
    settings: Settings,
) -> None:
    entry = library.entry(callback_data.entry_id)
    if entry is None:
        await acknowledge(callback, _("This button is out of date."))
        return
    await acknowledge(callback)
    day = today()
    text = with_operator(
        render_answer(library.content, entry, i18n.current_locale, day),
        entry.id,
        settings.operator_name,
        settings.operator_contact,
    )
    await show(
        callback, text, entry_keyboard(entry.section, more_sources(library.content, entry, day))
    )


def build() -> Router:
    router = Router(name="menu")
    router.message.register(menu, Command("menu"))
    router.callback_query.register(menu_button, MenuCb.filter(F.action == "main"))
    router.message.register(help_command, Command("help"))
    router.message.register(about, Command("about"))
    router.message.register(stop, Command("stop"))
    router.callback_query.register(open_section, SectionCb.filter())
    router.callback_query.register(open_entry, EntryCb.filter())
    return router
