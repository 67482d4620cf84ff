"""Station cards and the other station texts, as Telegram HTML in the current gettext locale.

Only what stations.yaml gives is shown; where it is silent (an address, a status) the text says
so and sends the reader to the Foreign Ministry's list and the mission.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from html import escape

from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton
from babel.numbers import format_decimal

from bot.content.models import Sourced, Station, StationCountry, StationFigure, StationStatus
from bot.render import (
    MAX_SOURCE_LINKS,
    alphabetical_key,
    first_sources,
    footer,
    long_date,
    source_link,
    vote_when,
)
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


def _clock(moment: datetime, day: date) -> str:
    """A time of the window, marked when it falls on the day before or after `day`."""
    text = f"{moment:%H:%M}"
    if moment.date() > day:
        return _("{time} (next day)").format(time=text)
    if moment.date() < day:
        return _("{time} (day before)").format(time=text)
    return text


def _window(hours: Hours, lang: str) -> str:
    start, end = hours.start, hours.end
    if hours.vote is None:  # any voting day, so no dates
        return f"{_clock(start, hours.day)}-{_clock(end, hours.day)}"
    if start.date() == end.date() == hours.day:
        return f"{start:%H:%M}-{end:%H:%M}"
    return _("from {start} on {start_day} to {end} on {end_day}").format(
        start=f"{start:%H:%M}",
        start_day=format_skeleton("MMMMd", start.date(), locale=lang),
        end=f"{end:%H:%M}",
        end_day=format_skeleton("MMMMd", end.date(), locale=lang),
    )


def _hours_line(index: StationIndex, station: Station, lang: str, today: date) -> str:
    """07:00-20:00 local on voting day, and in Astana time: for the next dated vote when there
    is one, else for any voting day, with both seasons where the local clock changes."""
    hours = index.hours(station, today)
    if hours is None:
        return "🕖 " + _("Voting hours: 07:00-20:00 local time.")
    if hours.vote is not None:
        return "🕖 " + _(
            "On voting day, {date} ({vote}): 07:00-20:00 local time, that is {window} Astana time."
        ).format(
            date=long_date(hours.day, lang),
            vote=escape(hours.vote.title.get(lang)),
            window=_window(hours, lang),
        )
    both = index.seasons(station, hours.day.year)
    if both is None:
        return "🕖 " + _(
            "On voting day: 07:00-20:00 local time, that is {window} Astana time."
        ).format(window=_window(hours, lang))
    return "🕖 " + _(
        "On voting day: 07:00-20:00 local time, that is {window} Astana time, or {summer} "
        "while the local clock is on summer time."
    ).format(window=_window(both.standard, lang), summer=_window(both.summer, lang))


def _list_years(reports: Sequence[str]) -> str:
    """The years of the reports a list of stations rests on, "2015-2026"."""
    years = sorted({int(y) for s in reports for y in re.findall(r"\b(\d{4})\b", s)})
    if not years:
        return ""
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}-{years[-1]}"


def _as_of(station: Station, figure: StationFigure) -> str:
    """A figure's date, "(as of 2026)" where the data dates its source, else the list's years."""
    year = station.as_of.get(figure)
    if year is not None:
        return " " + _("(as of {year})").format(year=year)
    years = _list_years(station.listed_in)
    if years:
        return " " + _("(sources of {years}, year unknown)").format(years=years)
    return ""


def _facts(station: Station) -> list[str]:
    """Number and mission, address, e-mail: each dated by its source."""
    lines = []
    if station.number is not None:
        lines.append(
            _("Polling station No. {number}").format(number=station.number)
            + _as_of(station, "number")
        )
    if station.mission == "embassy":
        lines.append(_("At the embassy"))
    elif station.mission == "consulate":
        lines.append(_("At the consulate"))
    if station.address:
        lines.append(
            _("Address: {address}").format(address=escape(station.address))
            + _as_of(station, "address")
        )
    else:
        lines.append(_("Address: not in our sources; see the Foreign Ministry's list."))
    if station.email:
        lines.append(
            _("E-mail: {email}").format(email=escape(station.email)) + _as_of(station, "email")
        )
    return lines


def _card_sources(stations: Sequence[Station]) -> str:
    """The stations' own sources, at most MAX_SOURCE_LINKS with the list counted as one."""
    own = first_sources([s for station in stations for s in station.sources])
    items = [source_link(s) for s in own]
    reports = list(dict.fromkeys(s for station in stations for s in station.listed_in))
    if reports:
        summary = _("the list of stations in {n} reports of {years}").format(
            n=len(reports), years=_list_years(reports)
        )
        items = [*items[: MAX_SOURCE_LINKS - 1], summary]
    return _("Sources: {sources}").format(sources=", ".join(items))


