"""Issue #7's table, measured again: the real bot process against the fake Bot API.

    python bench/faults.py [--scale 0.1]

Each row runs `python -m bot run` on a fresh copy of the store, injects the fault, waits until
every user has an answer (or a deadline passes) and counts what was never answered, apologies
and duplicate answers, beside the figures the issue measured before the inbox and the sender.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_telegram import FakeTelegram  # noqa: E402
from test_faults import APOLOGIES, TOKEN, Bot, push_load, replies, until  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.content.sync import import_path  # noqa: E402
from bot.storage import Database  # noqa: E402

BASELINE = {
    "SIGTERM with 1,000 updates queued": "636 never answered, 100 answer + apology",
    "SIGKILL with 1,000 queued": "678 never answered, nothing re-delivered",
    "Bot API unreachable for 10 s during load": "154 of 300 never answered",
    "Bot API unreachable at start": "exits with a traceback",
    "limits 30/s, 1/s per chat, 600 users at once": "420 nothing, 90 apologies",
    "429 with retry_after 35": "26 apologies, 4 lost",
    "5xx on 60% of sends": "56 apologies, 17 lost",
    "one update aiogram's models reject": "0 of the next 40 answered",
}
Scenario = Callable[[FakeTelegram, Bot], Awaitable[set[int]]]


def kill(sig: int, queued: int, users: int) -> Scenario:
    async def run(tg: FakeTelegram, bot: Bot) -> set[int]:
        chats = push_load(tg, range(1000, 1000 + users), max(1, queued // users))
        await until(lambda: sum(replies(tg, chats).values()) >= queued // 10, 120, "replies", bot)
        await bot.signal(sig, timeout=30)
        await bot.start()
        return chats

    return run


async def measure(name: str, scenario: Scenario, per_user: int, store: Path, **env: str) -> str:
    async with FakeTelegram(TOKEN) as tg:
        folder = Path(tempfile.mkdtemp())
        await asyncio.to_thread(shutil.copyfile, store, folder / "saylau.db")
        if name == "Bot API unreachable at start":
            tg.go_down(10)
        if name.startswith("limits"):
            tg.limit(30, 1.0)
        bot = await Bot(tg, folder, WORKERS="16", RETRY_MAX_DELAY="5", **env).start()
        started = time.monotonic()
        chats = await scenario(tg, bot)
        expected = per_user * len(chats)
        deadline = time.monotonic() + 300
        while sum(min(n, per_user) for n in replies(tg, chats).values()) < expected:
            if time.monotonic() > deadline or (bot.process and bot.process.returncode is not None):
                break
            await asyncio.sleep(0.2)
        got = replies(tg, chats)
        lost = expected - sum(min(n, per_user) for n in got.values())
        dupes = sum(max(0, n - per_user) for n in got.values())
        apologies = sum(c.params.get("text") in APOLOGIES for c in tg.calls("sendMessage"))
        elapsed = time.monotonic() - started
        if bot.process and bot.process.returncode is None:
            await bot.signal(signal.SIGTERM, timeout=30)
        return f"{lost} never answered, {apologies} apologies, {dupes} duplicates ({elapsed:.0f} s)"


async def main(scale: float) -> None:
    n = max(10, int(300 * scale))
    queued = max(30, int(1000 * scale))
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "template.db"
        async with Database(store) as db:
            await import_path(db, load_settings().data_dir)

        async def load(users: int, per_user: int = 1, fault: Callable[[FakeTelegram], None]
                       = lambda tg: None) -> Scenario:  # fmt: skip
            async def run(tg: FakeTelegram, bot: Bot) -> set[int]:
                await tg.wait_for("getUpdates", timeout=60)
                fault(tg)
                return push_load(tg, range(1000, 1000 + users), per_user)

            return run

        async def outage(tg: FakeTelegram, bot: Bot) -> set[int]:
            await tg.wait_for("getUpdates", timeout=60)
            chats = push_load(tg, range(1000, 1000 + n), 1)
            tg.go_down(10)
            return chats

        async def poison(tg: FakeTelegram, bot: Bot) -> set[int]:
            await tg.wait_for("getUpdates", timeout=60)
            tg.push_update("message", {"message_id": 1, "chat": {"id": 5}, "text": "x"})
            return push_load(tg, range(1000, 1040), 1)

        per = max(1, queued // n)
        rows = [
            ("SIGTERM with 1,000 updates queued", kill(signal.SIGTERM, queued, n), per),
            ("SIGKILL with 1,000 queued", kill(signal.SIGKILL, queued, n), per),
            ("Bot API unreachable for 10 s during load", outage, 1),
            ("Bot API unreachable at start", await load(n), 1),
            ("limits 30/s, 1/s per chat, 600 users at once", await load(2 * n), 1),
            (
                "429 with retry_after 35",
                await load(n, fault=lambda tg: tg.fail_next("sendMessage", 429, retry_after=35)),
                1,
            ),
            ("5xx on 60% of sends", await load(n, fault=lambda tg: tg.flaky(0.6)), 1),
            ("one update aiogram's models reject", poison, 1),
        ]
        print(f"| scenario ({n} users, {queued} queued) | before (issue #7) | now |")
        print("|---|---|---|")
        for name, scenario, per_user in rows:
            result = await measure(name, scenario, per_user, store)
            print(f"| {name} | {BASELINE[name]} | {result} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full counts")
    asyncio.run(main(parser.parse_args().scale))
