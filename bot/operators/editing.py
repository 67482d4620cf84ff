"""Operators' changes to one FAQ entry: finding it, validating an edit exactly as an import
would, saving it with its audit row, and putting the running bot's search on the new content
at once."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot import LOCALES
from bot.content.models import (
    SECTIONS,
    Content,
    FaqEntry,
    Station,
    StationStatus,
    Translation,
    Vote,
)
from bot.content.sync import check_references
from bot.content.yaml_io import format_error
from bot.delivery.reminders import utc_now, votes_dated
from bot.library import Library
from bot.render import render_answer
from bot.storage import RECORD_KINDS, AuditRow, Database

Record = TypeVar("Record", bound=BaseModel)

MAX_FOUND = 5


class EditRefused(ValueError):
    """An edit the import would refuse; str() is the reason, for the operator."""


class Saved(StrEnum):
    DONE = "done"
    UNCHANGED = "unchanged"  # the entry already is so: nothing written, nothing logged
    CONFLICT = "conflict"  # it changed or vanished since the operator saw it: nothing written


def find_entries(library: Library, query: str) -> list[FaqEntry]:
    """An exact id finds that entry, published or hidden; any other text is searched as a user's
    question would be, best guesses first."""
    query = query.strip()
    exact = library.content.entry(query)
    if exact is not None:
        return [exact]
    result = library.search(query)
    ids = [
        *([result.answer.entry_id] if result.answer else []),
        *result.suggestions,
        *(m.entry_id for m in result.ranked),
    ]
    found = [e for i in dict.fromkeys(ids) if (e := library.content.entry(i)) is not None]
    return found[:MAX_FOUND]


def changed(entry: Record, **fields: Any) -> Record:
    """`entry` (an FAQ entry, a vote, a station) with `fields` replaced, validated as the
    import validates a record: the model's own checks (Telegram HTML, length, sources, dates)."""
    return _validated(type(entry), entry.model_dump(mode="json") | fields)


def _validated(model: type[Record], data: dict[str, Any]) -> Record:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise EditRefused("; ".join(format_error(e) for e in exc.errors())) from exc


def with_answer(entry: FaqEntry, lang: str, answer: str) -> FaqEntry:
    return changed(entry, **{lang: entry.text(lang).model_dump() | {"answer": answer}})


def with_phrasing(entry: FaqEntry, lang: str, question: str) -> FaqEntry | None:
    """None when the entry already has that phrasing (ignoring case)."""
    text = entry.text(lang)
    if question.casefold() in {q.casefold() for q in text.questions}:
        return None
    questions = [*text.questions, question]
    return changed(entry, **{lang: text.model_dump() | {"questions": questions}})


def with_questions(
    entry: FaqEntry, lang: str, questions: list[str], added: str | None = None
) -> FaqEntry:
    """The entry with this language's whole list of phrasings. `added`, the phrasing the
    operator typed, is refused when the list has it already (ignoring case)."""
    if added is not None and [q.casefold() for q in questions].count(added.casefold()) > 1:
        raise EditRefused("this phrasing is already there")
    return changed(entry, **{lang: entry.text(lang).model_dump() | {"questions": questions}})


def adding_phrasing(entry: FaqEntry, lang: str, question: str) -> FaqEntry:
    question = question.strip()
    return with_questions(entry, lang, [*entry.text(lang).questions, question], added=question)


def without_phrasing(entry: FaqEntry, lang: str, index: int) -> FaqEntry:
    questions = entry.text(lang).questions
    if not 0 <= index < len(questions):
        raise EditRefused("there is no such phrasing")
    return with_questions(entry, lang, questions[:index] + questions[index + 1 :])


def replacing_phrasing(entry: FaqEntry, lang: str, index: int, question: str) -> FaqEntry:
    questions = list(entry.text(lang).questions)
    if not 0 <= index < len(questions):
        raise EditRefused("there is no such phrasing")
    questions[index] = question.strip()
    return with_questions(entry, lang, questions, added=question.strip())


_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)


def sources_from(text: str, keep: list[str]) -> list[str]:
    """An operator's list of sources, one a line. A source they add must be a web address
    (http or https) a reader can open; one already in `keep` (imported citations such as
    "inform.kz (2023-03-19)") may stay as it is."""
    sources = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    if not sources:
        raise EditRefused("sources: at least one source is needed")
    bad = [s for s in sources if s not in keep and not _URL.match(s)]
    if bad:
        raise EditRefused("not a web address (http:// or https://): " + ", ".join(bad))
    return sources


