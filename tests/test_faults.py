"""Nothing a user sends is lost: the real bot process (`python -m bot run`) against the fake
Bot API that kills, limits, fails and stalls (issue #7). Counts are scaled down to keep the
suite fast; bench/faults.py runs the full ones.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot as AiogramBot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from conftest import ERROR_MSGID, ROOT, all_translations, clean_env, copy_db
from fake_telegram import FakeTelegram

from bot.delivery.sender import Sender, broadcast

TOKEN = "123456:TEST"
APOLOGIES = set(all_translations(ERROR_MSGID).values())
SLOW_DOWN = set(
    all_translations(
        "You are sending messages faster than I can read them. Please wait a little: I will "
        "answer what I have already received."
    ).values()
)


class Bot:
    """`python -m bot run` as a subprocess with its own log."""

    def __init__(self, tg: FakeTelegram, folder: Path, **env: str) -> None:
        self.folder, self.log = folder, folder / "bot.log"
        defaults = {"WORKERS": "4", "RETRY_MAX_DELAY": "1", "SHUTDOWN_TIMEOUT": "3"}
        self.env = clean_env(
            BOT_TOKEN=TOKEN,
            BOT_API_URL=tg.url,
            DATABASE_PATH=str(folder / "saylau.db"),
            **{**defaults, **env},
        )
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> Bot:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        return self

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def signal(self, sig: int, timeout: float = 15.0) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), timeout)


@pytest.fixture
def folder(tmp_path: Path, template_db: Path) -> Path:
    copy_db(template_db, tmp_path / "saylau.db")  # content already imported: a fast start
    return tmp_path


def replies(tg: FakeTelegram, chats: set[int]) -> Counter[int]:
    return Counter(
        c.params["chat_id"]
        for c in tg.calls("sendMessage")
        if c.ok and c.params.get("chat_id") in chats and c.params.get("text") not in SLOW_DOWN
    )


async def until(check: Any, timeout: float, what: str, bot: Bot) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{bot.output()[-3000:]}")
        await asyncio.sleep(0.05)


def push_load(tg: FakeTelegram, users: range, per_user: int) -> set[int]:
    for _ in range(per_user):
        for user in users:
            tg.push_message(user, "/help", first_name="Aigerim", language_code="ru")
    return set(users)


def assert_clean(tg: FakeTelegram, bot: Bot) -> None:
    texts = [c.params.get("text") for c in tg.calls("sendMessage")]
    assert not APOLOGIES.intersection(texts), "an apology was sent"
    assert "Traceback" not in bot.output()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
async def test_kill_with_updates_queued_loses_nothing(folder: Path, sig: int):
    async with FakeTelegram(TOKEN) as tg:
        bot = await Bot(tg, folder).start()
        chats = push_load(tg, range(100, 140), 3)  # 120 updates queued
        await until(lambda: sum(replies(tg, chats).values()) >= 20, 60, "first replies", bot)
        await bot.signal(sig, timeout=10)  # SIGTERM: bounded by SHUTDOWN_TIMEOUT
        before = sum(replies(tg, chats).values())
        assert before < 120, "the kill came too late to test anything"
        await bot.start()
        await until(lambda: set(replies(tg, chats)) == chats and min(
            replies(tg, chats).values()) >= 3, 60, "every answer", bot)  # fmt: skip
        await asyncio.sleep(1.0)  # nothing more trickles in
        sent = replies(tg, chats)
        assert sum(sent.values()) - 120 <= 4  # at most the updates in flight (WORKERS)
        assert_clean(tg, bot)
        await bot.signal(signal.SIGTERM)


async def test_telegram_limits_and_429_pause(folder: Path):
    async with FakeTelegram(TOKEN) as tg:
        tg.limit(per_second=30, chat_interval=1.0)
        bot = await Bot(tg, folder, SEND_RATE="25").start()
        await tg.wait_for("getUpdates", timeout=30)
        tg.fail_next("sendMessage", 429, retry_after=3)
        chats = push_load(tg, range(200, 260), 2)
        await until(lambda: len(replies(tg, chats)) == 60 and min(
            replies(tg, chats).values()) >= 2, 60, "every answer", bot)  # fmt: skip
        sends = tg.calls("sendMessage")
        paused = next(
            c
            for c in sends
            if (c.status == 429 and "retry after 3" in str(c.params)) or c.status == 429
        )
        later = [c for c in sends if c.index > paused.index]
        assert later and min(c.at for c in later) >= paused.at + 2.9  # the whole sender waited
        assert [c for c in sends if c.status == 429] == [paused]  # the limits were kept
        assert_clean(tg, bot)
        await bot.signal(signal.SIGTERM)


async def test_slow_answers_from_telegram_lose_and_repeat_nothing(folder: Path):
    async with FakeTelegram(TOKEN) as tg:
        tg.stall(1.5, ratio=0.5)  # half the sends take 1.5 s to be answered
        bot = await Bot(tg, folder).start()
        await tg.wait_for("getUpdates", timeout=30)
        chats = push_load(tg, range(400, 430), 2)
        await until(lambda: len(replies(tg, chats)) == 30 and min(
            replies(tg, chats).values()) >= 2, 90, "every answer", bot)  # fmt: skip
        await asyncio.sleep(2.0)  # nothing more trickles in
        assert set(replies(tg, chats).values()) == {2}  # each answered, none twice
        assert_clean(tg, bot)
        await bot.signal(signal.SIGTERM)


async def test_answers_to_people_go_before_a_broadcast():
    """Forty broadcast sends are queued, then a person asks: the answer takes the next slot,
    not the forty-first."""
    async with FakeTelegram(TOKEN) as tg:
        session = AiohttpSession(api=TelegramAPIServer.from_base(tg.url))
        session.middleware(Sender(rate=20, chat_interval=1.0, max_delay=1))
        async with AiogramBot(TOKEN, session=session) as api:
            with broadcast():
                news = [asyncio.create_task(api.send_message(1000 + i, "news")) for i in range(40)]
            await asyncio.sleep(0.3)
            await api.send_message(5, "answer")
            await asyncio.gather(*news)
        order = [c.params["chat_id"] for c in tg.calls("sendMessage")]
        assert len(order) == 41
        assert order.index(5) <= 0.3 * 20 + 4  # what had its slot already, then the answer


async def test_an_answer_waiting_for_its_chat_does_not_hold_up_a_broadcast():
    """Someone asks twice at once: the second answer waits a second for their chat, and the
    broadcast goes on meanwhile (it used to wait with it, and lose that second's slots)."""
    async with FakeTelegram(TOKEN) as tg:
        session = AiohttpSession(api=TelegramAPIServer.from_base(tg.url))
        session.middleware(Sender(rate=100, chat_interval=1.0, max_delay=1))
        async with AiogramBot(TOKEN, session=session) as api:
            first = asyncio.create_task(api.send_message(5, "answer"))
            await asyncio.sleep(0)
            second = asyncio.create_task(api.send_message(5, "answer"))
            with broadcast():
                news = [asyncio.create_task(api.send_message(1000 + i, "news")) for i in range(40)]
            await asyncio.gather(first, second, *news)
        order = [c.params["chat_id"] for c in tg.calls("sendMessage")]
        assert order[0] == 5 and order[-1] == 5  # 40 sends at 100/s take 0.4 s, not 1 s


async def test_5xx_and_outages_at_start_and_during_load(folder: Path):
    async with FakeTelegram(TOKEN) as tg:
        tg.go_down(3)  # unreachable at start
        bot = await Bot(tg, folder).start()
        await tg.wait_for("getUpdates", lambda p: True, timeout=30)
        tg.flaky(0.6)
        chats = push_load(tg, range(300, 320), 1)
        await asyncio.sleep(0.5)
        tg.go_down(3)  # and during load
        chats |= push_load(tg, range(320, 330), 1)
        await until(lambda: len(replies(tg, chats)) == 30, 90, "every answer", bot)
        assert bot.process is not None and bot.process.returncode is None
        assert bot.output().count("Bot API unreachable") <= 4  # once per outage, not per try
        assert_clean(tg, bot)
        await bot.signal(signal.SIGTERM)


async def test_poison_update_is_skipped_without_personal_data(folder: Path):
    async with FakeTelegram(TOKEN) as tg:
        bot = await Bot(tg, folder).start()
        await tg.wait_for("getUpdates", timeout=30)
        poison = {
            "message_id": 1,
            "from": {"id": 401, "first_name": "Zhanar"},
            "chat": {"id": 401},
            "text": "my secret question",
        }
        tg.push_update("message", poison)
        chats = push_load(tg, range(402, 442), 1)
        await until(lambda: len(replies(tg, chats)) == 40, 60, "the next 40 answers", bot)
        log = bot.output()
        assert "malformed" in log
        assert "Zhanar" not in log and "secret question" not in log and "Aigerim" not in log
        await bot.signal(signal.SIGTERM)
        with sqlite3.connect(folder / "saylau.db") as conn:
            assert conn.execute("SELECT outcome FROM inbox WHERE update_id = 1").fetchone() == (
                "malformed",
            )


async def test_groups_answer_only_when_addressed_and_store_nothing_else(folder: Path):
    group = -1001
    async with FakeTelegram(TOKEN) as tg:
        bot = await Bot(tg, folder).start()
        await tg.wait_for("getUpdates", timeout=30)
        ignored = [
            tg.push_message(501, "hello everyone, what a day", chat_id=group),
            tg.push_message(501, "/help@other_bot", chat_id=group),
        ]
        join = {
            "message_id": 90,
            "date": 1,
            "chat": {"id": group, "type": "supergroup"},
            "from": {"id": 502, "is_bot": False, "first_name": "N"},
            "new_chat_members": [{"id": 502, "is_bot": False, "first_name": "N"}],
        }
        ignored.append(tg.push_update("message", join))
        other_bot = {
            "message_id": 91,
            "date": 1,
            "chat": {"id": group, "type": "supergroup"},
            "from": {"id": 503, "is_bot": True, "first_name": "B"},
            "text": "/help",
        }
        ignored.append(tg.push_update("message", other_bot))
        tg.push_message(501, "/help@saylau_test_bot", chat_id=group)
        first = await tg.wait_for("sendMessage", lambda p: p["chat_id"] == group, 20)
        tg.push_message(501, "@saylau_test_bot qwzx vrrbl", chat_id=group)  # unanswerable
        await tg.wait_for("sendMessage", lambda p: p["chat_id"] == group, 20, since=first.index + 1)
        await asyncio.sleep(1.0)
        assert len([c for c in tg.calls("sendMessage") if c.params["chat_id"] == group]) == 2
        await bot.signal(signal.SIGTERM)
        with sqlite3.connect(folder / "saylau.db") as conn:
            stored = {r[0] for r in conn.execute("SELECT update_id FROM inbox")}
            assert not stored & {u["update_id"] for u in ignored}
            assert conn.execute("SELECT COUNT(*) FROM unanswered").fetchone() == (0,)


async def test_flood_gets_one_slow_down_and_does_not_slow_others(folder: Path):
    async with FakeTelegram(TOKEN) as tg:
        bot = await Bot(tg, folder, THROTTLE_BURST="5", THROTTLE_RATE="0.2").start()
        await tg.wait_for("getUpdates", timeout=30)
        for _ in range(60):
            tg.push_message(601, "/help", language_code="ru")
        presses = [tg.push_callback(603, "x:1", 1)["callback_query"]["id"] for _ in range(20)]
        tg.push_message(602, "/help")
        await tg.wait_for("sendMessage", lambda p: p["chat_id"] == 602, 20)
        await asyncio.sleep(6.0)
        to_flooder = [
            c.params["text"] for c in tg.calls("sendMessage") if c.params["chat_id"] == 601
        ]
        assert sum(t in SLOW_DOWN for t in to_flooder) == 1
        assert len(to_flooder) <= 5 + 1 + 2  # the burst, the warning, what trickled in
        # Every button press is answered once, dropped ones too (else the button spins); the
        # slow-down note comes once, where the button is.
        answers = [c.params for c in tg.calls("answerCallbackQuery")]
        assert sorted(a["callback_query_id"] for a in answers) == sorted(presses)
        assert sum(a.get("text") in SLOW_DOWN for a in answers) == 1
        await bot.signal(signal.SIGTERM)
        with sqlite3.connect(folder / "saylau.db") as conn:
            [(stored,)] = conn.execute(
                "SELECT COUNT(*) FROM inbox WHERE chat_key IN ('chat:601', 'user:603') "
                "GROUP BY chat_key ORDER BY COUNT(*) DESC LIMIT 1"
            )
            assert stored <= 5 + 3


async def test_webhook_secret_garbage_and_health(folder: Path, unused_tcp_port: int):
    async with FakeTelegram(TOKEN) as tg:
        url = f"http://127.0.0.1:{unused_tcp_port}/hook"
        refused = Bot(tg, folder, WEBHOOK_URL=url)
        await refused.start()
        assert refused.process is not None and await refused.process.wait() == 2
        assert "WEBHOOK_SECRET" in refused.output()
        bot = await Bot(
            tg,
            folder,
            WEBHOOK_URL=url,
            WEBHOOK_SECRET="s3cret-Token",
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(unused_tcp_port),
        ).start()
        hook = await tg.wait_for("setWebhook", timeout=30)
        assert hook.params["secret_token"] == "s3cret-Token"
        update = {
            "update_id": 77,
            "message": {
                "message_id": 1,
                "date": 1,
                "text": "/help",
                "chat": {"id": 701, "type": "private"},
                "from": {"id": 701, "is_bot": False, "first_name": "A"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        header = "X-Telegram-Bot-Api-Secret-Token"
        async with aiohttp.ClientSession() as http:
            health = await http.get(f"http://127.0.0.1:{unused_tcp_port}/healthz")
            assert health.status == 200
            assert (await health.json())["inbox"] == {
                "waiting": 0, "in_progress": 0, "oldest_waiting_age": 0.0
            }  # fmt: skip
            assert (await http.post(url, json=update)).status == 401
            assert (await http.post(url, json=update, headers={header: "wrong"})).status == 401
            garbage = await http.post(url, data=b"\xff{not json", headers={header: "s3cret-Token"})
            assert garbage.status == 400
            assert (
                await http.post(url, json=update, headers={header: "s3cret-Token"})
            ).status == 200
        reply = await tg.wait_for("sendMessage", lambda p: p["chat_id"] == 701, 20, since=0)
        assert reply.ok
        assert len(tg.calls("sendMessage")) == 1  # the refused ones were never handled
        handled = 'saylau_updates_total{outcome="handled"} 1\n'
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # the update is marked done just after its reply
                metrics = await (
                    await http.get(f"http://127.0.0.1:{unused_tcp_port}/metrics")
                ).text()
                if handled in metrics:
                    break
                await asyncio.sleep(0.1)
        assert handled in metrics
        assert "saylau_reply_latency_seconds_count 1\n" in metrics
        assert (await bot.signal(signal.SIGTERM)) == 0
