"""Reminders before a dated vote, and the message that a vote got its date.

A user's subscription (storage: reminder_prefs) names the moments they want; planning turns
each moment of each dated vote into an outbox row whose due time is that moment in the user's
zone (the chosen station's abroad, else Astana's), stored in UTC. The deliverer claims a row
only once it is due; a moment already past when planned is not planned, and one that stopped
making sense while the bot was down (the day-before reminder on voting day) is skipped at send
time. Texts are rendered at send time, in the recipient's language.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from html import escape
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import ASTANA
from bot.content.models import Content, Station, Vote
from bot.delivery.outbox import Message, Renderer
from bot.keyboards import RemindCb
from bot.library import Library
from bot.render import OFFICIAL_SITE, long_date
from bot.stations.card import station_card
from bot.stations.geo import find_city
from bot.storage import Change, Database, ReminderPrefs

log = logging.getLogger(__name__)

KIND = "reminder"
DATED_KIND = "vote_dated"
MOMENTS = ("week", "day", "morning", "absentee")
HOME_ONLY = frozenset({"absentee"})  # the absentee certificate is a thing inside Kazakhstan
DEFAULTS = ReminderPrefs(announce=True, moments=MOMENTS)
HOUR = time(10)
VOTING_DAY_HOUR = time(8)
PLAN_BATCH = 500

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Moment:
    name: str
    due: datetime  # in the user's zone
    expires: datetime  # after this, the reminder is no longer worth sending


def zone_of(content: Content, station_id: str | None) -> tzinfo:
    """The chosen station's zone (GeoNames knows each city's), else Astana's."""
    station = _station(content, station_id)
    city = find_city(station.geonameid) if station else None
    return ZoneInfo(city.timezone) if city else ASTANA


def _station(content: Content, station_id: str | None) -> Station | None:
    return next((s for s in content.stations if s.id == station_id), None)


def moment(name: str, day: date, zone: tzinfo) -> Moment:
    """When the reminder `name` for a vote on `day` is due, and until when it makes sense.
    facts.md: polls 07:00-20:00 local time; absentee certificates until 18:00 the day before."""

    def at(when: date, hour: time) -> datetime:
        return datetime.combine(when, hour, zone)

    before = day - timedelta(days=1)
    if name == "week":
        week = day - timedelta(days=7)
        return Moment(name, at(week, HOUR), at(week + timedelta(days=1), time(0)))
    if name == "day":
        return Moment(name, at(before, HOUR), at(day, time(0)))
    if name == "morning":
        return Moment(name, at(day, VOTING_DAY_HOUR), at(day, time(20)))
    if name == "absentee":
        return Moment(name, at(before, HOUR), at(before, time(18)))
    raise ValueError(f"unknown moment {name!r}")


def applies(name: str, station_id: str | None) -> bool:
    return station_id is None or name not in HOME_ONLY


def dated_votes(content: Content, today: date) -> list[Vote]:
    """Announced votes with an exact date, today or later, soonest first."""
    found = [v for v in content.votes if v.status == "announced" and v.date and v.date >= today]
    return sorted(found, key=lambda v: v.sort_key)


def _key(vote: Vote, name: str) -> str:
    return f"{KIND}:{vote.id}:{vote.date}:{name}"


async def plan_user(
    db: Database,
    content: Content,
    user_id: int,
    station_id: str | None,
    prefs: ReminderPrefs | None,
    now: datetime,
    broadcasts: dict[str, int] | None = None,
) -> int:
    """The user's waiting reminder rows become what their subscription asks for now; returns
    how many are planned. A moment already past is not planned. `broadcasts` remembers the
    planned broadcasts' ids by key across users."""
    broadcasts = {} if broadcasts is None else broadcasts
    planned: dict[int, datetime] = {}
    zone = zone_of(content, station_id)
    wanted = [m for m in (prefs.moments or ()) if m in MOMENTS] if prefs else []
    for vote in dated_votes(content, now.astimezone(zone).date()) if wanted else []:
        assert vote.date is not None
        for name in wanted:
            if not applies(name, station_id):
                continue
            when = moment(name, vote.date, zone)
            if when.due <= now:
                continue
            key = _key(vote, name)
            if key not in broadcasts:
                payload = {"vote": vote.id, "date": vote.date.isoformat(), "moment": name}
                broadcasts[key] = (await db.broadcast_keyed(key, KIND, payload, now))[0]
            planned[broadcasts[key]] = when.due
    await db.outbox_plan(user_id, planned, KIND)
    return len(planned)


async def plan_all(db: Database, content: Content, now: datetime) -> int:
    """Plans every subscriber, in batches (memory does not grow with them)."""
    after, total = 0, 0
    broadcasts: dict[str, int] = {}
    while batch := await db.reminder_subscribers(after, PLAN_BATCH):
        for user_id, station_id, prefs in batch:
            total += await plan_user(db, content, user_id, station_id, prefs, now, broadcasts)
        after = batch[-1][0]
    return total


def newly_dated(found: list[Change]) -> list[Vote]:
    """Announced votes an import gave a date they did not have (or a different one)."""
    votes = []
    for change in found:
        if change.kind != "vote" or change.after is None:
            continue
        vote = Vote.model_validate_json(change.after)
        before = json.loads(change.before).get("date") if change.before else None
        if vote.status == "announced" and vote.date and vote.date.isoformat() != before:
            votes.append(vote)
    return votes


