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
from bot.content.models import check_html
from bot.delivery.outbox import Message, expand
from bot.storage import Database

KIND = "announcement"
AUDIENCE = re.compile(r"all|lang:(kk|ru|en)|country:[A-Z]{2}")
MAX_CHARS = 4096  # Telegram's limit for a message, counted after the HTML is parsed


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


def check_text(text: str, *, as_html: bool) -> str:
    """The text, or AnnouncementError saying why Telegram would refuse it: broken HTML, or
    longer than a message may be."""
    if as_html:
        try:
            check_html(text)
        except ValueError as exc:
            raise AnnouncementError(str(exc)) from None
        shown = html.unescape(re.sub(r"<[^>]*>", "", text))
    else:
        shown = text
    if len(shown) > MAX_CHARS:
        raise AnnouncementError(f"{len(shown)} characters: a message holds at most {MAX_CHARS}")
    return text


async def announce(
    db: Database,
    texts: dict[str, str],
    audience: str = "all",
    at: datetime | None = None,
    created_by: int | None = None,
    *,
    as_html: bool = False,
) -> tuple[int, int]:
    """Writes the announcement and its outbox; (id, recipients). `as_html`: the texts are
    Telegram HTML (the operator flow), else plain text shown as written (the command line)."""
    given = {
        lang: check_text(text.strip(), as_html=as_html)
        for lang, text in texts.items()
        if text and text.strip()
    }
    text_for(given, LOCALES[0])  # at least one language
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        raise AnnouncementError("the time needs its offset, e.g. 2026-12-05T10:00+05:00")
    payload: dict[str, Any] = {"texts": given} | ({"html": True} if as_html else {})
    broadcast_id = await db.broadcast_create(
        KIND, parse_audience(audience), payload, when, created_by
    )
    return broadcast_id, await expand(db, broadcast_id)


async def cancel(db: Database, broadcast_id: int) -> int | None:
    """Stops what is not sent yet; how many sends that stopped, None when the announcement
    is unknown or already cancelled."""
    return await db.broadcast_cancel(broadcast_id, KIND)


async def render(payload: dict[str, Any], locale: str, user_id: int) -> Message:
    """The operator's words as written: HTML checked when written, or plain text escaped, so
    Telegram shows it and never refuses it as broken HTML."""
    text = text_for(payload["texts"], locale)[1]
    return Message(text if payload.get("html") else html.escape(text, quote=False))
