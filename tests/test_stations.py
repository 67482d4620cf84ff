"""Polling stations abroad: names and places (bot.stations), the card, and the handlers through
the production Dispatcher (conftest's chat driver)."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import AnswerCallbackQuery, SendLocation, SendMessage
from aiogram.types import ReplyKeyboardMarkup
from babel import Locale
from conftest import (
    DATA_DIR,
    I18N,
    TODAY,
    ChatDriver,
    buttons,
    make_dispatcher,
    texts,
    translated,
)

from bot import LOCALES
from bot.content.models import Content, L10n, Vote, check_html
from bot.content.yaml_io import load_content
from bot.render import alphabetical_key as sort_key
from bot.render import long_date
from bot.stations.card import country_card, country_label, station_card
from bot.stations.geo import City, country_reference, find_city
from bot.stations.index import StationIndex, point_country, seasons, voting_window
from bot.terminal import UpdateFactory

CONTENT = load_content(DATA_DIR)
INDEX = StationIndex(CONTENT)
OUT_OF_DATE = "This button is out of date."
PIN_NOTE = "Map pin below: the city centre, not the station's building."
NO_STATION = (
    "{country}: our data has no Kazakh polling station there. Our sources do not say whether "
    "you may vote at a station in another country: ask that station in advance and check "
    "election.gov.kz."
)
# Points (latitude, longitude) checked on a map, not taken from the bot's own data.
ANTALYA = (36.8841, 30.7056)
ROME = (41.8933, 12.4829)
ALMATY = (43.2567, 76.9286)


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    """An independent great-circle distance (spherical law of cosines), in km."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl = math.radians(b[1] - a[1])
    cos = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(min(1.0, cos))


def found(text: str) -> list[str]:
    """What a text names: station ids for cities, country codes for countries, and
    "CC:GeoNames name" for a city without a station."""
    return [
        f"{p.country}:{geonames_name(p.city)}"
        if p.city
        else p.stations[0].id
        if p.is_city
        else p.country
        for p in INDEX.find(text).places
    ]


def geonames_name(city: City) -> str:
    listed = find_city(city.geonameid)
    assert listed is not None
    return listed.name


# --- the data ------------------------------------------------------------------------------


@pytest.mark.parametrize("station", CONTENT.stations, ids=lambda s: s.id)
def test_every_station_resolves_in_all_languages(station):
    city = find_city(station.geonameid)
    assert city is not None and city.country == station.country
    ZoneInfo(city.timezone)  # a zone tzdata knows
    for lang in LOCALES:
        assert station.city.get(lang).strip()
        assert Locale.parse(lang).territories.get(station.country)


def test_countries_without_a_city_resolve():
    assert {c.country for c in CONTENT.countries} == {"IL", "LB", "KW", "UA", "ET"}
    for record in CONTENT.countries:
        assert not INDEX.stations_in(record.country)
        for lang in LOCALES:
            assert Locale.parse(lang).territories.get(record.country)


# --- finding places in text ------------------------------------------------------------------

EXAMPLES = {
    "istanbul": ["Стамбул", "Стамбұл", "Istanbul", "Ыстамбул", "Стамбулда", "Стамбулде"],
    "DE": ["германия", "Germany", "Germaniya", "Германияда", "в Германии"],
    "berlin": ["в Берлине", "Berlinde", "Берлиннен"],
    "seoul": ["Сеулде", "Seoul", "в Сеуле"],
    "tokyo": ["Tokyo", "Токио", "Токиода", "Tokioda"],
    "new_york": ["Нью-Йорк", "new york", "Нью-Йоркте", "New York City"],
    "bishkek": ["Бішкек", "Бишкек", "Bishkek", "Bişkek"],
    "london": ["Лондон", "London", "Лондонның"],
    "TR": ["Түркиядағы", "Турция", "в Турции", "Turkey", "Türkiye"],
    "AE": [
        "ОАЭ",
        "в ОАЭ",
        "United Arab Emirates",
        "Біріккен Араб Әмірліктері",
        "Эмираты",
        "в Эмиратах",
        "UAE",
    ],
    "moscow": ["Мәскеуде", "в Москве", "Moskva", "Maskeude"],
    "paris": ["paris", "Париже"],
    "dubai": ["в Дубае", "Дубайда", "Dubai"],
    "shanghai": ["в Шанхае", "Шанхайда"],
    # Colloquial names and abbreviations CLDR does not give.
    "US": ["USA", "США", "АҚШ", "Штаты", "в Штатах", "America", "АҚШ-та"],
    "GB": ["UK", "Англия", "в Англии", "Англияда", "England"],
    "NL": ["Голландия", "Holland"],
}


