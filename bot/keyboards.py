"""Callback data and the keyboards built from it.

Callback data arrives from the client and may be stale or forged: every handler that reads it
checks that what it names still exists.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

PAGE_SIZE = 8
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


class LangCb(CallbackData, prefix="lang"):
    code: str


class SectionCb(CallbackData, prefix="sec"):
    section: str
    page: int = 0


class EntryCb(CallbackData, prefix="faq"):
    entry_id: str


class MenuCb(CallbackData, prefix="menu"):
    action: str  # "main", "reminders", "language", "about", "feedback"


class SwitchCb(CallbackData, prefix="switch"):
    """Keeps the language a message was answered in (detected from it) as the user's own."""

    code: str


class CountriesCb(CallbackData, prefix="countries"):
    page: int = 0


class CountryCb(CallbackData, prefix="country"):
    code: str  # ISO 3166 alpha-2


class StationCb(CallbackData, prefix="station"):
    station_id: str


class StationMoreCb(CallbackData, prefix="smore"):
    """The rest of a station's card: all sources, the verified date, the notes."""

    station_id: str


class StationRemindCb(CallbackData, prefix="rstation"):
    """ "Remind me about this station": the station becomes the user's (zone and card)."""

    station_id: str


class SourcesCb(CallbackData, prefix="src"):
    """All the sources of an FAQ answer, whose message shows only the first few."""

    entry_id: str


class RemindCb(CallbackData, prefix="remind"):
    action: str  # "show", "defaults", "toggle", "announce", "off"
    moment: str = ""


class ForgetCb(CallbackData, prefix="forget"):
    confirm: bool


class LocateCb(CallbackData, prefix="locate"):
    """Asks for the reply keyboard whose button shares the user's location."""


def section_titles() -> dict[str, str]:
    return {
        "elections": "🗳 " + _("Elections and dates"),
        "abroad": "🌍 " + _("Voting abroad"),
        "parties": "🏛 " + _("Parties"),
        "constitution": "📜 " + _("The Constitution"),
        "about": "ℹ️ " + _("About the bot"),
    }


def main_menu() -> InlineKeyboardMarkup:
    titles = section_titles()
    kb = InlineKeyboardBuilder()
    for section in ("elections", "abroad", "parties", "constitution"):
        kb.button(text=titles[section], callback_data=SectionCb(section=section))
    kb.button(text="🔔 " + _("Reminders"), callback_data=MenuCb(action="reminders"))
    kb.button(text="🌐 " + _("Language"), callback_data=MenuCb(action="language"))
    kb.button(text=titles["about"], callback_data=SectionCb(section="about"))
    kb.button(text="✍️ " + _("Feedback"), callback_data=MenuCb(action="feedback"))
    kb.adjust(2, 2, 2, 2)
    return kb.as_markup()


def with_switch(markup: InlineKeyboardMarkup | None, code: str | None) -> InlineKeyboardMarkup:
    """`markup` with a first row offering to keep `code` (the current locale) as the user's
    language; unchanged when there is nothing to offer."""
    rows = list(markup.inline_keyboard) if markup else []
    if code is None or code not in LANGUAGE_NAMES:
        return InlineKeyboardMarkup(inline_keyboard=rows)
    label = "🌐 " + _("Always answer in: {language}").format(language=LANGUAGE_NAMES[code])
    switch = InlineKeyboardButton(text=label, callback_data=SwitchCb(code=code).pack())
    return InlineKeyboardMarkup(inline_keyboard=[[switch], *rows])


def language_keyboard(current: str | None = None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        mark = "✅ " if code == current else ""
        kb.button(text=mark + name, callback_data=LangCb(code=code))
    kb.adjust(3)
    return kb.as_markup()


def menu_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text="☰ " + _("Menu"), callback_data=MenuCb(action="main").pack())


def paged(
    items: list[InlineKeyboardButton], page: int, page_data: Callable[[int], str]
) -> list[list[InlineKeyboardButton]]:
    """One button per row, PAGE_SIZE to a page, then a row to move between pages (when there
    is more than one); `page_data` makes the callback data that opens a page."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = [[button] for button in items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(text="◀️", callback_data=page_data(page - 1)))
    if pages > 1:
        nav.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=page_data(page)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(text="▶️", callback_data=page_data(page + 1)))
    return [*rows, nav] if nav else rows


def entries_keyboard(items: list[tuple[str, str]], section: str, page: int) -> InlineKeyboardMarkup:
    """One button per (entry id, title), paged, with a way back to the menu."""
    buttons = [
        InlineKeyboardButton(text=title, callback_data=EntryCb(entry_id=entry_id).pack())
        for entry_id, title in items
    ]
    rows = paged(buttons, page, lambda n: SectionCb(section=section, page=n).pack())
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [menu_button()]])


def entry_keyboard(section: str, more_sources: str | None = None) -> InlineKeyboardMarkup:
    """Back to the section and the menu; `more_sources` is the id of an entry whose answer
    shows only some of its sources, for a button that shows them all."""
    rows = []
    if more_sources is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text="📚 " + _("More sources"),
                    callback_data=SourcesCb(entry_id=more_sources).pack(),
                )
            ]
        )
    back = InlineKeyboardButton(
        text="⬅️ " + _("Back"), callback_data=SectionCb(section=section).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [back, menu_button()]])


def suggestions_keyboard(items: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    rows = [
        [InlineKeyboardButton(text=title, callback_data=EntryCb(entry_id=entry_id).pack())]
        for entry_id, title in items
    ]
    rows.append([menu_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


class OpCb(CallbackData, prefix="op"):
    """Operator buttons. Every press is authorised again by the operator router's filter, and
    what `arg` names is looked up afresh: an old or forged button changes nothing."""

    action: str  # "menu", "editors", "add_editor", "revoke", "feedback", "unanswered"
    arg: str = ""
