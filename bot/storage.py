"""The SQLite store: schema migrations and every query the bot makes, in one place."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.content.models import (
    MAX_TITLE_CHARS,
    Content,
    ElectionNote,
    FaqEntry,
    Intent,
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
    # 3: the outbox. A broadcast (an announcement, a batch of reminders) is expanded in batches
    # into one outbox row per recipient; the deliverer claims rows, sends, and marks each sent
    # with Telegram's message id. `leases` keeps one deliverer per database.
    """
    ALTER TABLE users ADD COLUMN blocked_at TEXT;     -- Telegram answered 403: sends stop
    ALTER TABLE users ADD COLUMN station_id TEXT;     -- the station abroad the user chose
    CREATE TABLE broadcasts (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        kind        TEXT NOT NULL,                -- announcement, reminder
        audience    TEXT NOT NULL,                -- all, lang:L, country:CC
        payload     TEXT NOT NULL,                -- JSON: texts per language, or what to remind
        send_at     TEXT NOT NULL,                -- UTC ISO, nothing is sent before it
        state       TEXT NOT NULL DEFAULT 'expanding',  -- expanding, ready, cancelled
        cursor      INTEGER NOT NULL DEFAULT 0,   -- users up to this id are expanded
        created_by  INTEGER,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
        user_id      INTEGER NOT NULL,
        state        TEXT NOT NULL DEFAULT 'queued',  -- queued, claimed, sent, failed, blocked
        claimed_by   TEXT,
        claimed_at   TEXT,
        message_id   INTEGER,
        error        TEXT,
        finished_at  TEXT,
        UNIQUE (broadcast_id, user_id)
    );
    CREATE INDEX outbox_waiting ON outbox (id) WHERE state IN ('queued', 'claimed');
    CREATE INDEX outbox_user ON outbox (user_id);
    CREATE TABLE leases (
        name        TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        until       TEXT NOT NULL
    );
    """,
    # 4: /stop: the user wants nothing sent unasked (until /start).
    """
    ALTER TABLE users ADD COLUMN stopped_at TEXT;
    """,
    # 5: the questions the bot was unsure of ("did you mean"), beside those it could not answer,
    # with the entries it offered: a JSON list of entry ids, NULL for an unanswered question.
    """
    ALTER TABLE unanswered ADD COLUMN suggested TEXT;
    """,
    # 6: operators: editors an admin granted, every change with the record before and after
    # (JSON documents of the content models; NULL before = created), and FSM state of guided
    # edits so they survive a restart.
    """
    CREATE TABLE editors (
        user_id     INTEGER PRIMARY KEY,
        granted_by  INTEGER NOT NULL,
        granted_at  TEXT NOT NULL
    );
    CREATE TABLE audit_log (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          TEXT NOT NULL,
        actor       INTEGER,                      -- Telegram user id, NULL for an import
        action      TEXT NOT NULL,             -- edit, create, revert, import, grant, revoke
        kind        TEXT NOT NULL,                -- faq, or a records.kind
        record_id   TEXT NOT NULL,
        before      TEXT,
        after       TEXT
    );
    CREATE INDEX audit_log_record ON audit_log (kind, record_id, id);
    CREATE TABLE fsm (
        key         TEXT PRIMARY KEY,
        state       TEXT,
        data        TEXT NOT NULL DEFAULT '{}'
    )
    """,
    # 7: unanswered questions an operator has dealt with, by their normalised text, so the same
    # question asked again later does not come back to the review.
    """
    CREATE TABLE reviewed_questions (
        key         TEXT PRIMARY KEY,             -- bot.operators.review.normalise(text)
        outcome     TEXT NOT NULL,                -- dismissed, or phrasing:<entry id>
        reviewed_by INTEGER NOT NULL,
        reviewed_at TEXT NOT NULL
    )
    """,
    # 8: indexes built from the content (the trained matcher, the place names), stored so a
    # start on unchanged content and code loads them instead of rebuilding them (seconds).
    """
    CREATE TABLE built_indexes (
        kind TEXT NOT NULL,                       -- content (matcher, stations), or places
        key TEXT PRIMARY KEY,
        built_at TEXT NOT NULL,
        data BLOB NOT NULL
    );
    """,
    # 9: reminders. A user's subscription ("tell me when a vote gets a date", and the moments
    # before a dated vote they want); reminder rows carry their own due time (the moment in the
    # user's zone, in UTC); a planned broadcast has a key (vote, date, moment) so planning it
    # again finds it instead of making another.
    """
    CREATE TABLE reminder_prefs (
        user_id     INTEGER PRIMARY KEY,
        announce    INTEGER NOT NULL DEFAULT 0,   -- tell me when the next vote gets a date
        moments     TEXT,                         -- JSON list of moments on, NULL: never set up
        updated_at  TEXT NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN due_at TEXT;    -- UTC ISO, NULL: the broadcast's send_at
    ALTER TABLE broadcasts ADD COLUMN key TEXT;
    CREATE UNIQUE INDEX broadcasts_key ON broadcasts (key)
    """,
    # 10: what people write with /feedback (an error they found, a wish), for operators. The
    # user id is kept only so that /forget can delete it; operators see text, language, time.
    """
    CREATE TABLE feedback (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id     INTEGER NOT NULL,
        lang        TEXT NOT NULL,
        text        TEXT NOT NULL,
        sent_at     TEXT NOT NULL
    );
    CREATE INDEX feedback_user ON feedback (user_id)
    """,
    # 11: each FAQ entry's button label per language. Rows stored before it have '' until the
    # next import; the entry then shows its first phrasing (see _stored_title).
    """
    ALTER TABLE faq_translations ADD COLUMN title TEXT NOT NULL DEFAULT ''
    """,
    # 12: how many questions were asked a day and what became of them (answered with an entry,
    # unsure, unanswered), for operators' usage figures. Counts only: no user, no text.
    """
    CREATE TABLE question_counts (
        day         TEXT NOT NULL,                -- ISO date, Astana time
        outcome     TEXT NOT NULL,                -- answered, unsure, unanswered
        entry_id    TEXT NOT NULL DEFAULT '',     -- the entry answered with, '' for none
        count       INTEGER NOT NULL,
        PRIMARY KEY (day, outcome, entry_id)
    )
    """,
)

# Content field -> (records.kind, model, key attribute)
RECORD_KINDS: dict[str, tuple[str, type[Any], str]] = {
    "votes": ("vote", Vote, "id"),
    "election_notes": ("election_note", ElectionNote, "id"),
    "parties": ("party", Party, "id"),
    "stations": ("station", Station, "id"),
    "countries": ("station_country", StationCountry, "country"),
    "intents": ("intent", Intent, "id"),
}
UNANSWERED_MAX_CHARS = 1000
FEEDBACK_MAX_CHARS = 3000  # a long report is welcome, a pasted book is not
INBOX_KEEP = timedelta(days=1)  # Telegram forgets unconfirmed updates after a day too


def clean_question(text: str, limit: int = UNANSWERED_MAX_CHARS) -> str:
    """What the unanswered and feedback stores keep: no control or format characters (bidi
    overrides, zero-width marks), whitespace collapsed, at most `limit` characters."""
    kept = "".join(" " if ch.isspace() else ch for ch in text if not _invisible(ch))
    return " ".join(kept.split())[:limit]


def _stored_title(phrasing: str) -> str:
    """A label for an entry stored before entries had titles: its first phrasing, cut to fit a
    button."""
    phrasing = " ".join(phrasing.replace("<", " ").replace(">", " ").split())
    if len(phrasing) <= MAX_TITLE_CHARS:
        return phrasing
    return phrasing[: MAX_TITLE_CHARS - 1].rstrip() + "…"


def _invisible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")


@dataclass(frozen=True)
class Change:
    """One record's change: JSON documents before and after (None = absent)."""

    kind: str
    record_id: str
    before: str | None
    after: str | None

    @property
    def verb(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "changed"


@dataclass(frozen=True)
class Forgotten:
    """What /forget found and deleted about a user."""

    language: bool  # the user's row: language choice (and when they started)
    station: bool  # the station abroad they chose
    reminders: bool  # their reminder subscription
    messages: int  # records of their handled updates
    sent: int  # outbox rows: announcements and reminders sent or waiting
    feedback: int  # messages they wrote with /feedback


@dataclass(frozen=True)
class ReminderPrefs:
    announce: bool  # tell me when the next vote gets a date
    moments: tuple[str, ...] | None  # the moments switched on; None: never set up


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    actor: int | None
    action: str
    kind: str
    record_id: str
    before: str | None
    after: str | None


def _now() -> str:
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    """UTC, to the second: stored times compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _audience_filter(audience: str) -> tuple[str, tuple[Any, ...]]:
    """SQL over `users` for an audience: all, lang:L, or country:CC (the chosen station's)."""
    kind, _, value = audience.partition(":")
    if kind == "lang":
        return "locale = ?", (value,)
    if kind == "country":
        return (
            "station_id IN (SELECT id FROM records WHERE kind = 'station' "
            "AND json_extract(data, '$.country') = ?)",
            (value,),
        )
    return "1", ()


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
        # WAL + NORMAL: a commit survives the process being killed; only a power cut may undo
        # the latest ones, which for claims and outcomes means an answer repeated. What must
        # survive that too (updates Telegram is then told it may forget) commits durably.
        await raw.execute("PRAGMA synchronous=NORMAL")
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
    async def transaction(self, *, durable: bool = False) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error; other tasks' statements wait.
        `durable`: the commit is synced to disk before it returns (survives a power cut)."""
        shared = self.conn
        async with shared.lock:
            shared.owner = asyncio.current_task()
            try:
                if durable:
                    await shared.raw.execute("PRAGMA synchronous=FULL")
                await shared.raw.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    await shared.raw.execute("ROLLBACK")
                    raise
                await shared.raw.execute("COMMIT")
            finally:
                shared.owner = None
                if durable:
                    await shared.raw.execute("PRAGMA synchronous=NORMAL")

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

    async def forget_user(self, user_id: int) -> Forgotten:
        """Deletes the user's row (language, chosen station), their reminder subscription,
        the inbox's record of their finished updates in their private chat (ids and outcomes;
        texts are cleared once handled), their outbox rows (announcements and reminders sent
        or waiting), the feedback they wrote and the state of a guided edit. Updates still
        queued stay so they are answered. Says what there was."""
        keys = (f"chat:{user_id}", f"user:{user_id}")
        async with self.transaction():
            async with self.conn.execute(
                "SELECT station_id FROM users WHERE id = ?", (user_id,)
            ) as cur:
                user = await cur.fetchone()
            await self.conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
            prefs = await self.conn.execute(
                "DELETE FROM reminder_prefs WHERE user_id = ?", (user_id,)
            )
            inbox = await self.conn.execute(
                "DELETE FROM inbox WHERE state = 'done' AND chat_key IN (?, ?)", keys
            )
            outbox = await self.conn.execute("DELETE FROM outbox WHERE user_id = ?", (user_id,))
            # aiogram's keys end in the user id, or carry it before a destiny part.
            await self.conn.execute(
                "DELETE FROM fsm WHERE key LIKE ? OR key LIKE ?",
                (f"%:{user_id}", f"%:{user_id}:%"),
            )
            feedback = await self.conn.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,))
        self._locales.pop(user_id, None)
        return Forgotten(
            language=user is not None,
            station=bool(user and user[0]),
            reminders=prefs.rowcount > 0,
            messages=inbox.rowcount,
            sent=outbox.rowcount,
            feedback=feedback.rowcount,
        )

    async def set_station(self, user_id: int, locale: str, station_id: str | None) -> None:
        """The station abroad the user chose (their reminders' zone and card); a user without
        a row gets one in `locale`."""
        await self._ensure_user(user_id, locale)
        await self.conn.execute(
            "UPDATE users SET station_id = ?, updated_at = ? WHERE id = ?",
            (station_id, _now(), user_id),
        )

    async def user_station(self, user_id: int) -> str | None:
        async with self.conn.execute(
            "SELECT station_id FROM users WHERE id = ?", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row and row[0] else None

    async def _ensure_user(self, user_id: int, locale: str) -> None:
        now = _now()
        await self.conn.execute(
            "INSERT INTO users (id, locale, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO NOTHING",
            (user_id, locale, now, now),
        )
        self._locales.pop(user_id, None)

    # --- reminder subscriptions ----------------------------------------------------------

    async def reminder_prefs(self, user_id: int) -> ReminderPrefs | None:
        async with self.conn.execute(
            "SELECT announce, moments FROM reminder_prefs WHERE user_id = ?", (user_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return ReminderPrefs(bool(row[0]), None if row[1] is None else tuple(json.loads(row[1])))

    async def set_reminder_prefs(self, user_id: int, locale: str, prefs: ReminderPrefs) -> None:
        moments = None if prefs.moments is None else json.dumps(list(prefs.moments))
        async with self.transaction():
            await self._ensure_user(user_id, locale)
            await self.conn.execute(
                "INSERT INTO reminder_prefs (user_id, announce, moments, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
                "announce = excluded.announce, moments = excluded.moments, "
                "updated_at = excluded.updated_at",
                (user_id, int(prefs.announce), moments, _now()),
            )

    async def reminder_subscribers(
        self, after: int, batch: int
    ) -> list[tuple[int, str | None, ReminderPrefs]]:
        """(user id, station id, prefs) of users past `after` with moments set, who have
        not stopped or blocked the bot, in id order."""
        async with self.conn.execute(
            "SELECT p.user_id, u.station_id, p.announce, p.moments FROM reminder_prefs p "
            "JOIN users u ON u.id = p.user_id WHERE p.user_id > ? AND p.moments IS NOT NULL "
            "AND u.blocked_at IS NULL AND u.stopped_at IS NULL ORDER BY p.user_id LIMIT ?",
            (after, batch),
        ) as cur:
            rows = await cur.fetchall()
        return [(int(r[0]), r[1], ReminderPrefs(bool(r[2]), tuple(json.loads(r[3])))) for r in rows]

    async def broadcast_keyed(
        self, key: str, kind: str, payload: dict[str, Any], send_at: datetime
    ) -> tuple[int, bool]:
        """The planned broadcast `key` (ready: its rows are added by the planner, not expanded
        from an audience), made now if there is none; (id, whether it was made now)."""
        async with self.conn.execute(
            "INSERT INTO broadcasts (kind, audience, payload, send_at, state, created_at, key) "
            "VALUES (?, 'planned', ?, ?, 'ready', ?, ?) ON CONFLICT(key) DO NOTHING "
            "RETURNING id",
            (kind, json.dumps(payload, ensure_ascii=False), _iso(send_at), _now(), key),
        ) as cur:
            row = await cur.fetchone()
        if row is not None:
            return int(row[0]), True
        async with self.conn.execute("SELECT id FROM broadcasts WHERE key = ?", (key,)) as cur:
            found = await cur.fetchone()
        assert found is not None
        return int(found[0]), False

    async def outbox_plan(self, user_id: int, planned: dict[int, datetime], kind: str) -> None:
        """The user's rows of broadcasts of `kind` waiting to be sent become exactly
        `planned` (broadcast id -> due time): new ones added, times updated, others
        dropped. Rows already sent stay as they are."""
        async with self.transaction():
            marks = ",".join("?" * len(planned))
            await self.conn.execute(
                "DELETE FROM outbox WHERE user_id = ? AND state = 'queued' AND broadcast_id IN "
                f"(SELECT id FROM broadcasts WHERE kind = ?) AND broadcast_id NOT IN ({marks})",
                (user_id, kind, *planned),
            )
            await self.conn.executemany(
                "INSERT INTO outbox (broadcast_id, user_id, due_at) VALUES (?, ?, ?) "
                "ON CONFLICT(broadcast_id, user_id) DO UPDATE SET due_at = excluded.due_at "
                "WHERE outbox.state = 'queued'",
                [(bid, user_id, _iso(due)) for bid, due in planned.items()],
            )

    async def outbox_add_announce_subscribers(self, broadcast_id: int) -> int:
        """Adds everyone who asked to be told when a vote is dated (and has not stopped or
        blocked the bot) to a broadcast, in one statement; returns how many."""
        cur = await self.conn.execute(
            "INSERT INTO outbox (broadcast_id, user_id) SELECT ?, p.user_id "
            "FROM reminder_prefs p JOIN users u ON u.id = p.user_id WHERE p.announce = 1 "
            "AND u.blocked_at IS NULL AND u.stopped_at IS NULL "
            "ON CONFLICT(broadcast_id, user_id) DO NOTHING",
            (broadcast_id,),
        )
        return cur.rowcount

    async def outbox_rows(self, user_id: int) -> list[tuple[str, dict[str, Any], str, str | None]]:
        """(kind, payload, state, due time) of every outbox row of a user, oldest first."""
        async with self.conn.execute(
            "SELECT b.kind, b.payload, o.state, o.due_at FROM outbox o "
            "JOIN broadcasts b ON b.id = o.broadcast_id WHERE o.user_id = ? ORDER BY o.id",
            (user_id,),
        ) as cur:
            return [(str(r[0]), json.loads(r[1]), str(r[2]), r[3]) for r in await cur.fetchall()]

    # --- questions the bot could not answer, or was unsure of ------------------------------

    async def record_unanswered(self, text: str, lang: str) -> None:
        await self.conn.execute(
            "INSERT INTO unanswered (text, lang, asked_at) VALUES (?, ?, ?)",
            (clean_question(text), lang, _now()),
        )

    async def purge_unanswered(self, older_than: timedelta) -> int:
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="seconds")
        cur = await self.conn.execute("DELETE FROM unanswered WHERE asked_at < ?", (cutoff,))
        return cur.rowcount

    async def record_unsure(self, text: str, lang: str, suggested: Sequence[str]) -> None:
        """A question the bot answered with "did you mean" and the entries it offered."""
        await self.conn.execute(
            "INSERT INTO unanswered (text, lang, asked_at, suggested) VALUES (?, ?, ?, ?)",
            (clean_question(text), lang, _now(), json.dumps(list(suggested))),
        )

    async def unanswered(self, limit: int = 50) -> list[tuple[str, str, str]]:
        async with self.conn.execute(
            "SELECT text, lang, asked_at FROM unanswered WHERE suggested IS NULL "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cur:
            return [(r[0], r[1], r[2]) for r in await cur.fetchall()]

    async def unsure(self, limit: int = 50) -> list[tuple[str, str, str, list[str]]]:
        async with self.conn.execute(
            "SELECT text, lang, asked_at, suggested FROM unanswered WHERE suggested IS NOT NULL "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cur:
            return [(r[0], r[1], r[2], json.loads(r[3])) for r in await cur.fetchall()]

    # --- usage counts ----------------------------------------------------------------------

    async def count_question(self, day: date, outcome: str, entry_id: str = "") -> None:
        await self.conn.execute(
            "INSERT INTO question_counts (day, outcome, entry_id, count) VALUES (?, ?, ?, 1) "
            "ON CONFLICT(day, outcome, entry_id) DO UPDATE SET count = count + 1",
            (day.isoformat(), outcome, entry_id),
        )

    async def question_counts(self, since: date) -> list[tuple[str, str, str, int]]:
        """(day, outcome, entry id, count) from `since` on."""
        async with self.conn.execute(
            "SELECT day, outcome, entry_id, count FROM question_counts WHERE day >= ? ORDER BY day",
            (since.isoformat(),),
        ) as cur:
            return [(r[0], r[1], r[2], int(r[3])) for r in await cur.fetchall()]

    async def users_by_locale(self) -> dict[str, int]:
        async with self.conn.execute(
            "SELECT locale, COUNT(*) FROM users GROUP BY locale ORDER BY locale"
        ) as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    # --- feedback people wrote for the operators ----------------------------------------

    async def record_feedback(self, user_id: int, lang: str, text: str) -> None:
        await self.conn.execute(
            "INSERT INTO feedback (user_id, lang, text, sent_at) VALUES (?, ?, ?, ?)",
            (user_id, lang, clean_question(text, FEEDBACK_MAX_CHARS), _now()),
        )

    async def feedback(self, limit: int = 20) -> list[tuple[str, str, str]]:
        """The latest feedback, newest first: (text, lang, sent_at), without who wrote it."""
        async with self.conn.execute(
            "SELECT text, lang, sent_at FROM feedback ORDER BY id DESC LIMIT ?", (limit,)
        ) as cur:
            return [(r[0], r[1], r[2]) for r in await cur.fetchall()]

    # --- the inbox ------------------------------------------------------------------------

    async def inbox_add(self, updates: Iterable[tuple[int, str, str]]) -> None:
        """Stores (update_id, chat_key, payload) rows in one durable transaction (outside one,
        each row would be a commit of its own). An update Telegram delivers again (not yet
        confirmed when the bot died) is kept only once."""
        now = _now()
        async with self.transaction(durable=True):
            await self.conn.executemany(
                "INSERT INTO inbox (update_id, chat_key, payload, received_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(update_id) DO NOTHING",
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

    async def inbox_depth(self) -> tuple[int, int, datetime | None]:
        """(waiting, in progress, when the oldest waiting update arrived): from the rows not
        done only (the partial index), so a health check does not scan the day's updates."""
        async with self.conn.execute(
            "SELECT state, COUNT(*), MIN(received_at) FROM inbox WHERE state != 'done' "
            "GROUP BY state"
        ) as cur:
            rows = {str(r[0]): (int(r[1]), r[2]) for r in await cur.fetchall()}
        waiting, oldest = rows.get("pending", (0, None))
        working = rows.get("working", (0, None))[0]
        return waiting, working, datetime.fromisoformat(oldest) if oldest else None

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

    # --- the outbox -----------------------------------------------------------------------

    async def broadcast_create(
        self,
        kind: str,
        audience: str,
        payload: dict[str, Any],
        send_at: datetime,
        created_by: int | None = None,
    ) -> int:
        """A broadcast still to be expanded (`outbox_expand`) into its recipients."""
        cur = await self.conn.execute(
            "INSERT INTO broadcasts (kind, audience, payload, send_at, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, audience, json.dumps(payload, ensure_ascii=False), _iso(send_at),
             created_by, _now()),
        )  # fmt: skip
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def broadcasts_expanding(self) -> list[int]:
        async with self.conn.execute(
            "SELECT id FROM broadcasts WHERE state = 'expanding' ORDER BY id"
        ) as cur:
            return [int(r[0]) for r in await cur.fetchall()]

    async def broadcast(self, broadcast_id: int) -> tuple[str, str, dict[str, Any]] | None:
        """(kind, state, payload) of a broadcast."""
        async with self.conn.execute(
            "SELECT kind, state, payload FROM broadcasts WHERE id = ?", (broadcast_id,)
        ) as cur:
            row = await cur.fetchone()
        return (str(row[0]), str(row[1]), json.loads(row[2])) if row else None

    async def outbox_expand(self, broadcast_id: int, batch: int) -> int:
        """Adds the next `batch` recipients (by user id, after the broadcast's cursor) to the
        outbox in one transaction; 0 once all are in, and the broadcast is then ready. A crash
        between batches resumes from the cursor."""
        async with self.transaction():
            async with self.conn.execute(
                "SELECT audience, cursor FROM broadcasts WHERE id = ? AND state = 'expanding'",
                (broadcast_id,),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return 0
            where, params = _audience_filter(str(row[0]))
            async with self.conn.execute(
                f"SELECT id FROM users WHERE id > ? AND blocked_at IS NULL "
                f"AND stopped_at IS NULL AND {where} "
                "ORDER BY id LIMIT ?",
                (int(row[1]), *params, batch),
            ) as cur:
                ids = [int(r[0]) for r in await cur.fetchall()]
            if not ids:
                await self.conn.execute(
                    "UPDATE broadcasts SET state = 'ready' WHERE id = ?", (broadcast_id,)
                )
                return 0
            await self.conn.executemany(
                "INSERT INTO outbox (broadcast_id, user_id) VALUES (?, ?) "
                "ON CONFLICT(broadcast_id, user_id) DO NOTHING",
                [(broadcast_id, user_id) for user_id in ids],
            )
            await self.conn.execute(
                "UPDATE broadcasts SET cursor = ? WHERE id = ?", (ids[-1], broadcast_id)
            )
            return len(ids)

    async def outbox_claim(
        self, holder: str, limit: int, lease: timedelta, now: datetime | None = None
    ) -> list[tuple[int, int, int, str]]:
        """Takes up to `limit` rows that are due, queued (or claimed by a holder whose lease on
        them ran out), of broadcasts not cancelled, and marks them claimed by `holder`.
        (row id, broadcast id, user id, locale). One statement: on PostgreSQL the inner
        SELECT becomes `... ORDER BY o.id LIMIT n FOR UPDATE SKIP LOCKED`. A row with its
        own due time (a reminder) waits for that too."""
        now = now or datetime.now(UTC)
        async with self.conn.execute(
            "UPDATE outbox SET state = 'claimed', claimed_by = ?, claimed_at = ? WHERE id IN ("
            " SELECT o.id FROM outbox o JOIN broadcasts b ON b.id = o.broadcast_id"
            " WHERE (o.state = 'queued' OR (o.state = 'claimed' AND o.claimed_at < ?))"
            " AND b.state != 'cancelled' AND b.send_at <= ?"
            " AND (o.due_at IS NULL OR o.due_at <= ?)"
            " ORDER BY o.id LIMIT ?) "
            "RETURNING id, broadcast_id, user_id, "
            "(SELECT locale FROM users WHERE users.id = outbox.user_id)",
            (holder, _iso(now), _iso(now - lease), _iso(now), _iso(now), limit),
        ) as cur:
            rows = await cur.fetchall()
        return sorted((int(r[0]), int(r[1]), int(r[2]), str(r[3] or "")) for r in rows)

    async def outbox_start(self, row_id: int, holder: str) -> bool:
        """True when the row is still `holder`'s to send: a broadcast cancelled after the claim
        has cancelled its rows, and they are not sent."""
        cur = await self.conn.execute(
            "UPDATE outbox SET claimed_at = ? WHERE id = ? AND state = 'claimed' "
            "AND claimed_by = ?",
            (_now(), row_id, holder),
        )
        return cur.rowcount == 1

    async def broadcast_cancel(self, broadcast_id: int, kind: str) -> int | None:
        """Cancels a broadcast of `kind` and its rows not yet sent (claimed ones too: the
        deliverer checks each row before its send). Rows cancelled, None when there is no
        such broadcast still running. 'cancelled' is one more value of outbox.state, a free
        text column: no migration."""
        now = _now()
        async with self.transaction():
            cur = await self.conn.execute(
                "UPDATE broadcasts SET state = 'cancelled' "
                "WHERE id = ? AND kind = ? AND state != 'cancelled'",
                (broadcast_id, kind),
            )
            if not cur.rowcount:
                return None
            cur = await self.conn.execute(
                "UPDATE outbox SET state = 'cancelled', finished_at = ? "
                "WHERE broadcast_id = ? AND state IN ('queued', 'claimed')",
                (now, broadcast_id),
            )
        return cur.rowcount

    async def audience_counts(self, audience: str) -> dict[str, int]:
        """Recipients an audience has now, per locale (those who stopped or blocked the bot
        are in none)."""
        where, params = _audience_filter(audience)
        async with self.conn.execute(
            "SELECT locale, COUNT(*) FROM users WHERE blocked_at IS NULL "
            f"AND stopped_at IS NULL AND {where} GROUP BY locale",
            params,
        ) as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def station_country_counts(self) -> dict[str, int]:
        """Per country: users who chose a station there and would get an announcement."""
        async with self.conn.execute(
            "SELECT json_extract(r.data, '$.country'), COUNT(*) FROM users u "
            "JOIN records r ON r.kind = 'station' AND r.id = u.station_id "
            "WHERE u.blocked_at IS NULL AND u.stopped_at IS NULL GROUP BY 1"
        ) as cur:
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def outbox_sent(self, row_id: int, message_id: int) -> None:
        await self.conn.execute(
            "UPDATE outbox SET state = 'sent', message_id = ?, finished_at = ? WHERE id = ?",
            (message_id, _now(), row_id),
        )

    async def outbox_failed(self, row_id: int, error: str) -> None:
        await self.conn.execute(
            "UPDATE outbox SET state = 'failed', error = ?, finished_at = ? WHERE id = ?",
            (error[:200], _now(), row_id),
        )

    async def outbox_skipped(self, row_id: int, reason: str) -> None:
        """A row that is no longer worth sending (a reminder for a moment that has passed)."""
        await self.outbox_failed(row_id, f"skipped: {reason}")

    async def user_blocked(self, user_id: int) -> int:
        """Telegram says the user blocked the bot (or is gone): marks them so, and every row
        still waiting for them blocked. Returns how many rows that stopped."""
        now = _now()
        async with self.transaction():
            await self.conn.execute(
                "UPDATE users SET blocked_at = ? WHERE id = ? AND blocked_at IS NULL",
                (now, user_id),
            )
            cur = await self.conn.execute(
                "UPDATE outbox SET state = 'blocked', finished_at = ? "
                "WHERE user_id = ? AND state IN ('queued', 'claimed')",
                (now, user_id),
            )
        return cur.rowcount

    async def user_stopped(self, user_id: int) -> int:
        """/stop: nothing more is sent to the user unasked; rows waiting for them stop.
        Returns how many rows that stopped."""
        now = _now()
        async with self.transaction():
            # Someone without a row is in no audience: there is nothing to mark.
            await self.conn.execute(
                "UPDATE users SET stopped_at = ?, updated_at = ? WHERE id = ?",
                (now, now, user_id),
            )
            cur = await self.conn.execute(
                "UPDATE outbox SET state = 'blocked', error = 'stopped by the user', "
                "finished_at = ? WHERE user_id = ? AND state IN ('queued', 'claimed')",
                (now, user_id),
            )
        return cur.rowcount

    async def user_returned(self, user_id: int) -> None:
        """The user started the bot again (/start): they no longer block or stop it, and the
        reminders that stopping stopped are queued again, those still to come."""
        async with self.transaction():
            cur = await self.conn.execute(
                "UPDATE users SET blocked_at = NULL, stopped_at = NULL "
                "WHERE id = ? AND (blocked_at IS NOT NULL OR stopped_at IS NOT NULL)",
                (user_id,),
            )
            if cur.rowcount:
                await self.conn.execute(
                    "UPDATE outbox SET state = 'queued', error = NULL, finished_at = NULL "
                    "WHERE user_id = ? AND state = 'blocked' AND due_at > ?",
                    (user_id, _now()),
                )

    async def outbox_release(self, holder: str | None = None) -> int:
        """Puts claimed rows back in the queue: those of `holder` (stopping), or all of them
        (the one deliverer starting: whoever claimed them is gone)."""
        if holder is None:
            cur = await self.conn.execute(
                "UPDATE outbox SET state = 'queued', claimed_by = NULL WHERE state = 'claimed'"
            )
        else:
            cur = await self.conn.execute(
                "UPDATE outbox SET state = 'queued', claimed_by = NULL "
                "WHERE state = 'claimed' AND claimed_by = ?",
                (holder,),
            )
        return cur.rowcount

    async def outbox_next_due(self) -> datetime | None:
        """When the earliest row still queued is due: its broadcast's time, or its own."""
        async with self.conn.execute(
            "SELECT MIN(MAX(b.send_at, COALESCE(o.due_at, b.send_at))) FROM outbox o "
            "JOIN broadcasts b ON b.id = o.broadcast_id "
            "WHERE o.state = 'queued' AND b.state != 'cancelled'"
        ) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def outbox_depth(self, now: datetime | None = None) -> dict[str, int]:
        """Rows still to send: due (queued, its time has come), sending (claimed) and later
        (queued for a later time), of broadcasts not cancelled."""
        async with self.conn.execute(
            "SELECT SUM(o.state = 'queued' AND MAX(b.send_at, COALESCE(o.due_at, b.send_at)) <= ?),"
            " SUM(o.state = 'claimed'), COUNT(*) FROM outbox o"
            " JOIN broadcasts b ON b.id = o.broadcast_id"
            " WHERE o.state IN ('queued', 'claimed') AND b.state != 'cancelled'",
            (_iso(now or datetime.now(UTC)),),
        ) as cur:
            row = await cur.fetchone()
        due, sending, total = (int(v or 0) for v in row) if row else (0, 0, 0)
        return {"due": due, "sending": sending, "later": total - due - sending}

    async def outbox_report(self, kind: str | None = None, limit: int = -1) -> list[dict[str, Any]]:
        """Per broadcast (of `kind`, the last `limit`): its kind, audience, time, state and
        rows per outbox state."""
        report: list[dict[str, Any]] = []
        async with self.conn.execute(
            "SELECT * FROM (SELECT b.id, b.kind, b.audience, b.send_at, b.state,"
            " SUM(o.state IN ('queued', 'claimed')), SUM(o.state = 'sent'),"
            " SUM(o.state = 'failed'), SUM(o.state = 'blocked'), SUM(o.state = 'cancelled')"
            " FROM broadcasts b LEFT JOIN outbox o ON o.broadcast_id = b.id"
            " WHERE ? IS NULL OR b.kind = ?"
            " GROUP BY b.id ORDER BY b.id DESC LIMIT ?) ORDER BY id",
            (kind, kind, limit),
        ) as cur:
            async for row in cur:
                keys = ("id", "kind", "audience", "send_at", "state")
                counts = ("queued", "sent", "failed", "blocked", "cancelled")
                report.append(
                    dict(zip(keys, row[:5], strict=True))
                    | {k: int(v or 0) for k, v in zip(counts, row[5:], strict=True)}
                )
        return report

    async def lease_take(self, name: str, holder: str, ttl: timedelta, *, steal: str = "") -> bool:
        """Takes or renews the lease `name` for `holder` when it is free, expired, already
        `holder`'s, or held by `steal` (a holder known to be dead)."""
        now = datetime.now(UTC)
        async with self.conn.execute(
            "INSERT INTO leases (name, holder, until) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until "
            "WHERE leases.until < ? OR leases.holder IN (excluded.holder, ?) "
            "RETURNING holder",
            (name, holder, _iso(now + ttl), _iso(now), steal),
        ) as cur:
            return await cur.fetchone() is not None

    async def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        async with self.conn.execute(
            "SELECT holder, until FROM leases WHERE name = ?", (name,)
        ) as cur:
            row = await cur.fetchone()
        return (str(row[0]), datetime.fromisoformat(row[1])) if row else None

    async def lease_drop(self, name: str, holder: str) -> None:
        await self.conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    # --- content -------------------------------------------------------------------------

    async def built_index(self, key: str) -> bytes | None:
        async with self.conn.execute("SELECT data FROM built_indexes WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return bytes(row[0]) if row else None

    async def has_built_index(self, key: str) -> bool:
        async with self.conn.execute("SELECT 1 FROM built_indexes WHERE key = ?", (key,)) as cur:
            return await cur.fetchone() is not None

    async def store_built_index(self, kind: str, key: str, data: bytes) -> None:
        """Keeps only the latest of a kind: an index of content or code that changed is never
        used again."""
        async with self.transaction():
            await self.conn.execute("DELETE FROM built_indexes WHERE kind = ?", (kind,))
            await self.conn.execute(
                "INSERT INTO built_indexes (kind, key, built_at, data) VALUES (?, ?, ?, ?)",
                (kind, key, _now(), data),
            )

    async def meta_value(self, key: str) -> str | None:
        async with self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def set_meta_value(self, key: str, value: str) -> None:
        await self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def content_is_empty(self) -> bool:
        async with self.conn.execute("SELECT 1 FROM faq_entries LIMIT 1") as cur:
            return await cur.fetchone() is None

    async def content_version(self) -> int:
        async with self.conn.execute("SELECT value FROM meta WHERE key = 'content_version'") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def load_content(self) -> Content:
        faq = await self._faq()
        records: dict[str, list[Any]] = {}
        for field, (kind, model, _) in RECORD_KINDS.items():
            async with self.conn.execute(
                "SELECT data FROM records WHERE kind = ? ORDER BY position, id", (kind,)
            ) as cur:
                records[field] = [model.model_validate_json(r[0]) async for r in cur]
        return Content(faq=faq, **records)

    async def save_content(
        self, content: Content, *, replace: bool = False, audit: Iterable[Change] = ()
    ) -> None:
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
            for field, (kind, _, key) in RECORD_KINDS.items():
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
            for change in audit:
                await self._log(None, "import", change, now)
            await self._bump_version()

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
                "INSERT INTO faq_translations (entry_id, lang, questions, answer, title) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(entry_id, lang) DO UPDATE SET "
                "questions = excluded.questions, answer = excluded.answer, "
                "title = excluded.title",
                (
                    entry.id,
                    lang,
                    json.dumps(text.questions, ensure_ascii=False),
                    text.answer,
                    text.title,
                ),
            )

    async def _bump_version(self) -> None:
        await self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('content_version', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    async def _log(self, actor: int | None, action: str, change: Change, now: str) -> None:
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, action, kind, record_id, before, after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (now, actor, action, change.kind, change.record_id, change.before, change.after),
        )

    # --- audit log --------------------------------------------------------------------

    async def operator_edits_since_import(self, kind: str, record_id: str) -> list[AuditRow]:
        """Operators' changes to a record after the last import touched it: what an import
        of that record would overwrite."""
        async with self.conn.execute(
            "SELECT id, at, actor, action, kind, record_id, before, after FROM audit_log "
            "WHERE kind = ? AND record_id = ? AND actor IS NOT NULL AND id > COALESCE(("
            "SELECT MAX(id) FROM audit_log WHERE kind = ? AND record_id = ? "
            "AND actor IS NULL), 0) ORDER BY id",
            (kind, record_id, kind, record_id),
        ) as cur:
            return [AuditRow(*row) for row in await cur.fetchall()]

    async def entry_history(self, entry_id: str, limit: int = 5) -> list[AuditRow]:
        """An FAQ entry's latest changes, newest first."""
        return await self.record_history("faq", entry_id, limit)

    async def audit_row(self, row_id: int) -> AuditRow | None:
        async with self.conn.execute(
            "SELECT id, at, actor, action, kind, record_id, before, after FROM audit_log "
            "WHERE id = ?",
            (row_id,),
        ) as cur:
            row = await cur.fetchone()
        return AuditRow(*row) if row else None

    # --- operators' edits of one FAQ entry ------------------------------------------------

    async def update_entry(self, entry: FaqEntry, *, expect: str, actor: int, action: str) -> bool:
        """Replaces a stored entry (keeping its place) and logs the change, in one transaction.
        `expect` is the entry's JSON document the operator saw: when the store no longer holds
        exactly that (another edit or an import came first), nothing is written and the answer
        is False."""
        now = _now()
        async with self.transaction():
            current = await self._entry(entry.id)
            if current is None or current.model_dump_json() != expect:
                return False
            async with self.conn.execute(
                "SELECT position FROM faq_entries WHERE id = ?", (entry.id,)
            ) as cur:
                (position,) = await cur.fetchone() or (0,)
            await self._upsert_entry(entry, position, now)
            after = entry.model_dump_json()
            await self._log(actor, action, Change("faq", entry.id, expect, after), now)
            await self._bump_version()
        return True

    async def insert_entry(self, entry: FaqEntry, *, actor: int) -> bool:
        """Adds a new entry after the others and logs its creation; False when the id is taken
        (another operator or an import came first)."""
        now = _now()
        async with self.transaction():
            if await self._entry(entry.id) is not None:
                return False
            async with self.conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM faq_entries"
            ) as cur:
                (position,) = await cur.fetchone() or (0,)
            await self._upsert_entry(entry, position, now)
            change = Change("faq", entry.id, None, entry.model_dump_json())
            await self._log(actor, "create", change, now)
            await self._bump_version()
        return True

    async def update_record(
        self, kind: str, record_id: str, data: str, *, expect: str, actor: int, action: str
    ) -> Change | None:
        """Replaces a stored record (a vote, a station, ...) with the JSON document `data` and
        logs it, in one transaction; None, writing nothing, when the store no longer holds
        exactly `expect`, the document the operator saw."""
        model = next(m for k, m, _ in RECORD_KINDS.values() if k == kind)
        now = _now()
        async with self.transaction():
            async with self.conn.execute(
                "SELECT data FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            ) as cur:
                row = await cur.fetchone()
            # Compared as the model writes it, so an older spelling of the same record matches.
            if row is None or model.model_validate_json(row[0]).model_dump_json() != expect:
                return None
            await self.conn.execute(
                "UPDATE records SET data = ?, updated_at = ? WHERE kind = ? AND id = ?",
                (data, now, kind, record_id),
            )
            change = Change(kind, record_id, expect, data)
            await self._log(actor, action, change, now)
            await self._bump_version()
        return change

    async def record_history(self, kind: str, record_id: str, limit: int = 5) -> list[AuditRow]:
        """A record's latest changes, newest first."""
        async with self.conn.execute(
            "SELECT id, at, actor, action, kind, record_id, before, after FROM audit_log "
            "WHERE kind = ? AND record_id = ? ORDER BY id DESC LIMIT ?",
            (kind, record_id, limit),
        ) as cur:
            return [AuditRow(*row) for row in await cur.fetchall()]

    async def _entry(self, entry_id: str) -> FaqEntry | None:
        found = await self._faq(entry_id)
        return found[0] if found else None

    async def _faq(self, entry_id: str | None = None) -> list[FaqEntry]:
        """Every FAQ entry in order, or the one with `entry_id`."""
        where, params = ("WHERE entry_id = ?", (entry_id,)) if entry_id else ("", ())
        translations: dict[str, dict[str, Any]] = {}
        async with self.conn.execute(
            f"SELECT entry_id, lang, questions, answer, title FROM faq_translations {where}",
            params,
        ) as cur:
            async for key, lang, questions, answer, title in cur:
                phrasings = json.loads(questions)
                translations.setdefault(key, {})[lang] = {
                    "questions": phrasings,
                    "answer": answer,
                    "title": title or _stored_title(phrasings[0]),
                }
        faq = []
        async with self.conn.execute(
            "SELECT id, section, published, render, articles, sources, verified FROM faq_entries "
            f"{where.replace('entry_id', 'id')} ORDER BY position, id",
            params,
        ) as cur:
            async for row in cur:
                key, section, published, render, articles, sources, verified = row
                data: dict[str, Any] = {
                    "id": key,
                    "section": section,
                    "published": bool(published),
                    "render": render,
                    "articles": json.loads(articles),
                    "sources": json.loads(sources),
                    "verified": verified,
                    **translations.get(key, {}),
                }
                faq.append(FaqEntry.model_validate(data))
        return faq

    # --- review of unanswered and unsure questions -------------------------------------

    async def asked_questions(self, limit: int = 5000) -> list[tuple[str, str, list[str]]]:
        """The latest unanswered and unsure questions: (text, lang, entries offered)."""
        async with self.conn.execute(
            "SELECT text, lang, suggested FROM unanswered ORDER BY id DESC LIMIT ?", (limit,)
        ) as cur:
            return [(t, lang, json.loads(s) if s else []) async for t, lang, s in cur]

    async def reviewed_keys(self) -> set[str]:
        async with self.conn.execute("SELECT key FROM reviewed_questions") as cur:
            return {row[0] async for row in cur}

    async def mark_reviewed(self, key: str, outcome: str, by: int) -> bool:
        """False when the question was already reviewed (a replayed button)."""
        async with self.conn.execute(
            "INSERT INTO reviewed_questions (key, outcome, reviewed_by, reviewed_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING RETURNING key",
            (key, outcome, by, _now()),
        ) as cur:
            return await cur.fetchone() is not None

    # --- editors (admins come from ADMIN_IDS, not the store) ------------------------------

    async def editor_ids(self) -> list[int]:
        async with self.conn.execute(
            "SELECT user_id FROM editors ORDER BY granted_at, user_id"
        ) as cur:
            return [row[0] async for row in cur]

    async def is_editor(self, user_id: int) -> bool:
        async with self.conn.execute("SELECT 1 FROM editors WHERE user_id = ?", (user_id,)) as cur:
            return await cur.fetchone() is not None

    async def set_editor(self, user_id: int, by: int, granted: bool) -> bool:
        """Grants or revokes the editor role, logged with who did it; False when it was
        already so (a replayed button)."""
        now = _now()
        async with self.transaction():
            if granted:
                cur = await self.conn.execute(
                    "INSERT INTO editors (user_id, granted_by, granted_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(user_id) DO NOTHING",
                    (user_id, by, now),
                )
            else:
                cur = await self.conn.execute("DELETE FROM editors WHERE user_id = ?", (user_id,))
            if not cur.rowcount:
                return False
            doc = json.dumps({"user_id": user_id})
            change = Change(
                "editor", str(user_id), None if granted else doc, doc if granted else None
            )
            await self._log(by, "grant" if granted else "revoke", change, now)
        return True

    # --- FSM state of guided edits (aiogram's storage interface, in bot.fsm) ---------------

    async def fsm_get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        async with self.conn.execute("SELECT state, data FROM fsm WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return (row[0], json.loads(row[1])) if row else (None, {})

    async def fsm_set_state(self, key: str, state: str | None) -> None:
        await self.conn.execute(
            "INSERT INTO fsm (key, state) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET state = excluded.state",
            (key, state),
        )

    async def fsm_set_data(self, key: str, data: dict[str, Any]) -> None:
        await self.conn.execute(
            "INSERT INTO fsm (key, data) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data",
            (key, json.dumps(data, ensure_ascii=False)),
        )
