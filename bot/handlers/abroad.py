"""Voting abroad: the section, stations by country, by shared location, and by a place named in
a typed question (called from the free-text handler)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from aiogram import Bot, F, Router
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.handlers.common import acknowledge, show
from bot.handlers.menu import section_entries
from bot.keyboards import (
    CountriesCb,
    CountryCb,
    LocateCb,
    SectionCb,
    StationCb,
    StationMoreCb,
    entries_keyboard,
    menu_button,
    paged,
    section_titles,
)
from bot.library import Library
from bot.render import alphabetical_key
from bot.search.engine import SearchResult
from bot.stations.card import country_label
from bot.stations.index import StationIndex
from bot.stations.replies import (
    SECTION,
    Reply,
    button,
    country_reply,
    location_replies,
    station_more_reply,
    station_reply,
    text_replies,
)


async def answer_places(
    message: Message, library: Library, result: SearchResult, lang: str, today: date
) -> bool:
    """The free-text hook: station replies when the message asks about a place abroad."""
    replies = text_replies(library, message.text or "", result, lang, today)
    for reply in replies:
        await _send(message.bot, message.chat.id, reply)
    return bool(replies)


# --- sending ---------------------------------------------------------------------------------


async def _send(bot: Bot | None, chat_id: int, reply: Reply) -> None:
    if bot is None:
        return
    await bot.send_message(
        chat_id, reply.text, reply_markup=reply.markup, disable_web_page_preview=True
    )
    await _pin(bot, chat_id, reply)


async def _pin(bot: Bot, chat_id: int, reply: Reply) -> None:
    if reply.pin is not None:
        await bot.send_location(chat_id, latitude=reply.pin[0], longitude=reply.pin[1])


async def _show_all(callback: CallbackQuery, replies: list[Reply]) -> None:
    """The first reply in place of the message the button was under, the rest after it."""
    first, *rest = replies
    await show(callback, first.text, first.markup)
    if callback.bot is None:
        return
    await _pin(callback.bot, callback.from_user.id, first)
    for reply in rest:
        await _send(callback.bot, callback.from_user.id, reply)


# --- the section and its buttons -------------------------------------------------------------


def section_keyboard(library: Library, lang: str, page: int) -> InlineKeyboardMarkup:
    entries = entries_keyboard(section_entries(library, SECTION, lang), SECTION, page)
    *rows, last = entries.inline_keyboard
    extra = [
        [button("🔎 " + _("Find a station by country"), CountriesCb(page=0).pack())],
        [button("📍 " + _("Share my location"), LocateCb().pack())],
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, *extra, last])


async def open_section(
    callback: CallbackQuery, callback_data: SectionCb, library: Library, i18n: I18n
) -> None:
    await acknowledge(callback)
    text = (
        f"<b>{section_titles()[SECTION]}</b>\n\n"
        + _("Pick a question:")
        + "\n\n"
        + _("To find a polling station, type a city or country, or share your location.")
    )
    await show(callback, text, section_keyboard(library, i18n.current_locale, callback_data.page))


def countries_keyboard(index: StationIndex, lang: str, page: int) -> InlineKeyboardMarkup:
    codes = sorted(index.countries(), key=lambda code: alphabetical_key(country_label(code, lang)))
    buttons = [button(country_label(code, lang), CountryCb(code=code).pack()) for code in codes]
    rows = paged(buttons, page, lambda n: CountriesCb(page=n).pack())
    back = [button("⬅️ " + _("Back"), SectionCb(section=SECTION).pack()), menu_button()]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, back])


async def _show_countries(callback: CallbackQuery, library: Library, lang: str, page: int) -> None:
    text = f"<b>{section_titles()[SECTION]}</b>\n\n" + _("Pick a country:")
    await show(callback, text, countries_keyboard(library.stations, lang, page))


async def countries(
    callback: CallbackQuery, callback_data: CountriesCb, library: Library, i18n: I18n
) -> None:
    await acknowledge(callback)
    await _show_countries(callback, library, i18n.current_locale, callback_data.page)


async def country(
    callback: CallbackQuery,
    callback_data: CountryCb,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    lang = i18n.current_locale
    if callback_data.code not in library.stations.countries():
        await acknowledge(callback, _("This button is out of date."))
        await _show_countries(callback, library, lang, 0)
        return
    await acknowledge(callback)
    await _show_all(callback, [country_reply(library.stations, callback_data.code, lang, today())])


async def station(
    callback: CallbackQuery,
    callback_data: StationCb,
    library: Library,
    i18n: I18n,
    today: Callable[[], date],
) -> None:
    lang = i18n.current_locale
    reply = station_reply(library.stations, callback_data.station_id, lang, today())
    if reply is None:
        await acknowledge(callback, _("This button is out of date."))
        await _show_countries(callback, library, lang, 0)
        return
    await acknowledge(callback)
    await _show_all(callback, [reply])


async def station_more(
    callback: CallbackQuery, callback_data: StationMoreCb, library: Library, i18n: I18n
) -> None:
    lang = i18n.current_locale
    reply = station_more_reply(library.stations, callback_data.station_id, lang)
    if reply is None:
        await acknowledge(callback, _("This button is out of date."))
        await _show_countries(callback, library, lang, 0)
        return
    await acknowledge(callback)
    # In place of the card: its map pin, if any, is already below it.
    await show(callback, reply.text, reply.markup)


async def ask_location(callback: CallbackQuery) -> None:
    await acknowledge(callback)
    # An inline button cannot ask for a location; a reply-keyboard button can.
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="📍 " + _("Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    if callback.bot is not None:
        await callback.bot.send_message(
            callback.from_user.id,
            _("Tap the button below to share your location, or type a city or country."),
            reply_markup=keyboard,
        )


async def location(
    message: Message, library: Library, i18n: I18n, today: Callable[[], date]
) -> None:
    assert message.location is not None  # the filter
    point = message.location
    replies = location_replies(
        library, point.latitude, point.longitude, i18n.current_locale, today()
    )
    for reply in replies:
        await _send(message.bot, message.chat.id, reply)


def build() -> Router:
    router = Router(name="abroad")
    router.callback_query.register(open_section, SectionCb.filter(F.section == SECTION))
    router.callback_query.register(countries, CountriesCb.filter())
    router.callback_query.register(country, CountryCb.filter())
    router.callback_query.register(station, StationCb.filter())
    router.callback_query.register(station_more, StationMoreCb.filter())
    router.callback_query.register(ask_location, LocateCb.filter())
    router.message.register(location, F.location)
    return router