@pytest.mark.parametrize(
    ("text", "expected"), [(t, key) for key, ts in EXAMPLES.items() for t in ts]
)
def test_place_names_in_any_language_and_script(text, expected):
    assert found(text) == [expected]


@pytest.mark.parametrize("station", CONTENT.stations, ids=lambda s: s.id)
def test_each_city_name_finds_its_station(station):
    for lang in LOCALES:
        assert station.id in found(station.city.get(lang)), lang


@pytest.mark.parametrize("code", INDEX.countries())
def test_each_country_name_finds_its_country(code):
    for lang in LOCALES:
        names = found(country_label(code, lang))
        # "Гонконг" names the city and the country: the city wins.
        assert code in names or names == [s.id for s in INDEX.stations_in(code)], lang


@pytest.mark.parametrize(
    "text",
    [
        "партия", "сайлау", "как", "где", "выборы", "vote", "election", "Kazakhstan",
        "Қазақстан", "Казахстан", "Kazakh", "Amanat", "Аманат", "қандай", "қалада", "данные",
        "малый бизнес", "parties", "change", "рядом", "карты", "15 қазанда сайлау",
        "қазан айында", "для того чтобы проголосовать", "Сайлаушылар қатарында кім бар?",
        "сайлау қашан болады", "Келесі сайлау қашан?", "рядом с домом", "Народный совет",
        "үйге шақыру", "Moved to a new city, can I vote here?", "Қазан қаласында учаске бар ма?",
        "Central Election Commission official site",
    ],
)  # fmt: skip
def test_ordinary_words_are_not_places(text):
    """Also everyday words that are the names of cities abroad: Kashan, Riyadh, Soweto, Uíge,
    New City, Kalasin."""
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Алматыда", "KZ:Almaty"), ("Астана", "KZ:Astana"), ("Караганда", "KZ:Karagandy"),
        ("Shymkent", "KZ:Shymkent"), ("Шымкентте", "KZ:Shymkent"),
        ("what is the weather in Astana", "KZ:Astana"),
    ],
)  # fmt: skip
def test_kazakh_cities_are_home(text, expected):
    assert found(text) == [expected]


@pytest.mark.parametrize(
    ("text", "shown"),
    [("где голосовать в Мюнхене", "Мюнхен"), ("Munich", "Munich"), ("Торонтода", "Торонто"),
     ("Алматыда", "Алматы"), ("vote in Novosibirsk", "Novosibirsk")],
)  # fmt: skip
def test_a_city_is_shown_by_the_name_the_reader_typed(text, shown):
    [place] = INDEX.find(text).places
    assert place.city is not None and place.city.name == shown


def test_a_message_of_a_city_and_its_country_gets_the_city():
    assert found("Istanbul, Turkey") == ["istanbul"]
    assert found("Берлин или Париж?") == ["berlin", "paris"]


def test_a_place_name_that_is_an_everyday_word_counts_only_alone():
    assert found("Қазан") == ["kazan"]
    assert found("Қазанда учаске бар ма?") == ["kazan"]
    assert found("Қазан қаласында учаске бар ма?") == []


def test_what_else_the_message_says():
    result = INDEX.find("Стамбулда сайлау учаскесі бар ма?")
    assert result.rest == () and result.about_voting
    result = INDEX.find("Do Kazakh citizens need a visa for Japan?")
    assert [p.country for p in result.places] == ["JP"]
    assert result.rest and not result.about_voting


# --- places on the map ---------------------------------------------------------------------


def test_nearest_stations_to_a_point_in_antalya():
    nearby = INDEX.nearest(*ANTALYA)
    assert nearby[0].station.id == "antalya"
    assert len(nearby) == 3 and nearby[0].km < 20
    assert [n.km for n in nearby] == sorted(n.km for n in nearby)
    for n in nearby:
        city = find_city(n.station.geonameid)
        assert city is not None
        assert n.km == pytest.approx(haversine(ANTALYA, (city.latitude, city.longitude)), rel=0.01)


