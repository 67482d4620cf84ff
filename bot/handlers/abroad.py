"""Voting abroad: the section, stations by country, by shared location, and by a place named in
a typed question (called from the free-text handler)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from aiogram import Bot, F, Router
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
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
    EntryCb,
    LocateCb,
    SectionCb,
    StationCb,
    entries_keyboard,
    menu_button,
    paged,
    section_titles,
)
from bot.library import Library
from bot.render import alphabetical_key
from bot.search.engine import SearchResult
from bot.stations.card import (
    country_card,
    country_label,
    home_text,
    nearest_text,
    no_station_text,
    record_text,
    station_card,
)
from bot.stations.index import HOME, Found, StationIndex, point_country

SECTION = "abroad"
MAX_PLACES = 3  # a message naming more places gets the first three
# When the FAQ search picks another topic but an abroad entry scores this close, the search
# cannot tell them apart and the named place decides.
TIE = 0.04


@dataclass(frozen=True)
class Reply:
    text: str
    markup: InlineKeyboardMarkup
    pin: tuple[float, float] | None = None  # the city centre, sent after the text


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def _back_row() -> list[InlineKeyboardButton]:
    return [_button("⬅️ " + _("Countries"), CountriesCb(page=0).pack()), menu_button()]


# --- what to say -----------------------------------------------------------------------------


def station_reply(index: StationIndex, station_id: str, lang: str, today: date) -> Reply | None:
    station = index.station(station_id)
    if station is None:
        return None
    city = index.city(station)
    # GeoNames has the city centre, not the building: a plain location, never a venue pin.
    pin = (city.latitude, city.longitude) if city else None
    text = station_card(index, station, lang, today, pin=pin is not None)
    return Reply(text, InlineKeyboardMarkup(inline_keyboard=[_back_row()]), pin)


def country_reply(index: StationIndex, code: str, lang: str, today: date) -> Reply:
    stations = index.stations_in(code)
    if len(stations) == 1:
        reply = station_reply(index, stations[0].id, lang, today)
        assert reply is not None  # the station comes from the index
        return reply
    if stations:
        cities = sorted(stations, key=lambda s: alphabetical_key(s.city.get(lang)))
        rows = [[_button(s.city.get(lang), StationCb(station_id=s.id).pack())] for s in cities]
        markup = InlineKeyboardMarkup(inline_keyboard=[*rows, _back_row()])
        return Reply(country_card(index, code, lang, today), markup)
    nearby, capital = index.nearest_to_country(code)
    rows = [
        [_button(n.station.city.get(lang), StationCb(station_id=n.station.id).pack())]
        for n in nearby
    ]
    markup = InlineKeyboardMarkup(inline_keyboard=[*rows, _back_row()])
    record = index.record(code)
    if record is not None:
        return Reply(record_text(index, record, lang, nearby, capital), markup)
    return Reply(no_station_text(index, code, lang, nearby, capital), markup)


def location_replies(
    library: Library, latitude: float, longitude: float, lang: str, today: date
) -> list[Reply]:
    index = library.stations
    country = point_country(latitude, longitude)
    if country == HOME:
        rows = []
        entry = library.entry("voting.find_station")
        if entry is not None:
            rows.append([_button(library.title(entry, lang), EntryCb(entry_id=entry.id).pack())])
        markup = InlineKeyboardMarkup(inline_keyboard=[*rows, [menu_button()]])
        return [Reply(home_text(), markup)]
    nearby = index.nearest(latitude, longitude)
    rows = [
        [_button(n.station.city.get(lang), StationCb(station_id=n.station.id).pack())]
        for n in nearby
    ]
    markup = InlineKeyboardMarkup(inline_keyboard=[*rows, _back_row()])
    replies = [Reply(nearest_text(index, nearby, country, lang), markup)]
    card = station_reply(index, nearby[0].station.id, lang, today) if nearby else None
    return replies + ([card] if card else [])


def place_replies(index: StationIndex, found: Found, lang: str, today: date) -> list[Reply]:
    replies = []
    for place in found.places[:MAX_PLACES]:
        if place.is_city:
            reply = station_reply(index, place.stations[0].id, lang, today)
        else:
            reply = country_reply(index, place.country, lang, today)
        if reply is not None:
            replies.append(reply)
    return replies


def wants_stations(found: Found, result: SearchResult) -> bool:
    """Whether a typed question that names a place is about voting there.

    Yes when the message is just the place (with function words or voting words), or the FAQ
    answers it from the abroad section; otherwise only when it talks about voting and the FAQ
    has no answer or cannot tell another topic from an abroad one. "Do Kazakh citizens need a
    visa for Japan?" names Japan but is about neither.
    """
    if not found.places:
        return False
    if not found.rest:
        return True
    answer = result.answer
    if answer is not None and answer.entry_id.startswith(f"{SECTION}."):
        return True
    if not found.about_voting:
        return False
    return answer is None or any(
        m.entry_id.startswith(f"{SECTION}.") and answer.score - m.score <= TIE
        for m in result.ranked
    )


async def answer_places(
    message: Message, library: Library, result: SearchResult, lang: str, today: date
) -> bool:
    """The free-text hook: station replies when the message asks about a place abroad."""
    found = library.stations.find(message.text or "")
    if not wants_stations(found, result):
        return False
    replies = place_replies(library.stations, found, lang, today)
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
        [_button("🔎 " + _("Find a station by country"), CountriesCb(page=0).pack())],
        [_button("📍 " + _("Share my location"), LocateCb().pack())],
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
    buttons = [_button(country_label(code, lang), CountryCb(code=code).pack()) for code in codes]
    rows = paged(buttons, page, lambda n: CountriesCb(page=n).pack())
    back = [_button("⬅️ " + _("Back"), SectionCb(section=SECTION).pack()), menu_button()]
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
    router.callback_query.register(ask_location, LocateCb.filter())
    router.message.register(location, F.location)
    return router