def station_card(
    index: StationIndex, station: Station, lang: str, today: date, *, pin: bool
) -> str:
    """One station on one screen; `pin` when a map pin (the city centre) follows the card.
    The rest (all sources, the verified date, the notes) is behind the "more" button."""
    lines = [f"<b>📍 {escape(_place_label(station, lang))}</b>", *_facts(station)]
    lines.append(_hours_line(index, station, lang, today))
    lines.append("🪪 " + _("Bring a valid passport of a citizen of Kazakhstan."))
    lines += _status_lines(index, station.votes, lang)
    lines.append("📝 " + _("Contact the station in advance to be put on its voter list."))
    if pin:
        lines.append("🗺 " + _("Map pin below: the city centre, not the station's building."))
    return "\n".join(lines) + "\n\n" + _card_sources([station])


def station_more(index: StationIndex, station: Station, lang: str) -> str:
    """What the card leaves out: the notes, every source, the verified date."""
    lines = [f"<b>📍 {escape(_place_label(station, lang))}</b>", *_advice([station])]
    if station.listed_in and (station.number or station.address or station.email):
        lines.append(
            _(
                "Figures marked with the years of their sources come from a list of stations "
                "compiled from reports of {years}, which does not say which report names which "
                "city: check the Foreign Ministry's list for the next vote."
            ).format(years=_list_years(station.listed_in))
        )
    parts = ["\n".join(lines)]
    if station.sources:
        parts.append(
            _("This station's own sources: {sources}").format(
                sources=", ".join(source_link(s) for s in station.sources)
            )
        )
    if station.listed_in:
        parts.append(
            _("The list of stations rests on: {sources}").format(
                sources=", ".join(source_link(s) for s in station.listed_in)
            )
        )
    entries = [e for i in CARD_ENTRIES if (e := index.content.entry(i)) is not None and e.published]
    if entries:
        parts.append(
            _("Hours, documents and voter lists: {sources}").format(
                sources=", ".join(dict.fromkeys(source_link(s) for e in entries for s in e.sources))
            )
        )
    verified = min([station.verified, *(e.verified for e in entries)])
    parts.append(_("Verified on {date}").format(date=long_date(verified, lang)))
    return "\n\n".join(parts)


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


def _brief(station: Station, lang: str) -> str:
    """One line of a country's list: the city, its number and mission."""
    details = []
    if station.number is not None:
        details.append(_("No. {number}").format(number=station.number) + _as_of(station, "number"))
    if station.mission == "embassy":
        details.append(_("embassy"))
    elif station.mission == "consulate":
        details.append(_("consulate"))
    city = escape(station.city.get(lang))
    return f"• {city}: {', '.join(details)}" if details else f"• {city}"


def country_card(index: StationIndex, code: str, lang: str, today: date) -> str:
    """The stations of a country with several, one line each; each city's button opens its
    card."""
    stations = sorted(index.stations_in(code), key=lambda s: alphabetical_key(s.city.get(lang)))
    lines = [
        f"<b>🌍 {escape(country_label(code, lang))}</b>",
        _("Polling stations in our data; tap a city for its card and map pin."),
        "",
        *(_brief(s, lang) for s in stations),
        "",
        "🕖 " + _("Voting hours: 07:00-20:00 local time."),
        "🪪 " + _("Bring a valid passport of a citizen of Kazakhstan."),
    ]
    return "\n".join(lines) + "\n\n" + _card_sources(stations)


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