def test_a_point_in_rome_is_in_italy_which_has_no_station():
    assert point_country(*ROME) == "IT"
    assert INDEX.stations_in("IT") == ()
    assert point_country(*ALMATY) == "KZ"
    nearby, capital = INDEX.nearest_to_country("IT")
    reference = country_reference("IT")
    assert capital and reference is not None and reference[0].name == "Rome"
    every = sorted(
        (haversine(ROME, (c.latitude, c.longitude)), s.id)
        for s in CONTENT.stations
        if (c := find_city(s.geonameid)) is not None
    )
    assert [n.station.id for n in nearby] == [sid for _, sid in every[:3]]
    assert all(n.station.country != "IT" for n in nearby)


def test_unknown_countries_are_found_by_name():
    assert found("Italy") == found("Италия") == found("Италияда") == ["IT"]
    assert found("Norway") == ["NO"]
    assert found("Israel") == ["IL"] and INDEX.record("IL") is not None


# --- status and hours ----------------------------------------------------------------------


def test_status_for_the_latest_vote_with_any_status():
    moscow, zagreb, istanbul, dubai = (
        INDEX.station(i) for i in ("moscow", "zagreb", "istanbul", "dubai")
    )
    assert moscow and zagreb and istanbul and dubai
    assert [(s.vote.id, s.status) for s in INDEX.statuses(moscow.votes)] == [
        ("referendum-2026", "operated")
    ]
    assert [(s.vote.id, s.status) for s in INDEX.statuses(dubai.votes)] == [
        ("referendum-2026", "suspended")
    ]
    assert [(s.vote.id, s.status) for s in INDEX.statuses(istanbul.votes)] == [
        ("referendum-2026", None)
    ]
    # No word on Zagreb in 2026: say so, then what the sources do say (2023).
    assert [(s.vote.id, s.status) for s in INDEX.statuses(zagreb.votes)] == [
        ("referendum-2026", None),
        ("mazhilis-2023", "operated"),
    ]


def _astana(day: date, hour: int, utc_offset: int) -> datetime:
    """hour:00 local at a fixed UTC offset, as a naive Astana (UTC+5) time."""
    utc = datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=utc_offset)
    return (utc + timedelta(hours=5)).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("zone", "day", "offset"),
    [
        ("Europe/Moscow", date(2026, 3, 15), 3),
        ("Asia/Tokyo", date(2026, 3, 15), 9),
        ("America/New_York", date(2026, 1, 15), -5),  # winter time
        ("America/New_York", date(2026, 8, 23), -4),  # summer time
        ("Europe/Zagreb", date(2026, 11, 22), 1),
    ],
)
def test_voting_hours_in_astana_time(zone, day, offset):
    hours = voting_window(zone, day)
    assert hours.start.replace(tzinfo=None) == _astana(day, 7, offset)
    assert hours.end.replace(tzinfo=None) == _astana(day, 20, offset)


def test_hours_use_the_next_vote_with_an_exact_date():
    title = L10n(kk="Сынақ", ru="Тест", en="Test vote")
    vote = Vote(
        id="test-2027", kind="referendum", date=date(2027, 7, 4), status="announced",
        title=title, sources=["https://example.org"], verified=TODAY,
    )  # fmt: skip
    index = StationIndex(Content(**{**dict(CONTENT), "votes": [*CONTENT.votes, vote]}))
    tokyo = index.station("tokyo")
    assert tokyo is not None
    hours = index.hours(tokyo, TODAY)
    assert hours is not None and hours.day == vote.date and hours.vote == vote
    with I18N.context(), I18N.use_locale("en"):
        text = station_card(index, tokyo, "en", TODAY, pin=True)
    assert "Test vote" in text and "03:00-16:00" in text and long_date(vote.date, "en") in text
    assert "Today" not in text
    # Without such a vote, today (the kurultai's day is not announced in our data).
    assert INDEX.voting_day(TODAY) == (TODAY, None)


# --- the card ------------------------------------------------------------------------------


ONE_SCREEN = 1000  # characters of Telegram HTML a phone shows without scrolling


def card(
    station_id: str, lang: str = "en", today: date = TODAY, index: StationIndex = INDEX
) -> str:
    station = index.station(station_id)
    assert station is not None
    with I18N.context(), I18N.use_locale(lang):
        return station_card(index, station, lang, today, pin=True)


