"""Station cards and the other station texts, as Telegram HTML in the current gettext locale.

Only what stations.yaml gives is shown; where it is silent (an address, a status) the text says
so and sends the reader to the Foreign Ministry's list and the mission.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton
from babel.numbers import format_decimal

from bot.content.models import Sourced, Station, StationCountry, StationStatus
from bot.render import alphabetical_key, footer, long_date, vote_when
from bot.stations.geo import City, country_name
from bot.stations.index import Hours, Nearby, StationIndex

# FAQ entries whose facts every card repeats (list, documents, hours): their sources go under
# the card with the station's own.
CARD_ENTRIES = ("abroad.how", "abroad.documents", "abroad.hours")
NO_STATION_ENTRY = "abroad.no_station"


def country_label(code: str, lang: str) -> str:
    return country_name(code, lang) or code


def _place_label(station: Station, lang: str) -> str:
    return f"{station.city.get(lang)}, {country_label(station.country, lang)}"


def _km_text(km: float, lang: str) -> str:
    return _("{km} km").format(km=format_decimal(round(km), locale=lang))


def _status_text(status: StationStatus | None) -> str:
    if status == "operated":
        return _("the station operated")
    if status == "suspended":
        return _("the station was suspended")
    return _("status not confirmed in our sources; check the Foreign Ministry's list")


def _status_lines(index: StationIndex, votes: dict[str, StationStatus], lang: str) -> list[str]:
    lines = []
    for number, line in enumerate(index.statuses(votes)):
        vote = f"{escape(line.vote.title.get(lang))} ({vote_when(line.vote, lang)})"
        template = "🗳 {vote}: {status}." if number == 0 else _("Earlier, {vote}: {status}.")
        lines.append(template.format(vote=vote, status=_status_text(line.status)))
    return lines


def _window(hours: Hours, lang: str) -> str:
    start, end = hours.start, hours.end
    if start.date() == end.date() == hours.day:
        return f"{start:%H:%M}-{end:%H:%M}"
    return _("from {start} on {start_day} to {end} on {end_day}").format(
        start=f"{start:%H:%M}",
        start_day=format_skeleton("MMMMd", start.date(), locale=lang),
        end=f"{end:%H:%M}",
        end_day=format_skeleton("MMMMd", end.date(), locale=lang),
    )


def _hours_lines(hours: Hours | None, lang: str) -> list[str]:
    lines = ["🕖 " + _("Voting hours: 07:00-20:00 local time.")]
    if hours is None:
        return lines
    window = _window(hours, lang)
    day = long_date(hours.day, lang)
    if hours.vote is not None:
        lines.append(
            _("On {date} ({vote}) that is {window} Astana time.").format(
                date=day, vote=escape(hours.vote.title.get(lang)), window=window
            )
        )
    else:
        lines.append(
            _(
                "Today, {date}, that is {window} Astana time; the difference can change "
                "with daylight saving time."
            ).format(date=day, window=window)
        )
    return lines


def _station_lines(index: StationIndex, station: Station, lang: str, today: date) -> list[str]:
    """The facts of one station: number, mission, address, e-mail; hours; status."""
    lines = []
    if station.number is not None:
        lines.append(_("Polling station No. {number}").format(number=station.number))
    if station.mission == "embassy":
        lines.append(_("At the embassy"))
    elif station.mission == "consulate":
        lines.append(_("At the consulate"))
    if station.address:
        lines.append(_("Address: {address}").format(address=escape(station.address)))
    else:
        lines.append(_("Address: not in our sources."))
    if station.email:
        lines.append(_("E-mail: {email}").format(email=escape(station.email)))
    lines += _hours_lines(index.hours(station, today), lang)
    lines += _status_lines(index, station.votes, lang)
    return lines


def _advice(stations: Sequence[Station]) -> list[str]:
    lines = []
    if any(not s.address for s in stations):
        lines.append(
            _(
                "Where the address is not given, check the Foreign Ministry's list of stations "
                "for the vote and contact the embassy or consulate."
            )
        )
    lines.append(
        "🪪 "
        + _(
            "Bring a valid passport of a citizen of Kazakhstan. Some missions also named the ID "
            "card (for example, the embassy in Moscow); ask your station in advance."
        )
    )
    lines.append(
        "📝 "
        + _(
            "Contact the station in advance to be put on its voter list: the lists are made "
            "from written applications and consular registration."
        )
    )
    return lines


def _footer(
    index: StationIndex, records: Sequence[Sourced], entry_ids: tuple[str, ...], lang: str
) -> str:
    entries = [e for i in entry_ids if (e := index.content.entry(i)) is not None and e.published]
    sourced: list[Sourced] = [*records, *entries]
    if not sourced:
        return ""
    sources = [s for item in sourced for s in item.sources]
    return footer(sources, min(item.verified for item in sourced), lang)


def station_card(
    index: StationIndex, station: Station, lang: str, today: date, *, pin: bool
) -> str:
    """One station; `pin` when a map pin (the city centre) follows the card."""
    facts = [f"<b>📍 {escape(_place_label(station, lang))}</b>"]
    facts += _station_lines(index, station, lang, today)
    advice = _advice([station])
    if pin:
        advice.append("🗺 " + _("Map pin below: the city centre, not the station's building."))
    text = "\n".join(facts) + "\n\n" + "\n".join(advice)
    return text + _footer(index, [station], CARD_ENTRIES, lang)


def country_card(index: StationIndex, code: str, lang: str, today: date) -> str:
    """All stations of a country with several, shorter; each city's button opens its card."""
    stations = sorted(index.stations_in(code), key=lambda s: alphabetical_key(s.city.get(lang)))
    parts = [
        f"<b>🌍 {escape(country_label(code, lang))}</b>\n"
        + _("Polling stations in our data; tap a city for its card and map pin.")
    ]
    for station in stations:
        block = [f"<b>{escape(station.city.get(lang))}</b>"]
        parts.append("\n".join(block + _station_lines(index, station, lang, today)))
    parts.append("\n".join(_advice(stations)))
    return "\n\n".join(parts) + _footer(index, stations, CARD_ENTRIES, lang)


