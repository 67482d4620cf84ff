"""What the bot says about stations abroad, as texts with their buttons: shared by the chat
handlers and `python -m bot ask`, so both answer a place alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards import (
    CountriesCb,
    EntryCb,
    StationCb,
    StationMoreCb,
    StationRemindCb,
    menu_button,
)
from bot.library import Library
from bot.render import alphabetical_key
from bot.search.engine import OFFTOPIC, SearchResult
from bot.stations.card import (
    city_text,
    country_card,
    home_text,
    nearest_text,
    no_station_text,
    record_text,
    station_card,
    station_more,
)
from bot.stations.geo import City
from bot.stations.index import HOME, Found, Nearby, StationIndex, point_country

SECTION = "abroad"
MAX_PLACES = 3  # a message naming more places gets the first three
# When the FAQ search picks another topic but an abroad entry scores this close, the search
# cannot tell them apart and the named place decides.
TIE = 0.04
FIND_STATION_ENTRY = "voting.find_station"  # how to find one's station at home


@dataclass(frozen=True)
class Reply:
    text: str
    markup: InlineKeyboardMarkup
    pin: tuple[float, float] | None = None  # the city centre, sent after the text


def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def back_row() -> list[InlineKeyboardButton]:
    return [button("⬅️ " + _("Countries"), CountriesCb(page=0).pack()), menu_button()]


def _nearby_markup(nearby: list[Nearby], lang: str) -> InlineKeyboardMarkup:
    rows = [
        [button(n.station.city.get(lang), StationCb(station_id=n.station.id).pack())]
        for n in nearby
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, back_row()])


def station_reply(index: StationIndex, station_id: str, lang: str, today: date) -> Reply | None:
    station = index.station(station_id)
    if station is None:
        return None
    city = index.city(station)
    # GeoNames has the city centre, not the building: a plain location, never a venue pin.
    pin = (city.latitude, city.longitude) if city else None
    text = station_card(index, station, lang, today, pin=pin is not None)
    more = [button("ℹ️ " + _("More: sources, notes"), StationMoreCb(station_id=station.id).pack())]
    remind = button(
        "🔔 " + _("Remind me about this station"), StationRemindCb(station_id=station.id).pack()
    )
    return Reply(text, InlineKeyboardMarkup(inline_keyboard=[more, [remind], back_row()]), pin)


def station_more_reply(index: StationIndex, station_id: str, lang: str) -> Reply | None:
    """The rest of a card, with a way back to the card itself."""
    station = index.station(station_id)
    if station is None:
        return None
    card = [button("⬅️ " + station.city.get(lang), StationCb(station_id=station.id).pack())]
    return Reply(
        station_more(index, station, lang),
        InlineKeyboardMarkup(inline_keyboard=[card, back_row()]),
    )


def country_reply(index: StationIndex, code: str, lang: str, today: date) -> Reply:
    stations = index.stations_in(code)
    if len(stations) == 1:
        reply = station_reply(index, stations[0].id, lang, today)
        assert reply is not None  # the station comes from the index
        return reply
    if stations:
        cities = sorted(stations, key=lambda s: alphabetical_key(s.city.get(lang)))
        rows = [[button(s.city.get(lang), StationCb(station_id=s.id).pack())] for s in cities]
        markup = InlineKeyboardMarkup(inline_keyboard=[*rows, back_row()])
        return Reply(country_card(index, code, lang, today), markup)
    nearby, capital = index.nearest_to_country(code)
    markup = _nearby_markup(nearby, lang)
    record = index.record(code)
    if record is not None:
        return Reply(record_text(index, record, lang, nearby, capital), markup)
    return Reply(no_station_text(index, code, lang, nearby, capital), markup)


def home_reply(library: Library, text: str, lang: str) -> Reply:
    """Kazakhstan: one votes at one's own station at home; the entry says how to find it."""
    rows = []
    entry = library.entry(FIND_STATION_ENTRY)
    if entry is not None:
        rows.append([button(library.title(entry, lang), EntryCb(entry_id=entry.id).pack())])
    return Reply(text, InlineKeyboardMarkup(inline_keyboard=[*rows, [menu_button()]]))


def _nearest_replies(
    index: StationIndex, nearby: list[Nearby], text: str, lang: str, today: date
) -> list[Reply]:
    """The nearest stations, then the card of the nearest one."""
    replies = [Reply(text, _nearby_markup(nearby, lang))]
    card = station_reply(index, nearby[0].station.id, lang, today) if nearby else None
    return replies + ([card] if card else [])


def location_replies(
    library: Library, latitude: float, longitude: float, lang: str, today: date
) -> list[Reply]:
    index = library.stations
    country = point_country(latitude, longitude)
    if country == HOME:
        return [home_reply(library, home_text(), lang)]
    nearby = index.nearest(latitude, longitude)
    return _nearest_replies(index, nearby, nearest_text(index, nearby, country, lang), lang, today)


def city_replies(library: Library, city: City, lang: str) -> list[Reply]:
    """A city without a station of its own: at home, or the nearest stations abroad."""
    index = library.stations
    if city.country == HOME:
        return [home_reply(library, home_text(city.name), lang)]
    nearby = index.nearest(city.latitude, city.longitude)
    # One message, as for any typed question: each nearby station's card is a button away.
    return [Reply(city_text(index, city, nearby, lang), _nearby_markup(nearby, lang))]


def place_replies(library: Library, found: Found, lang: str, today: date) -> list[Reply]:
    index = library.stations
    replies: list[Reply] = []
    for place in found.places[:MAX_PLACES]:
        if place.city is not None:
            replies += city_replies(library, place.city, lang)
        elif place.is_city:
            reply = station_reply(index, place.stations[0].id, lang, today)
            replies += [reply] if reply else []
        else:
            replies.append(country_reply(index, place.country, lang, today))
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
    if result.intent == OFFTOPIC:  # the matcher knows it: another country's vote, a visa, ...
        return False
    answer = result.answer
    if answer is not None and answer.entry_id.startswith(f"{SECTION}."):
        return True
    if not found.about_voting:
        return False
    return answer is None or any(
        m.entry_id.startswith(f"{SECTION}.") and answer.score - m.score <= TIE
        for m in result.ranked
    )


def text_replies(
    library: Library, text: str, result: SearchResult, lang: str, today: date
) -> list[Reply]:
    """The station replies to a typed message, or none when it is not about a place."""
    found = library.stations.find(text)
    if not wants_stations(found, result):
        return []
    return place_replies(library, found, lang, today)