@pytest.mark.parametrize("lang", LOCALES)
def test_card_of_moscow(lang):
    moscow = INDEX.station("moscow")
    assert moscow is not None
    text = card("moscow", lang, date(2026, 3, 15))
    assert moscow.city.get(lang) in text
    assert Locale.parse(lang).territories["RU"] in text
    assert translated("Polling station No. {number}", lang).format(number=429) in text
    as_of = translated("(as of {year})", lang).format(year=2026)
    assert f"Chistoprudny bulvar 3A {as_of}" in text
    assert f"referendum.moscow@mfa.kz {as_of}" in text
    assert translated("At the embassy", lang) in text
    assert "09:00-22:00" in text
    assert translated("the station operated", lang) in text
    assert translated(PIN_NOTE, lang) in text
    assert translated("Bring a valid passport of a citizen of Kazakhstan.", lang) in text
    assert "Today" not in text


def test_card_without_an_address_sends_to_the_ministry_list():
    text = card("tokyo")
    assert "Address: not in our sources; see the Foreign Ministry's list." in text
    assert "03:00-16:00" in text


@pytest.mark.parametrize("lang", LOCALES)
def test_every_card_fits_one_screen(lang):
    """Every station's card, the worst included, and every country's list."""
    with I18N.context(), I18N.use_locale(lang):
        cards = {s.id: station_card(INDEX, s, lang, TODAY, pin=True) for s in INDEX.stations}
        cards |= {
            code: country_card(INDEX, code, lang, TODAY)
            for code in INDEX.countries()
            if len(INDEX.stations_in(code)) > 1
        }
    assert len(cards) > len(INDEX.stations)
    for key, text in cards.items():
        assert len(text) < ONE_SCREEN, (key, len(text))
        assert text.count("\n") < 16, key
        assert text.count("<a ") <= 3, key  # sources once, at most three links
        check_html(text)


def test_a_station_cites_its_own_sources_and_dates_its_figures():
    # Tokyo's own report, and the list of cities once, not its ten reports one by one.
    tokyo = card("tokyo")
    assert "first-kazakhstan-referendum-polling-station-abroad-to-open-in-tokyo" in tokyo
    assert "lada.kz" in card("moscow") and "lada.kz" not in tokyo
    assert "vestikavkaza" not in tokyo and "10 reports of 2015-2026" in tokyo
    assert "suspends-11-overseas-polling-stations" in card("dubai")
    zagreb = card("zagreb")
    assert "gov.kz" in zagreb and "reports" not in zagreb  # not in the list of cities
    # Izmir's number is dated by its source; Istanbul's comes from the list, year unknown.
    assert "No. 512 (as of 2026)" in card("izmir")
    assert "No. 255 (sources of 2015-2026, year unknown)" in card("istanbul")


SUMMER = "while the local clock is on summer time"


def test_summer_time_only_where_the_zone_changes_its_clock():
    # No vote with a date: any voting day, both of Berlin's seasons.
    berlin = card("berlin")
    assert SUMMER in berlin
    assert "11:00-00:00 (next day) Astana time, or 10:00-23:00" in berlin
    # Istanbul and Astana keep one offset all year (tzdata): one window, no summer time.
    istanbul = card("istanbul")
    assert SUMMER not in istanbul and "09:00-22:00 Astana time." in istanbul
    assert seasons("Europe/Istanbul", 2026) is None and seasons("Asia/Almaty", 2026) is None
    both = seasons("Europe/Berlin", 2026)
    assert both is not None and both.summer.start.hour == 10 and both.standard.start.hour == 11
    for station in INDEX.stations:
        assert ("Today" in card(station.id)) is False


def test_a_dated_vote_gives_that_days_hours_without_a_summer_note():
    title = L10n(kk="Сынақ", ru="Тест", en="Test vote")
    vote = Vote(
        id="test-2027", kind="referendum", date=date(2027, 1, 10), status="announced",
        title=title, sources=["https://example.org"], verified=TODAY,
    )  # fmt: skip
    index = StationIndex(Content(**{**dict(CONTENT), "votes": [*CONTENT.votes, vote]}))
    berlin = card("berlin", index=index)
    assert "On voting day, January 10, 2027 (Test vote)" in berlin
    assert SUMMER not in berlin


def test_countries_sort_in_the_readers_alphabet():
    names = ["Өзбекстан", "Әзірбайжан", "Армения", "Ресей", "Ұлыбритания", "Тәжікстан"]
    assert sorted(names, key=sort_key) == [
        "Армения", "Әзірбайжан", "Өзбекстан", "Ресей", "Тәжікстан", "Ұлыбритания",
    ]  # fmt: skip
    assert sorted(["Türkiye", "Tajikistan", "Uzbekistan"], key=sort_key) == [
        "Tajikistan", "Türkiye", "Uzbekistan",
    ]  # fmt: skip


