"""The one sender: every Bot API request the bot makes goes through this session middleware.

- a global rate and a minimum interval per chat for anything addressed to a chat;
- 429: the whole sender pauses for retry_after (however long), then the request is retried;
- 5xx and network errors: retried with capped exponential backoff and full jitter, for as long
  as the process runs (a stopping process re-queues the update instead, see inbox);
- answers to people go before broadcasts (`with broadcast():` around a broadcast's sends).
- each message sent and each error is counted (bot/delivery/metrics.py).
Nothing here gives up on a request Telegram asked us to delay, so no apology is ever needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Iterator
from contextvars import ContextVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.delivery.metrics import Metrics
from bot.delivery.outage import Outage

log = logging.getLogger(__name__)

CATCH_UP = 0.1
_broadcasting: ContextVar[bool] = ContextVar("broadcasting", default=False)


@contextlib.contextmanager
def broadcast() -> Iterator[None]:
    """Sends made inside wait while any answer to a person is waiting for its turn."""
    token = _broadcasting.set(True)
    try:
        yield
    finally:
        _broadcasting.reset(token)


def backoff(failures: int, cap: float) -> float:
    """Full jitter: many requests failing together do not all retry at the same moment."""
    return random.uniform(0, min(cap, 0.25 * 2**failures))


def error_status(exc: TelegramAPIError) -> str:
    if isinstance(exc, TelegramForbiddenError):
        return "403"
    if isinstance(exc, TelegramBadRequest):
        return "400"
    return "other"


class Sender(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        rate: float,
        chat_interval: float,
        max_delay: float,
        outage: Outage | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.interval = 1.0 / rate
        self.chat_interval = chat_interval
        self.max_delay = max_delay
        self.outage = outage or Outage()
        self.metrics = metrics or Metrics()
        self.paused_until = 0.0
        self._next_slot = 0.0
        self._chat_next: dict[int | str, float] = {}
        self._answers_waiting = 0
        self._answers_idle = asyncio.Event()
        self._answers_idle.set()
        self._broadcast_lane = asyncio.Lock()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat = getattr(method, "chat_id", None)
        name = type(method).__name__
        failures = 0
        while True:
            if chat is not None:
                await self._take_turn(chat)
            else:
                await self._wait_pause()
            try:
                response = await make_request(bot, method)
            except TelegramRetryAfter as exc:
                self.metrics.errors.inc("429")
                self._pause(exc.retry_after)
                continue
            except (TelegramServerError, TelegramNetworkError) as exc:
                is_network = isinstance(exc, TelegramNetworkError)
                self.metrics.errors.inc("network" if is_network else "5xx")
                if isinstance(method, GetUpdates):
                    raise  # the poller has its own loop and must notice a stop promptly
                if is_network:
                    self.outage.failed(name, type(exc).__name__)
                else:  # Telegram answered: a hiccup, not an outage
                    log.debug("%s: %s, retrying", name, exc)
                failures += 1
                await asyncio.sleep(backoff(failures, self.max_delay))
                continue
            except TelegramAPIError as exc:  # not retried: counted, and the caller decides
                self.metrics.errors.inc(error_status(exc))
                raise
            self.outage.recovered()
            if chat is not None:
                self.metrics.message_sent(_broadcasting.get())
            return response

    @property
    def paused_for(self) -> float:
        """Seconds left of a 429 pause (0 when the sender is not paused)."""
        return max(0.0, self.paused_until - time.monotonic())

    def _pause(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        if until > self.paused_until + 0.5:
            log.warning("Telegram flood control: the sender pauses for %s s", seconds)
        self.paused_until = max(self.paused_until, until)

    async def _wait_pause(self) -> None:
        while (delay := self.paused_until - time.monotonic()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)  # the pause may grow meanwhile: check again

    async def _take_turn(self, chat: int | str) -> None:
        while True:
            # The wait for this chat's interval comes first and holds nothing: were it inside
            # the reservation, an answer to someone who just asked again would stall every
            # broadcast behind it (and push the global slot ahead, a slot lost).
            while (delay := self._chat_next.get(chat, 0.0) - time.monotonic()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(delay)
            if not _broadcasting.get():
                self._answers_waiting += 1
                self._answers_idle.clear()
                try:
                    reserved = await self._reserve(chat)
                finally:
                    self._answers_waiting -= 1
                    if not self._answers_waiting:
                        self._answers_idle.set()
            else:
                # A broadcast reserves one slot at a time: were each recipient's send to take
                # the next free slot at once, an answer asked meanwhile would queue behind all
                # of them.
                async with self._broadcast_lane:
                    while self._answers_waiting:
                        await self._answers_idle.wait()
                    reserved = await self._reserve(chat)
            if reserved:
                return

    async def _reserve(self, chat: int | str) -> bool:
        """Reserves the next free slot (global rate, any pause) and sleeps until it; a pause
        that starts meanwhile sends it back for a later slot. False, reserving nothing, when
        another send to this chat took its turn first."""
        mine = None
        while True:
            now = time.monotonic()
            if self._chat_next.get(chat, 0.0) > now and self._chat_next.get(chat) != mine:
                return False
            # A slot missed by less than CATCH_UP (the loop was busy) is taken back, so a steady
            # stream keeps its rate; any one second holds at most rate x (1 + CATCH_UP) sends.
            # After a quiet spell the schedule starts again from now.
            late = now - CATCH_UP <= self._next_slot
            slot = max(self._next_slot if late else now, self.paused_until)
            self._next_slot = slot + self.interval
            self._chat_next[chat] = mine = max(slot, now) + self.chat_interval
            if slot > now:
                await asyncio.sleep(slot - now)
            if self.paused_until <= slot:
                break
        if len(self._chat_next) > 10_000:  # forget chats whose interval has passed
            now = time.monotonic()
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return True