def with_sources(entry: Record, text: str) -> Record:
    return changed(entry, sources=sources_from(text, list(getattr(entry, "sources", []))))


def check_in(content: Content, entry: FaqEntry) -> None:
    """The import's checks across records, for the content with `entry` in place."""
    faq = [entry if e.id == entry.id else e for e in content.faq]
    problems = [text for key, text in check_references(_with_faq(content, faq)) if key == entry.id]
    if problems:
        raise EditRefused("; ".join(problems))


def _with_faq(content: Content, faq: list[FaqEntry]) -> Content:
    return content.model_copy(update={"faq": faq})


def preview(library: Library, entry: FaqEntry, lang: str, today: date) -> str:
    """Exactly the text a user asking in `lang` would get once `entry` is saved (the caller
    sets the gettext locale to `lang`)."""
    faq = [entry if e.id == entry.id else e for e in library.content.faq]
    return render_answer(_with_faq(library.content, faq), entry, lang, today)


async def save(
    db: Database, library: Library, seen: str, entry: FaqEntry, actor: int, action: str = "edit"
) -> Saved:
    """Saves `entry` over the version the operator saw (`seen`, its JSON document), logs it,
    and reloads the library so the very next question is answered from it."""
    if entry.model_dump_json() == seen:
        return Saved.UNCHANGED
    check_in(library.content, entry)
    if not await db.update_entry(entry, expect=seen, actor=actor, action=action):
        return Saved.CONFLICT
    await library.load(db)
    return Saved.DONE


def revertible(row: AuditRow) -> bool:
    """Changes an operator can undo from the bot: content edits, and an entry's creation (its
    undo hides the entry: nothing is hard-deleted)."""
    if row.kind == "faq":
        return row.before is not None or row.action == "create"
    return row.kind in EDITABLE_KINDS and row.before is not None


async def revert(db: Database, library: Library, row: AuditRow, actor: int) -> Saved:
    """Puts back the record exactly as it was before the change `row` records."""
    if not revertible(row):
        return Saved.CONFLICT
    if row.kind != "faq":
        current_record = record(library.content, row.kind, row.record_id)
        if current_record is None or row.before is None:
            return Saved.CONFLICT
        earlier_record = type(current_record).model_validate_json(row.before)
        return await save_record(
            db, library, current_record.model_dump_json(), earlier_record, actor, "revert"
        )
    current = library.content.entry(row.record_id)
    if current is None:
        return Saved.CONFLICT
    earlier = (
        FaqEntry.model_validate_json(row.before)
        if row.before is not None
        else changed(current, published=False)
    )
    return await save(db, library, current.model_dump_json(), earlier, actor, "revert")


# --- a new entry ---------------------------------------------------------------------------

# The entry's buttons carry its id, and Telegram allows 64 bytes of data per button.
MAX_ID_CHARS = 40
ID_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


def check_new_id(content: Content, entry_id: str) -> str:
    entry_id = entry_id.strip()
    if not ID_PATTERN.match(entry_id):
        raise EditRefused(
            "an id is lowercase words joined by dots, such as abroad.where_to_vote "
            "(letters a-z, digits, _; at least one dot)"
        )
    if len(entry_id) > MAX_ID_CHARS:
        raise EditRefused(f"an id has at most {MAX_ID_CHARS} characters")
    if content.entry(entry_id) is not None:
        raise EditRefused(f"the id {entry_id} is taken")
    return entry_id


def translation(title: str, question: str, answer: str = "") -> dict[str, Any]:
    """One language of a new entry, checked as the import checks it (an empty answer is
    checked when the entry is put together)."""
    return _validated(
        Translation, {"title": title, "questions": [question], "answer": answer}
    ).model_dump()


def new_entry(
    entry_id: str, section: str, texts: dict[str, dict[str, Any]], sources: list[str], today: date
) -> FaqEntry:
    """An entry from what the operator wrote: a title, one question and an answer in one or
    more languages. A language not written yet gets a copy of the first one written, so every
    user gets an answer; coverage lists the entry until it is translated."""
    if section not in SECTIONS:
        raise EditRefused(f"unknown section {section}")
    written = [lang for lang in LOCALES if lang in texts]
    if not written:
        raise EditRefused("write the entry in at least one language")
    first = texts["en" if "en" in texts else written[0]]
    data: dict[str, Any] = {
        "id": entry_id,
        "section": section,
        "sources": sources,
        "verified": today.isoformat(),
        **{lang: texts.get(lang, first) for lang in LOCALES},
    }
    return _validated(FaqEntry, data)


