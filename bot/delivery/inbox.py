"""The durable inbox: updates are stored before Telegram is told they arrived, then handled
from the store by a bounded pool of workers, one update per chat at a time, in order.

A crash leaves rows 'working'; the next start puts them back, so an update in flight at a
kill may be answered twice, and no update is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from pydantic import ValidationError

from bot.delivery.intake import Intake, Verdict, chat_key, sender_id
from bot.delivery.metrics import Metrics
from bot.i18n import pick_locale
from bot.storage import Database

log = logging.getLogger(__name__)

# Outcomes an error handler may return (see bot/handlers/errors.py); anything else is handled.
FAILED, BLOCKED = "failed", "blocked"


def describe(exc: ValidationError) -> str:
    """Which fields were wrong, never their values (they may be names or message texts)."""
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}" for e in exc.errors()[:3]]
    return "; ".join(parts)


class Inbox:
    def __init__(
        self,
        *,
        dp: Dispatcher,
        bot: Bot,
        db: Database,
        i18n: I18n,
        intake: Intake,
        workers: int,
        metrics: Metrics,
    ) -> None:
        self.dp, self.bot, self.db, self.i18n, self.intake = dp, bot, db, i18n, intake
        self.workers = workers
        self.metrics = metrics
        # update id -> when this process stored it (time.monotonic()), for the reply latency
        self._stored: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[Any]] = set()

    async def receive(self, updates: list[dict[str, Any]]) -> None:
        """Stores what is for the bot; returns once it is safely in the database."""
        rows, warn, dropped = [], [], []
        for update in updates:
            verdict = self.intake.judge(update)
            if verdict is Verdict.STORE:
                payload = json.dumps(update, ensure_ascii=False)
                rows.append((int(update["update_id"]), chat_key(update), payload))
            elif verdict is Verdict.WARN:
                warn.append(update)
            elif verdict is Verdict.THROTTLE:
                dropped.append(update)
        if rows:
            await self.db.inbox_add(rows)
            if len(self._stored) > 100_000:  # handled by another replica, or a huge backlog
                self._stored.clear()
            now = time.monotonic()
            self._stored.update((row[0], now) for row in rows)
            self._wake.set()
        for update in warn:
            self._spawn(self._slow_down(update))
        for update in dropped:
            if isinstance(callback := update.get("callback_query"), dict):
                self._spawn(self._stop_spinner(callback))

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]

    async def stop(self, timeout: float) -> None:
        """Takes no new update; lets running ones finish for `timeout` seconds, then cancels
        them and puts them back in the queue for the next start."""
        self._stopping = True
        self._wake.set()
        tasks = [*self._tasks, *self._side_tasks]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if pending:
                log.info("stopped %d running updates; they resume on the next start", len(pending))
        await self.db.inbox_requeue()

    async def _work(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the claim: a row stored after it sets it again
            claimed = await self.db.inbox_claim(1)
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                continue
            update_id, payload = claimed[0]
            with self.metrics.handling(self._stored.pop(update_id, None)):
                outcome = await self._handle(update_id, payload)
            await self.db.inbox_finish(update_id, outcome)
            self.metrics.updates.inc(outcome)
            self._wake.set()  # the chat's next update may now be claimed

    async def _handle(self, update_id: int, payload: str) -> str:
        try:
            update = Update.model_validate(json.loads(payload), context={"bot": self.bot})
        except ValidationError as exc:
            log.warning("update %s is malformed and skipped (%s)", update_id, describe(exc))
            return "malformed"
        try:
            result = await self.dp.feed_update(self.bot, update)
        except Exception:  # a failure outside any handler (a middleware): keep going
            log.exception("update %s failed outside the handlers", update_id)
            return FAILED
        return result if result in (FAILED, BLOCKED) else "handled"

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _slow_down(self, update: dict[str, Any]) -> None:
        user_id = sender_id(update)
        message = update.get("message") or {}
        callback = update.get("callback_query")
        chat_id = (message.get("chat") or {}).get("id", user_id)
        if user_id is None or not isinstance(chat_id, int):
            return
        origin = message or callback or {}
        try:
            user: User | None = User.model_validate(origin.get("from"))
        except ValidationError:
            user = None
        lang = pick_locale(await self.db.get_locale(user_id), user, self.i18n.default_locale)
        # Outside an update: rendered in the person's locale explicitly.
        with self.i18n.context(), self.i18n.use_locale(lang):
            text = _(
                "You are sending messages faster than I can read them. Please wait a little: "
                "I will answer what I have already received."
            )
        if isinstance(callback, dict):  # a button press: say it where the button is
            await self._stop_spinner(callback, text)
            return
        with contextlib.suppress(TelegramAPIError):
            await self.bot.send_message(chat_id, text)

    async def _stop_spinner(self, callback: dict[str, Any], text: str | None = None) -> None:
        """A dropped button press is still answered, or the button spins for a while."""
        if isinstance(callback_id := callback.get("id"), str):
            with contextlib.suppress(TelegramAPIError):
                await self.bot.answer_callback_query(callback_id, text=text)
