"""How the bot is used, for operators: counts only, nothing about any one person."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from bot.operators.review import normalise
from bot.storage import Database

DAYS = 7
TOP = 5
ANSWERED, UNSURE, UNANSWERED = "answered", "unsure", "unanswered"


@dataclass(frozen=True)
class Usage:
    users: dict[str, int]  # language -> users who chose or were given it
    per_day: list[tuple[date, int]]  # the last DAYS days, oldest first, questions asked
    answered: int
    asked: int
    top_entries: list[tuple[str, int]]  # entry id, times answered with it
    top_unanswered: list[tuple[str, int]]  # the question as asked most often, times asked


async def usage(db: Database, today: date) -> Usage:
    since = today - timedelta(days=DAYS - 1)
    per_day: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    entries: Counter[str] = Counter()
    for day, outcome, entry_id, count in await db.question_counts(since):
        per_day[day] += count
        outcomes[outcome] += count
        if entry_id:
            entries[entry_id] += count
    days = [since + timedelta(days=n) for n in range(DAYS)]
    # The same question asked in several ways is one (as in the review).
    groups: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text, _lang, _at in await db.unanswered(limit=5000):
        key = normalise(text)
        if key:
            groups[key] += 1
            forms.setdefault(key, Counter())[text] += 1
    return Usage(
        users=await db.users_by_locale(),
        per_day=[(d, per_day[d.isoformat()]) for d in days],
        answered=outcomes[ANSWERED],
        asked=outcomes.total(),
        top_entries=entries.most_common(TOP),
        top_unanswered=[(forms[k].most_common(1)[0][0], n) for k, n in groups.most_common(TOP)],
    )