# --- the handlers --------------------------------------------------------------------------


def sent(requests: list, kind: type) -> list:
    return [r for r in requests if isinstance(r, kind)]


def acks(requests: list) -> list[str | None]:
    return [r.text for r in sent(requests, AnswerCallbackQuery)]


@pytest.mark.parametrize("lang", LOCALES)
async def test_browse_countries_page_by_page(chat, lang):
    user: ChatDriver = chat(lang)
    requests = await user.press("sec:abroad:0")
    assert translated("Pick a question:", lang) in texts(requests)[0]
    data = [b.callback_data for b in buttons(user.last_message().reply_markup)]
    assert "countries:0" in data and "locate" in data

    await user.press_button("countries:0")
    seen: list[str] = []
    while True:
        markup = user.last_message().reply_markup
        page = [b for b in buttons(markup) if (b.callback_data or "").startswith("country:")]
        assert 0 < len(page) <= 8
        seen += [b.text for b in page]
        following = [b for b in buttons(markup) if b.text == "▶️"]
        if not following:
            break
        await user.press_button(following[0].callback_data or "")
    assert seen == sorted(seen, key=sort_key)
    assert seen == [country_label(c, lang) for c in sorted(
        INDEX.countries(), key=lambda c: sort_key(country_label(c, lang))
    )]  # fmt: skip


@pytest.mark.parametrize("lang", LOCALES)
async def test_press_a_country(chat, lang):
    user: ChatDriver = chat(lang)
    # One station: its card, then the city centre on the map.
    requests = await user.press("country:JP")
    [card] = texts(requests)
    assert INDEX.station("tokyo").city.get(lang) in card  # type: ignore[union-attr]
    [pin] = sent(requests, SendLocation)
    tokyo = find_city(1850147)
    assert tokyo is not None and (pin.latitude, pin.longitude) == (tokyo.latitude, tokyo.longitude)
    # Several: one line each, on one screen, and a button for each city's own card.
    requests = await user.press("country:TR")
    [text] = texts(requests)
    assert len(text) < ONE_SCREEN
    stations = INDEX.stations_in("TR")
    for station in stations:
        [line] = [li for li in text.splitlines() if station.city.get(lang) in li]
        if station.number is not None:
            assert str(station.number) in line
    station_buttons = [
        b.callback_data
        for b in buttons(user.last_message().reply_markup)
        if (b.callback_data or "").startswith("station:")
    ]
    assert sorted(station_buttons) == sorted(f"station:{s.id}" for s in stations)
    assert not sent(requests, SendLocation)
    requests = await user.press_button("station:istanbul")
    assert INDEX.station("istanbul").city.get(lang) in texts(requests)[0]  # type: ignore[union-attr]
    assert len(sent(requests, SendLocation)) == 1
    # A station known without its city.
    requests = await user.press("country:IL")
    text = texts(requests)[0]
    assert translated("the station was suspended", lang) in text
    assert country_label("IL", lang) in text


@pytest.mark.parametrize(
    ("lang", "text", "station"),
    [
        ("kk", "Стамбулда сайлау учаскесі бар ма?", "istanbul"),
        ("ru", "Где проголосовать в Стамбуле?", "istanbul"),
        ("en", "Where can I vote in Istanbul?", "istanbul"),
        ("kk", "Сеулде", "seoul"),
        ("ru", "в Берлине", "berlin"),
        ("en", "new york", "new_york"),
    ],
)
async def test_type_a_city(chat, lang, text, station):
    user: ChatDriver = chat(lang)
    requests = await user.send(text)
    card = texts(requests)[0]
    assert card.startswith(f"<b>📍 {INDEX.station(station).city.get(lang)}")  # type: ignore[union-attr]
    assert translated(PIN_NOTE, lang) in card
    assert len(sent(requests, SendLocation)) == 1


@pytest.mark.parametrize(("lang", "text"), [("en", "Italy"), ("ru", "Италия"), ("kk", "Италияда")])
async def test_type_a_country_without_a_station(chat, lang, text):
    user: ChatDriver = chat(lang)
    requests = await user.send(text)
    [reply] = texts(requests)
    assert translated(NO_STATION, lang).format(country=country_label("IT", lang)) in reply
    nearby, _ = INDEX.nearest_to_country("IT")
    assert nearby[0].station.city.get(lang) in reply
    assert not sent(requests, SendLocation)