async def create(db: Database, library: Library, entry: FaqEntry, actor: int) -> Saved:
    """Saves a new entry (audited as a creation); CONFLICT when the id was taken meanwhile."""
    check_new_id(library.content, entry.id)
    check_in(library.content, entry)
    if not await db.insert_entry(entry, actor=actor):
        return Saved.CONFLICT
    await library.load(db)
    return Saved.DONE


# --- stations and votes ------------------------------------------------------------------

EDITABLE_KINDS = {"vote": "votes", "station": "stations"}
MAX_STATIONS_FOUND = 8


def record(content: Content, kind: str, record_id: str) -> Vote | Station | None:
    field = EDITABLE_KINDS.get(kind)
    if field is None:
        return None
    return next((r for r in getattr(content, field) if r.id == record_id), None)


def kind_of(item: BaseModel) -> str:
    return next(kind for field, (kind, model, _) in RECORD_KINDS.items() if model is type(item))


def find_stations(content: Content, query: str) -> list[Station]:
    """A station id finds that station; other text is matched against the city names in every
    language and the country code."""
    query = query.strip()
    exact = record(content, "station", query)
    if isinstance(exact, Station):
        return [exact]
    folded = query.casefold()
    if not folded:
        return []
    found = [
        s
        for s in content.stations
        if folded == s.country.casefold()
        or any(folded in s.city.get(lang).casefold() for lang in LOCALES)
    ]
    return found[:MAX_STATIONS_FOUND]


def with_station_status(
    station: Station, vote_id: str, status: StationStatus | None, today: date
) -> Station:
    """None: the status is not confirmed (the vote is taken out of the station's list)."""
    votes = {k: v for k, v in station.votes.items() if k != vote_id}
    if status is not None:
        votes[vote_id] = status
    return changed(station, votes=votes, verified=today.isoformat())


STATION_FIGURES = ("address", "number", "email")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
CLEAR = "-"


def with_station_figure(station: Station, figure: str, text: str, today: date) -> Station:
    """A figure as the operator typed it ("-" removes it). The figure now rests on the
    operator's check today, so the year of an older source no longer dates it."""
    if figure not in STATION_FIGURES:
        raise EditRefused(f"unknown field {figure}")
    text = " ".join(text.split())
    value: str | int | None = None if text == CLEAR else text
    if figure == "number" and value is not None:
        if not text.isdecimal() or not 0 < int(text) < 100_000:
            raise EditRefused("a station number is a whole number")
        value = int(text)
    if figure == "email" and value is not None and not _EMAIL.match(text):
        raise EditRefused("not an e-mail address")
    if figure == "address" and value is not None and re.search(r"[<>]", text):
        raise EditRefused("an address is plain text: no HTML tags")
    as_of = {k: v for k, v in station.as_of.items() if k != figure}
    return changed(station, **{figure: value, "as_of": as_of, "verified": today.isoformat()})


def with_vote_date(vote: Vote, text: str, today: date) -> Vote:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise EditRefused("a date is written YYYY-MM-DD, such as 2027-03-21") from exc
    return changed(vote, date=day.isoformat(), verified=today.isoformat())


def with_vote_status(vote: Vote, status: str, today: date) -> Vote:
    return changed(vote, status=status, verified=today.isoformat())


def check_record_in(content: Content, item: Vote | Station) -> None:
    """The import's checks across records (known vote, city and country) with `item` in place."""
    field = EDITABLE_KINDS[kind_of(item)]
    items = [item if r.id == item.id else r for r in getattr(content, field)]
    problems = [
        text
        for key, text in check_references(content.model_copy(update={field: items}))
        if key == item.id
    ]
    if problems:
        raise EditRefused("; ".join(problems))


async def save_record(
    db: Database, library: Library, seen: str, item: Vote | Station, actor: int, action: str
) -> Saved:
    """Saves a vote or a station over the version the operator saw, logs it, reloads the
    library; a vote that got a date is announced to those who asked, as an import does."""
    if item.model_dump_json() == seen:
        return Saved.UNCHANGED
    check_record_in(library.content, item)
    kind = kind_of(item)
    change = await db.update_record(
        kind, item.id, item.model_dump_json(), expect=seen, actor=actor, action=action
    )
    if change is None:
        return Saved.CONFLICT
    await library.load(db)
    if kind == "vote":
        await votes_dated(db, library.content, [change], utc_now())
    return Saved.DONE
