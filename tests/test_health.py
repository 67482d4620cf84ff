"""GET /healthz and GET /metrics (issue #12): the production dispatcher handles updates from
the durable inbox, sends through the one Sender to the in-process fake Bot API, and the
health app is asked over HTTP (aiohttp's test server on a localhost port)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from fake_telegram import FakeTelegram
from test_faults import TOKEN

from bot.config import Settings, load_settings
from bot.delivery import announcements
from bot.delivery.health import Health
from bot.delivery.inbox import Inbox
from bot.delivery.intake import Intake
from bot.delivery.outage import Outage
from bot.delivery.outbox import Deliverer
from bot.runner import make_bot, make_sender
from bot.storage import Database

QUESTIONS = {
    "When was the Kurultai election?": "answered",
    "Who will win the football world cup?": "offtopic",
    "Hello!": "smalltalk",
}


def message(update_id: int, user: int, text: str) -> dict[str, Any]:
    """A private message as Telegram posts it."""
    body: dict[str, Any] = {
        "message_id": update_id,
        "date": 1,
        "text": text,
        "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": "A", "language_code": "en"},
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": body}


@dataclass
class Running:
    tg: FakeTelegram
    bot: Bot
    db: Database
    inbox: Inbox
    deliverer: Deliverer
    health: Health
    client: TestClient[Any, Any]
    ids: count[int]

    async def get(self, path: str) -> tuple[int, str]:
        response = await self.client.get(path)
        return response.status, await response.text()

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        response = await self.client.get("/healthz")
        return response.status, await response.json()

    async def metrics(self) -> dict[str, float]:
        status, text = await self.get("/metrics")
        assert status == 200
        return parse(text)

    async def receive(self, user: int, *texts: str) -> None:
        await self.inbox.receive([message(next(self.ids), user, t) for t in texts])

    async def until_done(self) -> None:
        for _ in range(400):
            waiting, working, _oldest = await self.db.inbox_depth()
            if not waiting and not working:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the inbox did not empty")


def parse(text: str) -> dict[str, float]:
    """Samples of the exposition format: 'name{labels}' -> value; every line well formed."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) saylau_\w+ .+", line), line
            continue
        found = re.fullmatch(r'(saylau_\w+(?:\{\w+="[^"]*"\})?) (\S+)', line)
        assert found, f"not a sample line: {line!r}"
        samples[found[1]] = float(found[2])
    return samples


