"""What the content lacks, for operators: entries missing a language, entries not verified for
a while, answers close to Telegram's length limit, stations without a status for the next vote."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape

from aiogram.utils.i18n import I18n

from bot import LOCALES
from bot.content.models import Content, FaqEntry, Translation, Vote
from bot.render import outlook, render_answer
from bot.storage import Database

STALE_DAYS_KEY = "coverage_stale_days"
STALE_DAYS_DEFAULT = 30
MAX_STALE_DAYS = 3650
TELEGRAM_LIMIT = 4096  # characters of a message, counted after the HTML is parsed
NEAR_LIMIT = int(TELEGRAM_LIMIT * 0.9)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Coverage:
    missing_language: list[tuple[str, tuple[str, ...]]]  # entry id, the languages it lacks
    stale: list[str]  # entry ids, oldest verification first
    near_limit: list[tuple[str, str, int]]  # entry id, language, visible length
    vote: Vote | None  # the next vote, if one is announced
    stations: list[str]  # station ids without a status for that vote
    stale_days: int


async def stale_days(db: Database) -> int:
    value = await db.meta_value(STALE_DAYS_KEY)
    return int(value) if value is not None and value.isdecimal() else STALE_DAYS_DEFAULT


async def set_stale_days(db: Database, days: int) -> None:
    if not 1 <= days <= MAX_STALE_DAYS:
        raise ValueError(f"days must be 1-{MAX_STALE_DAYS}")
    await db.set_meta_value(STALE_DAYS_KEY, str(days))


def missing_languages(entry: FaqEntry) -> tuple[str, ...]:
    """Languages whose answer is empty while another's is not (a rendered entry may have no
    written answer at all), or that hold a copy of another language's text, not a
    translation (a new entry written in one language has copies in the others)."""
    texts = {lang: entry.text(lang) for lang in LOCALES}
    missing = []
    for lang, text in texts.items():
        others = [t for other, t in texts.items() if other != lang]
        same = [other for other, t in texts.items() if t == text]
        empty = not text.answer and any(t.answer for t in others)
        if empty or (len(same) > 1 and _original(text, same) != lang):
            missing.append(lang)
    return tuple(missing)


_KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_CYRILLIC = re.compile("[а-яёА-ЯЁ]")


def _original(text: Translation, languages: list[str]) -> str:
    """Of the languages holding the same text, the one it is written in: Kazakh has letters
    of its own, Russian is the other Cyrillic, English the rest; English when unclear."""
    words = " ".join([text.title, *text.questions, _TAG.sub(" ", text.answer)])
    written = "kk" if _KAZAKH_LETTERS.search(words) else "ru" if _CYRILLIC.search(words) else "en"
    return written if written in languages else "en" if "en" in languages else languages[0]


def visible_length(html: str) -> int:
    """What Telegram counts against its limit: the text without tags, entities decoded."""
    return len(unescape(_TAG.sub("", html)))


def coverage(content: Content, i18n: I18n, today: date, days: int) -> Coverage:
    """The caller runs this inside the i18n context (a handler does): answers are rendered in
    each language as users get them."""
    published = content.published()
    missing = [(e.id, langs) for e in published if (langs := missing_languages(e))]
    cutoff = today - timedelta(days=days)
    stale = [e.id for e in sorted(published, key=lambda e: e.verified) if e.verified < cutoff]
    near = []
    for entry in published:
        for lang in LOCALES:
            with i18n.use_locale(lang):
                size = visible_length(render_answer(content, entry, lang, today))
            if size >= NEAR_LIMIT:
                near.append((entry.id, lang, size))
    vote = outlook(content, today).upcoming
    stations = [s.id for s in content.stations if vote is not None and vote.id not in s.votes]
    return Coverage(missing, stale, near, vote, stations, days)
