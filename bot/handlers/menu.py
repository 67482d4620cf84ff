"""The main menu, browsing sections and their entries, and the commands about the bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

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
from bot.render import render_answer
from bot.storage import Database

router = Router(name="menu")


def menu_text() -> str:
    return _("What would you like to know? Pick a section, or just type your question.")


@router.message(Command("menu"))
async def menu(message: Message) -> None:
    await message.answer(menu_text(), reply_markup=main_menu())


@router.callback_query(MenuCb.filter(F.action == "main"))
async def menu_button(callback: CallbackQuery) -> None:
    await acknowledge(callback)
    await show(callback, menu_text(), main_menu())


def help_text() -> str:
    return _(
        "Type a question in your own words, in Kazakh, Russian or English, for example "
        "<i>when is the next election</i> or <i>where can I vote in Istanbul</i>.\n\n"
        "/menu: sections to browse\n/language: change the language\n"
        "/about: who makes this bot and where its facts come from\n"
        "/forget: delete what the bot stores about you"
    )


@router.message(Command("help"))
async def help_command(message: Message) -> None:
    await message.answer(help_text(), reply_markup=main_menu())


@router.message(Command("about"))
async def about(message: Message, library: Library, i18n: I18n, today: Callable[[], date]) -> None:
    entry = library.entry("bot.about")
    text = (
        render_answer(library.content, entry, i18n.current_locale, today())
        if entry
        else help_text()
    )
    await message.answer(text, reply_markup=main_menu(), disable_web_page_preview=True)


@router.message(Command("forget"))
async def forget(message: Message, db: Database) -> None:
    if message.from_user:
        await db.forget_user(message.from_user.id)
    await message.answer(
        _("Done: the bot no longer stores your language choice or any other data about you.")
    )


def section_entries(library: Library, section: str, lang: str) -> list[tuple[str, str]]:
    return [(e.id, library.title(e, lang)) for e in library.content.published(section)]


@router.callback_query(SectionCb.filter())
async def open_section(
    callback: CallbackQuery, callback_data: SectionCb, library: Library, i18n: I18n
) -> None:
    titles = section_titles()
    if callback_data.section not in titles:
        await acknowledge(callback, _("This button is out of date."))
        return
    await acknowledge(callback)
    items = section_entries(library, callback_data.section, i18n.current_locale)
    text = f"<b>{titles[callback_data.section]}</b>\n\n" + _("Pick a question:")
    await show(callback, text, entries_keyboard(items, callback_data.section, callback_data.page))


@router.callback_query(EntryCb.filter())
async def open_entry(
    callback: CallbackQuery,
    callback_data: EntryCb,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    entry = library.entry(callback_data.entry_id)
    if entry is None:
        await acknowledge(callback, _("This button is out of date."))
        return
    await acknowledge(callback)
    text = render_answer(library.content, entry, i18n.current_locale, today())
    await show(callback, text, entry_keyboard(entry.section))
