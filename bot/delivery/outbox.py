"""The deliverer: sends what the outbox holds, once per recipient, through crashes.

The database is the truth. A broadcast (an announcement, a batch of reminders) is expanded in
batches into one outbox row per recipient; the deliverer claims a batch of due rows, sends each
through the one Sender (as a broadcast, so answers to people go first) and marks it sent with
Telegram's message id right after. A kill between a send and its mark repeats only the sends in
flight (at most BROADCAST_IN_FLIGHT); everything else resumes from the rows. APScheduler only
wakes the loop: at the next due broadcast and every POLL_EVERY seconds (a broadcast written by
`python -m bot announce`).

One deliverer per database: it holds the `deliverer` lease and renews it; a second process
logs who holds it and waits. A holder on this machine whose process is gone (SIGKILL) is
taken over at once instead of after its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.delivery.sender import broadcast
from bot.storage import Database

log = logging.getLogger(__name__)

LEASE = "deliverer"
LEASE_TTL = timedelta(seconds=30)
RENEW_EVERY = 10.0
ROW_LEASE = timedelta(minutes=5)  # a claimed row nobody marked for this long is claimed again
BATCH = 200  # rows read at once: memory does not grow with the audience
EXPAND_BATCH = 1000
POLL_EVERY = 10.0


@dataclass(frozen=True)
class Message:
    text: str
    markup: InlineKeyboardMarkup | None = None


# kind -> (payload, recipient's locale, user id) -> the message, or None with nothing to send
# (the moment has passed); rendered at send time, in the recipient's locale.
Renderer = Callable[[dict[str, Any], str, int], Awaitable[Message | None]]


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_here(holder: str) -> bool:
    """True when `holder` ran on this machine and its process no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def expand(db: Database, broadcast_id: int) -> int:
    """Expands a broadcast into the outbox batch by batch; returns how many rows it added."""
    total = 0
    while added := await db.outbox_expand(broadcast_id, EXPAND_BATCH):
        total += added
    return total


class Deliverer:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        renderers: dict[str, Renderer],
        in_flight: int = 4,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`in_flight`: sends awaiting Telegram's answer at once (the Sender still paces
        them). Reaching the rate takes rate x round trip of them; a kill repeats at most
        this many. `clock`: what is due is decided by it (tests fix it)."""
        self.db = db
        self.clock = clock
        self.bot = bot
        self.renderers = renderers
        self.in_flight = in_flight
        self.holder = holder_id()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._payloads: dict[int, tuple[str, str, dict[str, Any]] | None] = {}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="deliverer")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, timeout: float) -> None:
        """Lets the sends in flight finish for `timeout` seconds, then puts claimed rows back."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=timeout)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await self.db.outbox_release(self.holder)
        await self.db.lease_drop(LEASE, self.holder)

    async def _run(self) -> None:
        if not await self._take_lease():
            return
        if released := await self.db.outbox_release():
            log.info("outbox: %d sends claimed before the last stop are queued again", released)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(self.wake, "interval", seconds=POLL_EVERY, id="poll")
        self._scheduler.start()
        renewer = asyncio.create_task(self._renew())
        try:
            await self._deliver()
        finally:
            renewer.cancel()

    async def _take_lease(self) -> bool:
        waiting = False
        while not self._stopping.is_set():
            current = await self.db.lease_holder(LEASE)
            steal = current[0] if current and _dead_here(current[0]) else ""
            if await self.db.lease_take(LEASE, self.holder, LEASE_TTL, steal=steal):
                if steal:
                    log.info("outbox: taking over from %s, whose process is gone", steal)
                log.info("outbox: this process (%s) delivers for %s", self.holder, self.db.path)
                return True
            if not waiting and current:
                log.warning(
                    "outbox: another deliverer (%s) holds %s until %s; this process answers "
                    "updates but does not deliver until that lease is free",
                    current[0], self.db.path, current[1].isoformat(timespec="seconds"),
                )  # fmt: skip
                waiting = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RENEW_EVERY)
        return False

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            if not await self.db.lease_take(LEASE, self.holder, LEASE_TTL):
                log.error("outbox: lost the deliverer lease of %s; delivery stops", self.db.path)
                self._stopping.set()
                self._wake.set()
                return

    async def _deliver(self) -> None:
        for broadcast_id in await self.db.broadcasts_expanding():  # a crash mid-expansion
            await expand(self.db, broadcast_id)
        while not self._stopping.is_set():
            self._wake.clear()
            rows = await self.db.outbox_claim(self.holder, BATCH, ROW_LEASE, self.clock())
            if rows:
                await self._send_batch(rows)
                continue
            for broadcast_id in await self.db.broadcasts_expanding():
                await expand(self.db, broadcast_id)
            due = await self.db.outbox_next_due()
            if due is not None and self._scheduler is not None:
                self._scheduler.add_job(
                    # The scheduler runs on real time: wake after the same wait.
                    self.wake, "date", id="due",
                    run_date=datetime.now(UTC) + max(due - self.clock(), timedelta(0)),
                    replace_existing=True,
                )  # fmt: skip
            await self._wake.wait()

    async def _send_batch(self, rows: list[tuple[int, int, int, str]]) -> None:
        slots = asyncio.Semaphore(self.in_flight)

        async def one(row: tuple[int, int, int, str]) -> None:
            async with slots:
                if not self._stopping.is_set():  # unsent rows go back to the queue at stop
                    await self._send(*row)

        await asyncio.gather(*(one(row) for row in rows))
        if len(self._payloads) > 1000:
            self._payloads.clear()

    async def _send(self, row_id: int, broadcast_id: int, user_id: int, locale: str) -> None:
        if broadcast_id not in self._payloads:
            self._payloads[broadcast_id] = await self.db.broadcast(broadcast_id)
        found = self._payloads[broadcast_id]
        renderer = self.renderers.get(found[0]) if found else None
        if found is None or renderer is None:
            await self.db.outbox_failed(row_id, "nothing renders this broadcast")
            return
        if not await self.db.outbox_start(row_id, self.holder):
            return  # cancelled since the claim
        message = await renderer(found[2], locale, user_id)
        if message is None:
            await self.db.outbox_skipped(row_id, "no longer meaningful")
            return
        try:
            with broadcast():
                sent = await self.bot.send_message(
                    user_id, message.text, reply_markup=message.markup
                )
        except TelegramForbiddenError:
            stopped = await self.db.user_blocked(user_id)
            log.info("outbox: user blocked the bot; %d sends to them stopped", stopped)
        except TelegramBadRequest as exc:
            await self.db.outbox_failed(row_id, exc.message)
            log.warning("outbox: row %d refused by Telegram: %s", row_id, exc.message)
        except TelegramAPIError as exc:  # 401, 404, 409: this recipient only, not retried
            await self.db.outbox_failed(row_id, f"{type(exc).__name__}: {exc.message}")
            log.warning("outbox: row %d failed: %s", row_id, type(exc).__name__)
        else:
            await self.db.outbox_sent(row_id, sent.message_id)