@pytest.mark.parametrize(
    "text",
    [
        "Do Kazakh citizens need a visa for Japan?",
        "Жапонияға виза керек пе?",
        "what is the weather in Astana",
        "15 қазанда сайлау бола ма?",
        "кто победил на выборах в Кыргызстане",  # another country's vote: the matcher knows
        "Who won the elections in Kyrgyzstan?",
        "где получить визу в Германию",
    ],
)
async def test_other_questions_naming_a_place_get_no_card(chat, text):
    user: ChatDriver = chat("en")
    requests = await user.send(text)
    assert not sent(requests, SendLocation)
    assert not any(PIN_NOTE in t or "No. " in t for t in texts(requests))


@pytest.mark.parametrize("lang", LOCALES)
async def test_share_a_location(chat, lang):
    user: ChatDriver = chat(lang)
    requests = await user.press("locate")
    [ask] = sent(requests, SendMessage)
    assert isinstance(ask.reply_markup, ReplyKeyboardMarkup)
    assert ask.reply_markup.keyboard[0][0].request_location

    requests = await user.feed(user.updates.location(*ANTALYA))
    nearest, card = texts(requests)
    antalya = INDEX.station("antalya")
    assert antalya is not None
    assert nearest.index(antalya.city.get(lang)) < nearest.index(
        INDEX.station("izmir").city.get(lang)  # type: ignore[union-attr]
    )
    assert card.startswith(f"<b>📍 {antalya.city.get(lang)}")
    assert len(sent(requests, SendLocation)) == 1

    requests = await user.feed(user.updates.location(*ROME))
    first = sent(requests, SendMessage)[0]
    assert country_label("IT", lang) in first.text
    assert "station:zagreb" in [b.callback_data for b in buttons(first.reply_markup)]

    requests = await user.feed(user.updates.location(*ALMATY))
    [home] = texts(requests)
    assert home == translated(
        "This point seems to be in Kazakhstan. At home you vote at your local polling station, "
        "not at one abroad.",
        lang,
    )


@pytest.mark.parametrize("lang", LOCALES)
async def test_the_more_button_shows_the_rest_of_a_card(chat, lang):
    user: ChatDriver = chat(lang)
    await user.press("station:moscow")
    card_text = user.last_message().text or ""
    assert "vestikavkaza" not in card_text
    requests = await user.press_button("smore:moscow")
    [text] = texts(requests)
    assert not sent(requests, SendLocation)  # the pin is already under the card
    # Every source: the station's own, the list's reports, those of the hours and documents.
    for source in INDEX.station("moscow").listed_in:  # type: ignore[union-attr]
        assert source in text
    assert "lada.kz" in text and "tengrinews" in text
    verified = long_date(INDEX.station("moscow").verified, lang)  # type: ignore[union-attr]
    assert translated("Verified on {date}", lang).format(date=verified) in text
    assert len(text) < 4096
    check_html(text)
    # And back to the card.
    await user.press_button("station:moscow")
    assert user.last_message().text == card_text


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize(
    "data",
    ["country:XX", "country:KZ", "station:nope", "countries:x", "smore:nope", "smore:", "smore"],
)
async def test_forged_buttons_are_out_of_date(chat, lang, data):
    user: ChatDriver = chat(lang)
    requests = await user.press(data)
    assert acks(requests) == [translated(OUT_OF_DATE, lang)]
    assert not sent(requests, SendLocation)


async def test_a_page_past_the_end_shows_the_last_page(chat):
    user: ChatDriver = chat("en")
    await user.press("countries:99")
    labels = [b.text for b in buttons(user.last_message().reply_markup)]
    assert "▶️" not in labels and "◀️" in labels


# --- any place a person types ----------------------------------------------------------------

