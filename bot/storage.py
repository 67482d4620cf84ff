"""The SQLite store: schema migrations and every query the bot makes, in one place."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.content.models import (
    Content,
    ElectionNote,
    FaqEntry,
    Party,
    Station,
    StationCountry,
    Vote,
)

# Each migration runs once, in order; PRAGMA user_version records how many have run.
# Append new ones at the end; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        id          INTEGER PRIMARY KEY,      -- Telegram user id
        locale      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE faq_entries (
        id          TEXT PRIMARY KEY,
        section     TEXT NOT NULL,
        position    INTEGER NOT NULL,
        published   INTEGER NOT NULL DEFAULT 1,
        render      TEXT,
        articles    TEXT NOT NULL DEFAULT '[]',   -- JSON list of article numbers
        sources     TEXT NOT NULL,                -- JSON list of addresses
        verified    TEXT NOT NULL,                -- ISO date
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE faq_translations (
        entry_id    TEXT NOT NULL REFERENCES faq_entries(id) ON DELETE CASCADE,
        lang        TEXT NOT NULL,
        questions   TEXT NOT NULL,                -- JSON list of phrasings
        answer      TEXT NOT NULL,
        PRIMARY KEY (entry_id, lang)
    );
    -- Structured records (votes, parties, stations, ...) as validated JSON documents:
    -- the pydantic models in bot.content.models are their schema.
    CREATE TABLE records (
        kind        TEXT NOT NULL,
        id          TEXT NOT NULL,
        position    INTEGER NOT NULL,
        data        TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
    -- Questions the bot could not answer, for operators. No user id: nothing personal.
    CREATE TABLE unanswered (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        text        TEXT NOT NULL,
        lang        TEXT NOT NULL,
        asked_at    TEXT NOT NULL
    );
    CREATE TABLE meta (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL
    );
    """,
    # 2: the durable inbox. Every update is stored here before Telegram is told it arrived
    # (the next getUpdates offset, or the webhook's 200), then handled from here. The payload
    # is cleared once handled; finished rows are deleted after INBOX_KEEP.
    """
    CREATE TABLE inbox (
        update_id   INTEGER PRIMARY KEY,
        chat_key    TEXT NOT NULL,                -- updates of one chat are handled in order
        payload     TEXT,                         -- the update as Telegram sent it (JSON)
        state       TEXT NOT NULL DEFAULT 'pending',  -- pending, working, done
        outcome     TEXT,                         -- handled, failed, malformed
        received_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX inbox_chat ON inbox (chat_key, update_id) WHERE state != 'done';
    CREATE INDEX inbox_finished ON inbox (finished_at) WHERE state = 'done';
    """,
)

# Content field -> (records.kind, model, key attribute)
_RECORD_KINDS: dict[str, tuple[str, type[Any], str]] = {
    "votes": ("vote", Vote, "id"),
    "election_notes": ("election_note", ElectionNote, "id"),
    "parties": ("party", Party, "id"),
    "stations": ("station", Station, "id"),
    "countries": ("station_country", StationCountry, "country"),
}
UNANSWERED_MAX_CHARS = 1000
INBOX_KEEP = timedelta(days=1)  # Telegram forgets unconfirmed updates after a day too


def clean_question(text: str) -> str:
    """What the unanswered store keeps: no control or format characters (bidi overrides,
    zero-width marks), whitespace collapsed, at most UNANSWERED_MAX_CHARS characters."""
    kept = "".join(" " if ch.isspace() else ch for ch in text if not _invisible(ch))
    return " ".join(kept.split())[:UNANSWERED_MAX_CHARS]


