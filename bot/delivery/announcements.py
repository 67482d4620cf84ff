"""Announcements: an operator's text per language, sent to an audience at a time.

Written to the store with its whole outbox (`python -m bot announce`, or the operator flow);
the running bot's deliverer sends it.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from bot import LOCALES
from bot.delivery.outbox import Message, expand
from bot.storage import Database

KIND = "announcement"
AUDIENCE = re.compile(r"all|lang:(kk|ru|en)|country:[A-Z]{2}")


class AnnouncementError(ValueError):
    """The announcement cannot be written; the message says why, for the operator."""


def parse_audience(value: str) -> str:
    audience = value.strip()
    if audience.startswith("country:"):
        audience = audience.upper().replace("COUNTRY:", "country:")
    if not AUDIENCE.fullmatch(audience):
        raise AnnouncementError(
            f"audience {value!r}: expected all, lang:kk|ru|en or country:CC (ISO code, e.g. TR)"
        )
    return audience


def text_for(texts: dict[str, str], locale: str) -> tuple[str, str]:
    """(language, text) a recipient with `locale` gets: theirs, or the first given of kk,
    ru, en."""
    for lang in (locale, *LOCALES):
        if texts.get(lang):
            return lang, texts[lang]
    raise AnnouncementError("an announcement needs a text in at least one language")


async def announce(
    db: Database,
    texts: dict[str, str],
    audience: str = "all",
    at: datetime | None = None,
    created_by: int | None = None,
) -> tuple[int, int]:
    """Writes the announcement and its outbox; (id, recipients)."""
    given = {lang: text.strip() for lang, text in texts.items() if text and text.strip()}
    text_for(given, LOCALES[0])  # at least one language
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        raise AnnouncementError("the time needs its offset, e.g. 2026-12-05T10:00+05:00")
    broadcast_id = await db.broadcast_create(
        KIND, parse_audience(audience), {"texts": given}, when, created_by
    )
    return broadcast_id, await expand(db, broadcast_id)


async def render(payload: dict[str, Any], locale: str, user_id: int) -> Message:
    """The operator's words as written: escaped, so Telegram shows them and never refuses
    them as broken HTML."""
    return Message(html.escape(text_for(payload["texts"], locale)[1], quote=False))