async def votes_dated(db: Database, after: Content, found: list[Change], now: datetime) -> int:
    """The import hook: each vote that got a date is announced once to everyone who asked
    (a re-import finds the broadcast already there), and reminders are planned for it.
    Returns how many announcement rows were added."""
    votes = [v for v in newly_dated(found) if v.date and v.date >= now.astimezone(ASTANA).date()]
    added = 0
    for vote in votes:
        payload = {"vote": vote.id, "date": str(vote.date)}
        key = f"{DATED_KIND}:{vote.id}:{vote.date}"
        broadcast_id, made = await db.broadcast_keyed(key, DATED_KIND, payload, now)
        if made:
            added += await db.outbox_add_announce_subscribers(broadcast_id)
            log.info("vote %s dated %s: %d subscribers will be told", vote.id, vote.date, added)
    if votes:
        await plan_all(db, after, now)
    return added


# --- texts, rendered at send time ------------------------------------------------------------


def moment_label(name: str) -> str:
    return {
        "week": _("A week before, 10:00"),
        "day": _("The day before, 10:00"),
        "morning": _("On voting day, 08:00"),
        "absentee": _("Last day for an absentee certificate, 10:00"),
    }[name]


def _headline(name: str, vote: Vote, lang: str) -> str:
    assert vote.date is not None  # only dated votes have reminders
    fields = {"vote": escape(vote.title.get(lang)), "date": long_date(vote.date, lang)}
    if name == "week":
        return _("🗓 In a week, on {date}: {vote}.").format(**fields)
    if name == "day":
        return _("🗓 Tomorrow, {date}: {vote}.").format(**fields)
    if name == "morning":
        return _("🗳 Today, {date}, is voting day: {vote}.").format(**fields)
    return _(
        "📝 Today is the last day to get an absentee certificate for {vote} ({date}), if you "
        "will not be where you are registered on voting day."
    ).format(**fields)


def _home_lines(name: str) -> list[str]:
    if name == "absentee":
        return [
            _(
                "It is issued until 18:00 today by the precinct commission where you are "
                "registered, on a written application with your ID; someone you trust may "
                "collect it with a simple (not notarised) power of attorney. It is not issued "
                "for another station in the same town, and a lost one is not replaced."
            )
        ]
    return [
        _("Polling stations are open 07:00-20:00 local time."),
        _(
            "Bring your identity card or passport; a digital ID in the eGov Mobile, "
            "Kaspi or Halyk apps is accepted; a driver's licence is not."
        ),
    ]


def remind_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="🔔 " + _("My reminders"), callback_data=RemindCb(action="show").pack()
                )
            ]
        ]
    )


def reminder_text(library: Library, vote: Vote, name: str, station_id: str | None) -> str:
    """A reminder in the current gettext locale: what matters that day; abroad, the card of
    the chosen station."""
    lang = library.i18n.current_locale
    parts = [f"<b>{_headline(name, vote, lang)}</b>"]
    station = library.stations.station(station_id) if station_id else None
    if station is not None and vote.date is not None:
        parts.append(station_card(library.stations, station, lang, vote.date, pin=False))
    else:
        parts.append("\n".join(_home_lines(name)))
        parts.append(_("Official information: {site}").format(site=OFFICIAL_SITE))
    return "\n\n".join(parts)


def dated_text(vote: Vote, lang: str) -> str:
    assert vote.date is not None
    return "\n\n".join(
        (
            _("🗳 {vote} now has a date: {date}.").format(
                vote=f"<b>{escape(vote.title.get(lang))}</b>", date=long_date(vote.date, lang)
            ),
            _("Would you like reminders before it? Tap the button below."),
            _("Official information: {site}").format(site=OFFICIAL_SITE),
        )
    )


class Renderers:
    """The deliverer's renderers for reminders and "a vote got its date": outside an update,
    each sets the recipient's locale itself."""

    def __init__(self, db: Database, library: Library, i18n: I18n, clock: Clock = utc_now) -> None:
        self.db, self.library, self.i18n, self.clock = db, library, i18n, clock

    def kinds(self) -> dict[str, Renderer]:
        return {KIND: self.reminder, DATED_KIND: self.dated}

    def _vote(self, payload: dict[str, object]) -> Vote | None:
        """The vote, if it still has the date the broadcast was planned for."""
        vote = self.library.content.vote(str(payload.get("vote")))
        if vote is None or vote.date is None or vote.date.isoformat() != payload.get("date"):
            return None
        return vote

    def _locale(self, locale: str) -> str:
        return locale if locale in self.i18n.available_locales else self.i18n.default_locale

    async def reminder(
        self, payload: dict[str, object], locale: str, user_id: int
    ) -> Message | None:
        await self.library.refresh(self.db)  # the vote may have been dated by an import
        vote = self._vote(payload)
        name = str(payload.get("moment"))
        station_id = await self.db.user_station(user_id)
        if vote is None or vote.date is None or name not in MOMENTS:
            return None
        if not applies(name, station_id):
            return None
        when = moment(name, vote.date, zone_of(self.library.content, station_id))
        if self.clock() >= when.expires:
            log.info("reminder %s for %s skipped: its moment has passed", name, vote.id)
            return None
        with self.i18n.context(), self.i18n.use_locale(self._locale(locale)):
            return Message(reminder_text(self.library, vote, name, station_id), remind_markup())

    async def dated(self, payload: dict[str, object], locale: str, user_id: int) -> Message | None:
        await self.library.refresh(self.db)
        vote = self._vote(payload)
        if vote is None or vote.date is None or vote.date < self.clock().astimezone(ASTANA).date():
            return None
        lang = self._locale(locale)
        with self.i18n.context(), self.i18n.use_locale(lang):
            return Message(dated_text(vote, lang), remind_markup())