def _invisible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Shared:
    """The one aiosqlite connection, shared by every task of the process.

    aiosqlite runs statements one at a time but knows nothing of transactions: a statement
    another task issues between BEGIN and COMMIT would commit or roll back with that
    transaction (an inbox row lost with a rejected import), and a second BEGIN would fail. So a
    task inside `Database.transaction()` holds the lock until it ends, and any other task's
    statement waits for it.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.raw = conn
        self.lock = asyncio.Lock()
        self.owner: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self.owner is not None and self.owner is asyncio.current_task():
            yield
            return
        async with self.lock:
            yield

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Statement:
        return _Statement(self, lambda: self.raw.execute(sql, params))

    def executemany(self, sql: str, params: Iterable[Iterable[Any]]) -> _Statement:
        return _Statement(self, lambda: self.raw.executemany(sql, params))


class _Statement:
    """`await conn.execute(...)` or `async with conn.execute(...) as cur:` as with aiosqlite;
    in the second form the turn lasts until the block has read its rows."""

    def __init__(self, shared: _Shared, run: Any) -> None:
        self._shared = shared
        self._run = run
        self._turn: Any = None
        self._cursor: aiosqlite.Cursor | None = None

    def __await__(self) -> Any:
        return self._once().__await__()

    async def _once(self) -> aiosqlite.Cursor:
        async with self._shared.turn():
            return await self._run()

    async def __aenter__(self) -> aiosqlite.Cursor:
        self._turn = self._shared.turn()
        await self._turn.__aenter__()
        try:
            self._cursor = await self._run()
        except BaseException as exc:
            await self._turn.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return self._cursor

    async def __aexit__(self, *exc: Any) -> None:
        try:
            if self._cursor is not None:
                await self._cursor.close()
        finally:
            await self._turn.__aexit__(*exc)


class Database:
    """One aiosqlite connection; opened in the dispatcher's startup hook, closed at shutdown."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: _Shared | None = None
        # Locale lookups happen on every update; cache them instead of querying each time.
        self._locales: dict[int, str | None] = {}

    @property
    def conn(self) -> _Shared:
        if self._conn is None:
            raise RuntimeError("the database is not open")
        return self._conn

    async def open(self) -> None:
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is explicit.
        raw = await aiosqlite.connect(self.path, isolation_level=None)
        await raw.execute("PRAGMA journal_mode=WAL")
        await raw.execute("PRAGMA foreign_keys=ON")
        await raw.execute("PRAGMA busy_timeout=5000")
        self._conn = _Shared(raw)
        await self.migrate()

    async def close(self) -> None:
        if self._conn is not None:
            async with self._conn.turn():
                await self._conn.raw.close()
            self._conn = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error; other tasks' statements wait."""
        shared = self.conn
        async with shared.lock:
            shared.owner = asyncio.current_task()
            try:
                await shared.raw.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await shared.raw.execute("ROLLBACK")
                    raise
                await shared.raw.execute("COMMIT")
            finally:
                shared.owner = None

    async def migrate(self) -> None:
        version = await self.schema_version()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self.transaction():
                for statement in filter(str.strip, script.split(";")):
                    await self.conn.execute(statement)
                await self.conn.execute(f"PRAGMA user_version = {number}")

    # --- users -------------------------------------------------------------------------

    async def get_locale(self, user_id: int) -> str | None:
        if user_id not in self._locales:
            async with self.conn.execute(
                "SELECT locale FROM users WHERE id = ?", (user_id,)
            ) as cur:
                row = await cur.fetchone()
            self._locales[user_id] = row[0] if row else None
        return self._locales[user_id]

    async def set_locale(self, user_id: int, locale: str) -> None:
        now = _now()
        await self.conn.execute(
            "INSERT INTO users (id, locale, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET "
            "locale = excluded.locale, updated_at = excluded.updated_at",
            (user_id, locale, now, now),
        )
        self._locales[user_id] = locale

    async def forget_user(self, user_id: int) -> bool:
        """Deletes the user's row and the inbox's record of their finished updates in their
        private chat (ids and outcomes; texts are cleared once handled). Updates still queued
        stay so they are answered. True when a language choice was stored."""
        keys = (f"chat:{user_id}", f"user:{user_id}")
        async with self.transaction():
            cur = await self.conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
            await self.conn.execute(
                "DELETE FROM inbox WHERE state = 'done' AND chat_key IN (?, ?)", keys
            )
        self._locales.pop(user_id, None)
        return cur.rowcount > 0

    # --- questions the bot could not answer --------------------------------------------

    async def record_unanswered(self, text: str, lang: str) -> None:
        await self.conn.execute(
            "INSERT INTO unanswered (text, lang, asked_at) VALUES (?, ?, ?)",
            (clean_question(text), lang, _now()),
        )

    async def purge_unanswered(self, older_than: timedelta) -> int:
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="seconds")
        cur = await self.conn.execute("DELETE FROM unanswered WHERE asked_at < ?", (cutoff,))
        return cur.rowcount

    async def unanswered(self, limit: int = 50) -> list[tuple[str, str, str]]:
        async with self.conn.execute(
            "SELECT text, lang, asked_at FROM unanswered ORDER BY id DESC LIMIT ?", (limit,)
        ) as cur:
            return [(r[0], r[1], r[2]) for r in await cur.fetchall()]

    # --- the inbox ------------------------------------------------------------------------

    async def inbox_add(self, updates: Iterable[tuple[int, str, str]]) -> None:
        """Stores (update_id, chat_key, payload) rows; one statement, so all or none. An update
        Telegram delivers again (not yet confirmed when the bot died) is kept only once."""
        now = _now()
        await self.conn.executemany(
            "INSERT INTO inbox (update_id, chat_key, payload, received_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(update_id) DO NOTHING",
            [(update_id, key, payload, now) for update_id, key, payload in updates],
        )

    async def inbox_claim(self, limit: int = 1) -> list[tuple[int, str]]:
        """Takes up to `limit` pending updates whose chat has nothing older pending or being
        handled, and marks them working. One statement: on PostgreSQL the inner SELECT becomes
        `... ORDER BY update_id LIMIT n FOR UPDATE SKIP LOCKED`."""
        async with self.conn.execute(
            "UPDATE inbox SET state = 'working' WHERE update_id IN ("
            " SELECT i.update_id FROM inbox i WHERE i.state = 'pending' AND NOT EXISTS ("
            "  SELECT 1 FROM inbox j WHERE j.chat_key = i.chat_key AND j.state != 'done'"
            "  AND j.update_id < i.update_id)"
            " ORDER BY i.update_id LIMIT ?) "
            "RETURNING update_id, payload",
            (limit,),
        ) as cur:
            return [(int(r[0]), str(r[1])) for r in await cur.fetchall()]

    async def inbox_finish(self, update_id: int, outcome: str) -> None:
        # A malformed payload is kept (until INBOX_KEEP) for a developer to look at.
        await self.conn.execute(
            "UPDATE inbox SET state = 'done', outcome = ?, finished_at = ?, "
            "payload = CASE WHEN ? = 'malformed' THEN payload END WHERE update_id = ?",
            (outcome, _now(), outcome, update_id),
        )

    async def inbox_requeue(self) -> int:
        """Puts updates that were being handled when the process stopped back in the queue."""
        cur = await self.conn.execute("UPDATE inbox SET state = 'pending' WHERE state = 'working'")
        return cur.rowcount

    async def inbox_next_offset(self) -> int:
        async with self.conn.execute("SELECT MAX(update_id) FROM inbox") as cur:
            row = await cur.fetchone()
        return int(row[0]) + 1 if row and row[0] is not None else 0

    async def inbox_counts(self) -> dict[str, int]:
        async with self.conn.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state") as cur:
            counts = {str(r[0]): int(r[1]) for r in await cur.fetchall()}
        return {state: counts.get(state, 0) for state in ("pending", "working", "done")}

    async def inbox_outcomes(self) -> dict[str, int]:
        async with self.conn.execute(
            "SELECT outcome, COUNT(*) FROM inbox WHERE state = 'done' GROUP BY outcome"
        ) as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def purge_inbox(self, older_than: timedelta = INBOX_KEEP) -> int:
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="seconds")
        cur = await self.conn.execute(
            "DELETE FROM inbox WHERE state = 'done' AND finished_at < ?", (cutoff,)
        )
        return cur.rowcount

    # --- content -------------------------------------------------------------------------

    async def content_is_empty(self) -> bool:
        async with self.conn.execute("SELECT 1 FROM faq_entries LIMIT 1") as cur:
            return await cur.fetchone() is None

    async def content_version(self) -> int:
        async with self.conn.execute("SELECT value FROM meta WHERE key = 'content_version'") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def load_content(self) -> Content:
        translations: dict[str, dict[str, Any]] = {}
        async with self.conn.execute(
            "SELECT entry_id, lang, questions, answer FROM faq_translations"
        ) as cur:
            async for entry_id, lang, questions, answer in cur:
                translations.setdefault(entry_id, {})[lang] = {
                    "questions": json.loads(questions),
                    "answer": answer,
                }
        faq = []
        async with self.conn.execute(
            "SELECT id, section, published, render, articles, sources, verified "
            "FROM faq_entries ORDER BY position, id"
        ) as cur:
            async for row in cur:
                entry_id, section, published, render, articles, sources, verified = row
                data: dict[str, Any] = {
                    "id": entry_id,
                    "section": section,
                    "published": bool(published),
                    "render": render,
                    "articles": json.loads(articles),
                    "sources": json.loads(sources),
                    "verified": verified,
                    **translations.get(entry_id, {}),
                }
                faq.append(FaqEntry.model_validate(data))
        records: dict[str, list[Any]] = {}
        for field, (kind, model, _) in _RECORD_KINDS.items():
            async with self.conn.execute(
                "SELECT data FROM records WHERE kind = ? ORDER BY position, id", (kind,)
            ) as cur:
                records[field] = [model.model_validate_json(r[0]) async for r in cur]
        return Content(faq=faq, **records)

    async def save_content(self, content: Content, *, replace: bool = False) -> None:
        """Upserts every record of `content` in one transaction.

        With replace=True, records of the kinds `content` carries that it does not list are
        deleted, so the store then equals the imported set for those kinds.
        """
        now = _now()
        async with self.transaction():
            if replace and content.faq:
                await self._delete_missing("faq_entries", "id", [e.id for e in content.faq])
            for position, entry in enumerate(content.faq):
                await self._upsert_entry(entry, position, now)
            for field, (kind, _, key) in _RECORD_KINDS.items():
                items: list[Any] = getattr(content, field)
                if replace and items:
                    keys = [getattr(item, key) for item in items]
                    await self._delete_missing("records", "id", keys, kind=kind)
                for position, item in enumerate(items):
                    await self.conn.execute(
                        "INSERT INTO records (kind, id, position, data, updated_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(kind, id) DO UPDATE SET "
                        "position = excluded.position, data = excluded.data, "
                        "updated_at = excluded.updated_at",
                        (kind, getattr(item, key), position, item.model_dump_json(), now),
                    )
            await self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('content_version', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )

    async def _delete_missing(
        self, table: str, column: str, keep: Iterable[str], kind: str | None = None
    ) -> None:
        keep = list(keep)
        marks = ",".join("?" * len(keep))
        where = f"{column} NOT IN ({marks})" + (" AND kind = ?" if kind else "")
        params = [*keep, kind] if kind else keep
        await self.conn.execute(f"DELETE FROM {table} WHERE {where}", params)

    async def _upsert_entry(self, entry: FaqEntry, position: int, now: str) -> None:
        await self.conn.execute(
            "INSERT INTO faq_entries "
            "(id, section, position, published, render, articles, sources, verified, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "section = excluded.section, position = excluded.position, "
            "published = excluded.published, render = excluded.render, "
            "articles = excluded.articles, sources = excluded.sources, "
            "verified = excluded.verified, updated_at = excluded.updated_at",
            (
                entry.id,
                entry.section,
                position,
                int(entry.published),
                entry.render,
                json.dumps(entry.articles),
                json.dumps(entry.sources, ensure_ascii=False),
                entry.verified.isoformat(),
                now,
            ),
        )
        for lang in ("kk", "ru", "en"):
            text = entry.text(lang)
            await self.conn.execute(
                "INSERT INTO faq_translations (entry_id, lang, questions, answer) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(entry_id, lang) DO UPDATE SET "
                "questions = excluded.questions, answer = excluded.answer",
                (entry.id, lang, json.dumps(text.questions, ensure_ascii=False), text.answer),
            )
