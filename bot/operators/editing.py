"""Operators' changes to one FAQ entry: finding it, validating an edit exactly as an import
would, saving it with its audit row, and putting the running bot's search on the new content
at once."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from bot.content.models import Content, FaqEntry
from bot.content.sync import check_references
from bot.content.yaml_io import format_error
from bot.library import Library
from bot.render import render_answer
from bot.storage import AuditRow, Database

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


def changed(entry: FaqEntry, **fields: Any) -> FaqEntry:
    """`entry` with `fields` replaced, validated as the import validates a record: the model's
    own checks (Telegram HTML, length, sources) and the references across records."""
    data = entry.model_dump(mode="json") | fields
    try:
        new = FaqEntry.model_validate(data)
    except ValidationError as exc:
        raise EditRefused("; ".join(format_error(e) for e in exc.errors())) from exc
    return new


def with_answer(entry: FaqEntry, lang: str, answer: str) -> FaqEntry:
    return changed(entry, **{lang: entry.text(lang).model_dump() | {"answer": answer}})


def with_phrasing(entry: FaqEntry, lang: str, question: str) -> FaqEntry | None:
    """None when the entry already has that phrasing (ignoring case)."""
    text = entry.text(lang)
    if question.casefold() in {q.casefold() for q in text.questions}:
        return None
    questions = [*text.questions, question]
    return changed(entry, **{lang: text.model_dump() | {"questions": questions}})


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


async def revert(db: Database, library: Library, row: AuditRow, actor: int) -> Saved:
    """Puts back the entry exactly as it was before the change `row` records."""
    current = library.content.entry(row.record_id)
    if row.kind != "faq" or row.before is None or current is None:
        return Saved.CONFLICT
    earlier = FaqEntry.model_validate_json(row.before)
    return await save(db, library, current.model_dump_json(), earlier, actor, "revert")