def _nearby_lines(nearby: list[Nearby], lang: str) -> list[str]:
    return [
        f"{number}. {escape(_place_label(n.station, lang))}: {_km_text(n.km, lang)}"
        for number, n in enumerate(nearby, 1)
    ]


def _nearest_heading(capital: bool) -> str:
    if capital:
        return _(
            "Nearest stations in other countries (straight-line distance from the country's "
            "capital):"
        )
    return _(
        "Nearest stations in other countries (straight-line distance from the country's "
        "largest city):"
    )


def no_station_text(
    index: StationIndex, code: str, lang: str, nearby: list[Nearby], capital: bool
) -> str:
    """A country our data has no station in: the nearest ones in other countries."""
    lines = [
        f"<b>🌍 {escape(country_label(code, lang))}</b>",
        _(
            "{country}: our data has no Kazakh polling station there. Our sources do not say "
            "whether you may vote at a station in another country: ask that station in advance "
            "and check election.gov.kz."
        ).format(country=escape(country_label(code, lang))),
    ]
    if nearby:
        lines += ["", _nearest_heading(capital), *_nearby_lines(nearby, lang)]
    lines += ["", _mfa_list()]
    return "\n".join(lines) + _footer(index, [], (NO_STATION_ENTRY,), lang)


def _mfa_list() -> str:
    return _(
        "The Foreign Ministry publishes the full list of stations abroad for each vote: "
        "check it as well."
    )


def _record_lines(index: StationIndex, record: StationCountry, lang: str) -> list[str]:
    return [
        _(
            "{country}: our sources mention a Kazakh polling station there but do not name "
            "its city."
        ).format(country=escape(country_label(record.country, lang))),
        *_status_lines(index, record.votes, lang),
        _(
            "For the next vote, check the Foreign Ministry's list of stations abroad and contact "
            "the embassy or consulate."
        ),
    ]


def record_text(
    index: StationIndex, record: StationCountry, lang: str, nearby: list[Nearby], capital: bool
) -> str:
    """A country known to have (had) a station whose city the sources do not give."""
    lines = [f"<b>🌍 {escape(country_label(record.country, lang))}</b>"]
    lines += _record_lines(index, record, lang)
    if nearby:
        lines += ["", _nearest_heading(capital), *_nearby_lines(nearby, lang)]
    return "\n".join(lines) + _footer(index, [record], (), lang)


def nearest_text(index: StationIndex, nearby: list[Nearby], country: str | None, lang: str) -> str:
    """The reply to a shared location; `country` is where the point seems to be."""
    lines = []
    if country is not None and not index.stations_in(country):
        name = escape(country_label(country, lang))
        record = index.record(country)
        if record is not None:
            lines.append(_("This point seems to be in {country}.").format(country=name))
            lines += _record_lines(index, record, lang)
        else:
            lines.append(
                _(
                    "This point seems to be in {country}: our data has no Kazakh polling "
                    "station there."
                ).format(country=name)
            )
        lines.append("")
    lines.append(_("Nearest polling stations to you (straight-line distance):"))
    lines += _nearby_lines(nearby, lang)
    return "\n".join(lines)


def home_text(city: str | None = None) -> str:
    """Kazakhstan, from a shared point or a typed city."""
    if city is None:
        return _(
            "This point seems to be in Kazakhstan. At home you vote at your local polling "
            "station, not at one abroad."
        )
    return _(
        "{city} is in Kazakhstan. At home you vote at your local polling station, not at one "
        "abroad: the button below says how to find yours."
    ).format(city=escape(city))


def city_text(index: StationIndex, city: City, nearby: list[Nearby], lang: str) -> str:
    """A city abroad without a station of its own: the nearest ones, measured from it."""
    country = escape(country_label(city.country, lang))
    lines = [
        f"<b>📍 {escape(city.name)}, {country}</b>",
        _("Our data has no Kazakh polling station in this city."),
    ]
    record = index.record(city.country)
    if record is not None:
        lines += _record_lines(index, record, lang)
    if nearby:
        lines += [
            "",
            _("Nearest polling stations in our data (straight-line distance from {city}):").format(
                city=escape(city.name)
            ),
            *_nearby_lines(nearby, lang),
        ]
    lines += ["", _mfa_list()]
    return "\n".join(lines)
