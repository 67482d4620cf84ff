"""Questions the bot could not answer or was unsure of, grouped for operators: the same question
asked several ways (case, punctuation, spacing) is one group with its count and language."""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from dataclasses import dataclass

from bot.library import Library
from bot.operators.editing import Saved, save, with_phrasing
from bot.storage import Database

MAX_GUESSES = 3


def normalise(text: str) -> str:
    """Casefolded, punctuation removed, spaces collapsed: what makes two questions the same."""
    kept = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return " ".join(kept.casefold().split())


def group_id(key: str) -> str:
    """A short, stable name for a group, small enough for callback data."""
    return hashlib.sha1(key.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Group:
    key: str
    text: str  # the way it was asked most often
    count: int
    lang: str  # the language it was asked in most often
    langs: tuple[tuple[str, int], ...]
    offered: tuple[str, ...]  # entries the bot suggested when it was unsure, most often first

    @property
    def id(self) -> str:
        return group_id(self.key)


async def pending_groups(db: Database) -> list[Group]:
    """Groups not reviewed yet, most asked first."""
    done = await db.reviewed_keys()
    texts: dict[str, Counter[str]] = {}
    langs: dict[str, Counter[str]] = {}
    offered: dict[str, Counter[str]] = {}
    for text, lang, suggested in await db.asked_questions():
        key = normalise(text)
        if not key or key in done:
            continue
        texts.setdefault(key, Counter())[text] += 1
        langs.setdefault(key, Counter())[lang] += 1
        offered.setdefault(key, Counter()).update(suggested)
    groups = [
        Group(
            key=key,
            text=forms.most_common(1)[0][0],
            count=forms.total(),
            lang=langs[key].most_common(1)[0][0],
            langs=tuple(langs[key].most_common()),
            offered=tuple(i for i, _ in offered[key].most_common()),
        )
        for key, forms in texts.items()
    ]
    return sorted(groups, key=lambda g: (-g.count, g.key))


async def find_group(db: Database, gid: str) -> Group | None:
    """The pending group a button names, or None when it is gone (reviewed, purged, forged)."""
    return next((g for g in await pending_groups(db) if g.id == gid), None)


def best_guesses(library: Library, group: Group) -> list[str]:
    """Published entries the question most likely belongs to: what the bot offered, then what
    the search ranks highest now."""
    ranked = [m.entry_id for m in library.search(group.text).ranked]
    ids = [i for i in dict.fromkeys([*group.offered, *ranked]) if library.entry(i) is not None]
    return ids[:MAX_GUESSES]


async def add_as_phrasing(
    db: Database, library: Library, group: Group, entry_id: str, actor: int
) -> Saved:
    """Adds the group's question to the entry in the group's language (an audited edit), and
    takes the group out of the review."""
    entry = library.entry(entry_id)
    if entry is None:
        return Saved.CONFLICT
    new = with_phrasing(entry, group.lang, group.text)
    saved = (
        Saved.UNCHANGED
        if new is None
        else await save(db, library, entry.model_dump_json(), new, actor)
    )
    if saved is not Saved.CONFLICT:
        await db.mark_reviewed(group.key, f"phrasing:{entry_id}", actor)
    return saved


async def dismiss(db: Database, group: Group, actor: int) -> bool:
    return await db.mark_reviewed(group.key, "dismissed", actor)