@pytest_asyncio.fixture
async def running(
    dp: Dispatcher, settings: Settings, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """start(workers=2, clock=...) -> a Running bot on the fake, with its health app."""
    started: list[Running] = []

    async with FakeTelegram(TOKEN) as tg:

        async def start(
            workers: int = 2, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        ) -> Running:
            real = load_settings(
                _env_file=None,
                database_path=settings.database_path,
                bot_token=TOKEN,
                bot_api_url=tg.url,
                chat_send_interval=0,
                send_rate=200,
                retry_max_delay=1,
            )
            outage = Outage()
            sender = make_sender(real, outage, dp["metrics"])
            bot = make_bot(real, outage, sender)
            me = await bot.me()
            inbox = Inbox(
                dp=dp, bot=bot, db=dp["db"], i18n=dp["i18n"],
                intake=Intake(me.id, me.username or "", 50, 50.0),
                workers=workers, metrics=dp["metrics"],
            )  # fmt: skip
            if workers:
                inbox.start()
            renderers = {announcements.KIND: announcements.render}
            deliverer = Deliverer(dp["db"], bot, renderers)
            deliverer.start()
            health = Health(
                db=dp["db"], metrics=dp["metrics"], sender=sender, outage=outage,
                deliverer=deliverer.holder, max_age=60.0, clock=clock,
            )  # fmt: skip
            app = web.Application()
            health.add_routes(app)
            client: TestClient[Any, Any] = TestClient(TestServer(app))
            await client.start_server()
            run = Running(tg, bot, dp["db"], inbox, deliverer, health, client, count(1000))
            started.append(run)
            return run

        yield start
        for run in started:
            await run.client.close()
            await asyncio.gather(run.inbox.stop(2), run.deliverer.stop(2))
            await run.bot.session.close()


async def test_healthz_and_metrics_after_handled_updates(running):
    bot: Running = await running()
    await bot.receive(801, "/start", *QUESTIONS)
    await bot.receive(802, "/start")
    bot.tg.block_user(803)
    await bot.receive(803, "/start")  # 403: the update's outcome is 'blocked'
    await bot.until_done()

    status, report = await bot.healthz()
    assert status == 200 and report["ok"] is True and report["problems"] == []
    assert report["inbox"] == {"waiting": 0, "in_progress": 0, "oldest_waiting_age": 0.0}
    assert report["outbox"] == {"due": 0, "sending": 0, "later": 0}
    assert report["sender"] == {"paused": False, "resume_in": 0.0}
    assert report["telegram_reachable"] is True

    samples = await bot.metrics()
    assert samples['saylau_updates_total{outcome="handled"}'] == 5
    assert samples['saylau_updates_total{outcome="blocked"}'] == 1
    assert samples['saylau_updates_total{outcome="failed"}'] == 0
    sent = [c for c in bot.tg.calls() if c.ok and c.method.startswith(("send", "edit"))]
    assert samples['saylau_messages_sent_total{kind="answer"}'] == len(sent) >= 5
    assert samples['saylau_messages_sent_total{kind="broadcast"}'] == 0
    assert samples['saylau_telegram_errors_total{status="403"}'] == 1
    for outcome in set(QUESTIONS.values()):
        assert samples[f'saylau_searches_total{{outcome="{outcome}"}}'] == 1, outcome
    assert samples['saylau_searches_total{outcome="unsure"}'] == 0
    # One latency per update answered (the blocked one got no answer), in ascending buckets.
    assert samples["saylau_reply_latency_seconds_count"] == 5
    assert samples['saylau_reply_latency_seconds_bucket{le="+Inf"}'] == 5
    assert 0 < samples["saylau_reply_latency_seconds_sum"] < 5 * 10
    assert samples['saylau_inbox_updates{state="waiting"}'] == 0
    assert samples["saylau_database_readable"] == 1

    # An announcement now and one for tomorrow: the broadcast counter, the outbox gauges.
    for user in (801, 802):  # people who chose a language are in the audience
        await bot.db.set_locale(user, "en")
    _id, now_rows = await announcements.announce(bot.db, {"en": "News"})
    assert (await bot.metrics())['saylau_outbox_messages{state="due"}'] == now_rows == 2
    bot.deliverer.wake()
    for _ in range(200):
        samples = await bot.metrics()
        if samples['saylau_messages_sent_total{kind="broadcast"}'] == now_rows:
            break
        await asyncio.sleep(0.05)
    assert samples['saylau_messages_sent_total{kind="broadcast"}'] == now_rows
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    _id, later_rows = await announcements.announce(bot.db, {"en": "Later"}, at=tomorrow)
    samples = await bot.metrics()
    assert samples['saylau_outbox_messages{state="later"}'] == later_rows == now_rows
    assert samples['saylau_outbox_messages{state="due"}'] == 0
    assert samples["saylau_reply_latency_seconds_count"] == 5  # broadcasts are no replies
    assert samples["saylau_deliverer_lease"] == 1
    status, report = await bot.healthz()
    assert status == 200 and report["deliverer"] is True and report["outbox"]["later"] == 2


async def test_an_update_waiting_too_long_makes_it_unhealthy(running):
    later = datetime.now(UTC) + timedelta(seconds=90)
    bot: Running = await running(workers=0, clock=lambda: later)  # nobody takes the update
    await bot.receive(811, "/start")
    status, report = await bot.healthz()
    assert status == 503 and report["ok"] is False
    assert report["inbox"]["waiting"] == 1
    assert 89 <= report["inbox"]["oldest_waiting_age"] <= 92
    assert "HEALTH_MAX_AGE 60" in report["problems"][0]
    samples = await bot.metrics()
    assert samples['saylau_inbox_updates{state="waiting"}'] == 1
    assert samples["saylau_inbox_oldest_waiting_seconds"] >= 89


async def test_a_429_pause_is_reported_and_counted_but_healthy(running):
    bot: Running = await running()
    bot.tg.fail_next("sendMessage", 429, retry_after=2)
    await bot.receive(821, "/help")
    for _ in range(100):
        status, report = await bot.healthz()
        if report["sender"]["paused"]:
            break
        await asyncio.sleep(0.02)
    assert status == 200 and report["sender"]["paused"] is True
    assert 0 < report["sender"]["resume_in"] <= 2
    await bot.until_done()
    samples = await bot.metrics()
    assert samples['saylau_telegram_errors_total{status="429"}'] == 1
    assert samples['saylau_updates_total{outcome="handled"}'] == 1
    assert samples["saylau_reply_latency_seconds_count"] == 1
    assert samples['saylau_reply_latency_seconds_bucket{le="1.0"}'] == 0  # it waited the pause


async def test_an_unreadable_database_answers_503(running):
    bot: Running = await running(workers=0)
    await bot.deliverer.stop(1)
    await bot.db.close()
    status, report = await bot.healthz()
    assert status == 503 and report["ok"] is False
    assert report["problems"] == ["database unreadable: RuntimeError"]
    assert "inbox" not in report
    status, text = await bot.get("/metrics")
    samples = parse(text)
    assert status == 200 and samples["saylau_database_readable"] == 0
    assert 'saylau_updates_total{outcome="handled"}' in samples
    assert not any(name.startswith("saylau_inbox_updates") for name in samples)
    await bot.db.open()  # for the bot's own stop