# Cities without a station of their own, on every continent, as people type them in each
# language (with case endings), and the country each is in.
CITIES_WITHOUT_A_STATION = [
    # Europe
    ("en", "Munich", "DE"), ("ru", "в Мюнхене", "DE"), ("kk", "Мюнхенде", "DE"),
    ("en", "Vienna", "AT"), ("ru", "Вена", "AT"), ("kk", "Венада", "AT"),
    ("en", "Prague", "CZ"), ("ru", "Прага", "CZ"), ("ru", "Рим", "IT"), ("en", "Milan", "IT"),
    ("ru", "Милан", "IT"), ("en", "Barcelona", "ES"), ("ru", "Барселона", "ES"),
    ("en", "Lisbon", "PT"), ("ru", "Лиссабон", "PT"), ("en", "Amsterdam", "NL"),
    ("ru", "Брюссель", "BE"), ("en", "Geneva", "CH"), ("ru", "Цюрих", "CH"),
    ("en", "Budapest", "HU"), ("ru", "Будапешт", "HU"), ("en", "Helsinki", "FI"),
    ("ru", "Стокгольм", "SE"), ("en", "Athens", "GR"), ("ru", "Афины", "GR"),
    ("en", "Vilnius", "LT"), ("ru", "Рига", "LV"), ("ru", "Минск", "BY"), ("ru", "Киев", "UA"),
    ("en", "Kyiv", "UA"),
    # Russia beyond the stations' cities
    ("en", "Novosibirsk", "RU"), ("ru", "Новосибирск", "RU"), ("kk", "Новосибирскте", "RU"),
    ("ru", "Екатеринбург", "RU"), ("ru", "Красноярск", "RU"), ("ru", "Барнаул", "RU"),
    ("kk", "Орынбор", "RU"),
    # North America
    ("en", "Toronto", "CA"), ("kk", "Торонтода", "CA"), ("ru", "Ванкувер", "CA"),
    ("en", "Montreal", "CA"), ("en", "Chicago", "US"), ("ru", "Чикаго", "US"),
    ("kk", "Чикагода", "US"), ("en", "Los Angeles", "US"), ("ru", "Лос-Анджелес", "US"),
    ("en", "Mexico City", "MX"), ("en", "Havana", "CU"), ("ru", "Гавана", "CU"),
    # South America
    ("en", "Buenos Aires", "AR"), ("ru", "Буэнос-Айрес", "AR"), ("en", "São Paulo", "BR"),
    ("ru", "Сан-Паулу", "BR"), ("en", "Rio de Janeiro", "BR"), ("en", "Bogota", "CO"),
    ("ru", "Богота", "CO"), ("en", "Lima", "PE"), ("en", "Santiago", "CL"),
    # Africa
    ("en", "Lagos", "NG"), ("en", "Nairobi", "KE"), ("ru", "Найроби", "KE"),
    ("en", "Cape Town", "ZA"), ("ru", "Кейптаун", "ZA"), ("en", "Casablanca", "MA"),
    ("ru", "Касабланка", "MA"), ("en", "Accra", "GH"), ("en", "Dakar", "SN"),
    ("ru", "Аддис-Абеба", "ET"),
    # Asia
    ("en", "Tel Aviv", "IL"), ("ru", "Тель-Авив", "IL"), ("en", "Osaka", "JP"),
    ("ru", "Осака", "JP"), ("en", "Busan", "KR"), ("en", "Bangkok", "TH"),
    ("kk", "Бангкокта", "TH"), ("en", "Hanoi", "VN"), ("en", "Jakarta", "ID"),
    ("en", "Manila", "PH"), ("en", "Kuala Lumpur", "MY"), ("en", "Mumbai", "IN"),
    ("en", "Karachi", "PK"), ("ru", "Кабул", "AF"), ("ru", "Бейрут", "LB"),
    ("en", "Taipei", "TW"), ("kk", "Үрімжі", "CN"), ("ru", "Урумчи", "CN"),
    ("ru", "Улан-Батор", "MN"),
    # Oceania
    ("en", "Sydney", "AU"), ("ru", "Сидней", "AU"), ("kk", "Сиднейде", "AU"),
    ("en", "Canberra", "AU"), ("ru", "в Канберре", "AU"), ("en", "Melbourne", "AU"),
    ("kk", "Мельбурнда", "AU"), ("en", "Auckland", "NZ"), ("ru", "Окленд", "NZ"),
    ("en", "Wellington", "NZ"), ("kk", "Веллингтонда", "NZ"),
]  # fmt: skip


def test_the_places_cover_every_continent_and_language():
    assert len(CITIES_WITHOUT_A_STATION) >= 60
    assert {lang for lang, _, _ in CITIES_WITHOUT_A_STATION} == set(LOCALES)
    continents = {"AU", "NZ"}, {"AR", "BR"}, {"NG", "KE", "ZA"}, {"CA", "US"}, {"DE"}, {"JP"}
    codes = {code for _, _, code in CITIES_WITHOUT_A_STATION}
    assert all(codes & continent for continent in continents)


