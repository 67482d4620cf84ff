"""GET /healthz and GET /metrics: how this process and its queues are doing.

/healthz answers 200 while the database can be read and no update has waited longer than
HEALTH_MAX_AGE seconds, 503 otherwise, with the numbers as JSON either way. A Telegram outage
or a 429 pause is reported but is not unhealthy: restarting the process would not end it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.delivery.metrics import Metrics
from bot.delivery.outage import Outage
from bot.delivery.outbox import LEASE
from bot.delivery.sender import Sender
from bot.storage import Database

log = logging.getLogger(__name__)

READ_TIMEOUT = 5.0  # a database locked for longer than this counts as unreadable
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Health:
    def __init__(
        self,
        *,
        db: Database,
        metrics: Metrics,
        sender: Sender,
        outage: Outage,
        deliverer: str,
        max_age: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`deliverer`: this process's holder id for the deliverer lease."""
        self.db, self.metrics, self.sender, self.outage = db, metrics, sender, outage
        self.deliverer, self.max_age, self.clock = deliverer, max_age, clock

    async def report(self) -> dict[str, Any]:
        now = self.clock()
        pause = round(self.sender.paused_for, 3)
        report: dict[str, Any] = {
            "ok": True,
            "problems": [],
            "sender": {"paused": pause > 0, "resume_in": pause},
            "telegram_reachable": not self.outage.ongoing,
            "max_age": self.max_age,
        }
        try:
            waiting, working, oldest, outbox, lease = await asyncio.wait_for(
                self._read(now), READ_TIMEOUT
            )
        except Exception as exc:  # whatever stops the read, the process cannot do its work
            log.warning("health: the database cannot be read (%s)", type(exc).__name__)
            report["ok"] = False
            report["problems"].append(f"database unreadable: {type(exc).__name__}")
            return report
        age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        report |= {
            "inbox": {"waiting": waiting, "in_progress": working, "oldest_waiting_age": age},
            "outbox": outbox,
            "deliverer": lease is not None and lease[0] == self.deliverer and lease[1] > now,
        }
        if age > self.max_age:
            report["ok"] = False
            report["problems"].append(
                f"the oldest waiting update is {age:.0f} s old (HEALTH_MAX_AGE {self.max_age:g})"
            )
        return report

    async def _read(self, now: datetime) -> tuple[Any, ...]:
        waiting, working, oldest = await self.db.inbox_depth()
        outbox = await self.db.outbox_depth(now)
        return waiting, working, oldest, outbox, await self.db.lease_holder(LEASE)

    async def healthz(self, request: web.Request) -> web.Response:
        report = await self.report()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def metrics_text(self, request: web.Request) -> web.Response:
        report = await self.report()
        readable = "inbox" in report
        gauges: list[tuple[str, str, dict[str, float]]] = [
            ("saylau_database_readable", "1 when the database could be read.",
             {"": float(readable)}),
            ("saylau_sender_paused_seconds", "Seconds left of a 429 pause of the sender.",
             {"": report["sender"]["resume_in"]}),
        ]  # fmt: skip
        if readable:
            inbox, outbox = report["inbox"], report["outbox"]
            gauges += [
                ("saylau_inbox_updates", "Updates in the inbox not yet done.",
                 {'state="waiting"': inbox["waiting"],
                  'state="in_progress"': inbox["in_progress"]}),
                ("saylau_inbox_oldest_waiting_seconds", "Age of the oldest waiting update.",
                 {"": inbox["oldest_waiting_age"]}),
                ("saylau_outbox_messages", "Outbox rows still to send.",
                 {f'state="{k}"': v for k, v in outbox.items()}),
                ("saylau_deliverer_lease", "1 when this process is the one deliverer.",
                 {"": float(report["deliverer"])}),
            ]  # fmt: skip
        text = self.metrics.render(gauges)
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_text)