@pytest.mark.parametrize(("lang", "text", "country"), CITIES_WITHOUT_A_STATION)
async def test_type_a_city_without_a_station(chat, lang, text, country):
    [place] = INDEX.find(text).places
    assert place.country == country and place.city is not None
    assert place.city.geonameid not in {s.geonameid for s in CONTENT.stations}
    user: ChatDriver = chat(lang)
    requests = await user.send(text)
    [listing] = texts(requests)
    assert translated("Our data has no Kazakh polling station in this city.", lang) in listing
    # The three nearest stations by an independent distance from the city's GeoNames point.
    point = (place.city.latitude, place.city.longitude)
    cities = {s.id: find_city(s.geonameid) for s in CONTENT.stations}
    nearest = sorted(
        CONTENT.stations,
        key=lambda s: haversine(point, (cities[s.id].latitude, cities[s.id].longitude)),  # type: ignore[union-attr]
    )[:3]
    for station in nearest:
        assert station.city.get(lang) in listing
    data = [b.callback_data for b in buttons(sent(requests, SendMessage)[0].reply_markup)]
    assert data[:3] == [f"station:{s.id}" for s in nearest]
    check_html(listing)


@pytest.mark.parametrize(
    ("lang", "text"),
    [("ru", "где голосовать в Мюнхене?"), ("kk", "Мюнхенде қайда дауыс беремін"),
     ("en", "where can I vote near Perth"), ("ru", "gde golosovat v Toronto")],
)  # fmt: skip
async def test_where_to_vote_in_a_city_without_a_station(chat, lang, text):
    user: ChatDriver = chat(lang)
    [listing] = texts(await user.send(text))
    assert translated("Our data has no Kazakh polling station in this city.", lang) in listing


@pytest.mark.parametrize(
    ("lang", "text", "code"),
    [("en", "USA", "US"), ("ru", "США", "US"), ("kk", "АҚШ", "US"), ("en", "UK", "GB"),
     ("ru", "Англия", "GB"), ("kk", "Англияда", "GB"), ("ru", "Эмираты", "AE")],
)  # fmt: skip
async def test_type_a_colloquial_country_name(chat, lang, text, code):
    user: ChatDriver = chat(lang)
    requests = await user.send(text)
    listing = texts(requests)[0]
    stations = INDEX.stations_in(code)
    if len(stations) == 1:  # the card of the one station
        assert listing.startswith(f"<b>📍 {stations[0].city.get(lang)}")
        return
    assert listing.startswith(f"<b>🌍 {country_label(code, lang)}")
    data = [b.callback_data for b in buttons(sent(requests, SendMessage)[0].reply_markup)]
    assert {f"station:{s.id}" for s in INDEX.stations_in(code)} <= set(data)


@pytest.mark.parametrize(
    ("lang", "text", "city"),
    [
        ("kk", "Алматыда", "Алматы"),
        ("ru", "Караганда", "Караганда"),
        ("en", "Shymkent", "Shymkent"),
    ],
)
async def test_type_a_kazakh_city(chat, lang, text, city):
    user: ChatDriver = chat(lang)
    requests = await user.send(text)
    [home] = texts(requests)
    assert home == translated(
        "{city} is in Kazakhstan. At home you vote at your local polling station, not at one "
        "abroad: the button below says how to find yours.",
        lang,
    ).format(city=city)
    assert "faq:voting.find_station" in [
        b.callback_data for b in buttons(user.last_message().reply_markup)
    ]
    assert not sent(requests, SendLocation)


@pytest.mark.parametrize(("lang", "text"), [("en", "Istanbul"), ("ru", "в Мюнхене")])
async def test_ask_answers_a_place_as_the_chat_does(tmp_path, settings, bot, session, lang, text):
    """`python -m bot ask` and the chat share one function: the same texts, on today's date."""
    from test_store import cli

    from bot.dispatcher import astana_today

    done = cli("ask", "--json", "--lang", lang, text, db=settings.database_path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)["answer"]
    dispatcher = make_dispatcher(settings, astana_today())
    await dispatcher.emit_startup(bot=bot, **dispatcher.workflow_data)
    try:
        user = ChatDriver(dispatcher, bot, session, UpdateFactory(user_id=777, language_code=lang))
        chat_texts = texts(await user.send(text))
    finally:
        await dispatcher.emit_shutdown(bot=bot, **dispatcher.workflow_data)
    assert answer == "\n\n".join(chat_texts)
