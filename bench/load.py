"""The full bot against a bare aiogram echo bot, same fake Bot API, same run (issue #12).

    python bench/load.py [--users 2000] [--rounds 3] [--rate 100] [--against TREE]

Each round starts both bots as subprocesses, A B A B, on a backlog of `--users` updates (one
per user: free-text questions, then /start) and prints updates answered per second, medians and
the full/echo ratio. Then each bot gets a steady `--rate` updates/s for 10 s and the reply
latency (push to sendMessage at the fake) is printed as p50/p99. Start-up is spawn to the first
getUpdates, the full bot on an existing database. `--against TREE` adds the full bot of another
checkout (an earlier commit) to the same rounds. `python bench/load.py echo` is the echo bot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TOKEN = "123456:TEST"


def echo_bot() -> None:
    """The baseline: aiogram's polling and a handler that sends the text back."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BOT_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    asyncio.run(dp.start_polling(bot, handle_signals=True))


def questions() -> list[str]:
    dev = ROOT.parent / "shared" / "questions-dev.jsonl"
    if dev.exists():
        rows = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line]
        return [r["q"] for r in rows if r.get("id")]
    return ["когда выборы", "saylau qashan", "what documents do I need", "где голосовать"]


async def trial(
    bot: str, kind: str, users: int, store: Path, rate: float | None, trees: dict[str, Path]
) -> dict:
    from conftest import clean_env
    from fake_telegram import FakeTelegram

    qs = questions()
    text = (lambda i: "/start") if kind == "start" else (lambda i: qs[i % len(qs)])
    async with FakeTelegram(TOKEN) as tg:
        folder = Path(tempfile.mkdtemp())
        try:
            db = folder / "saylau.db"
            await asyncio.to_thread(shutil.copyfile, store, db)
            env = clean_env(
                BOT_TOKEN=TOKEN, BOT_API_URL=tg.url, DATABASE_PATH=str(db),
                SEND_RATE="1000000", CHAT_SEND_INTERVAL="0", THROTTLE_BURST="1000",
            )  # fmt: skip
            args = [str(ROOT / "bench/load.py"), "echo"] if bot == "echo" else ["-m", "bot", "run"]
            spawned = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *args, cwd=trees.get(bot, ROOT), env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await tg.wait_for("getUpdates", timeout=60)
            startup = time.monotonic() - spawned
            pushed: dict[int, float] = {}
            first = tg.mark()
            start = time.monotonic()
            for i in range(users):
                chat = 10_000 + i
                tg.push_message(chat, text(i), language_code="ru", first_name="Aigerim")
                pushed[chat] = time.monotonic()
                if rate:
                    await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
            answered: dict[int, float] = {}
            deadline = time.monotonic() + 300
            while len(answered) < users and time.monotonic() < deadline:
                for call in tg.calls("sendMessage", since=first):
                    chat = call.params.get("chat_id")
                    if call.ok and chat in pushed and chat not in answered:
                        answered[chat] = call.at
                first = tg.mark()
                await asyncio.sleep(0.02)
            proc.terminate()
            await proc.wait()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    latencies = sorted(answered[c] - pushed[c] for c in answered)
    span = max(answered.values()) - start if answered else float("inf")
    return {
        "per_s": len(answered) / span,
        "lost": users - len(answered),
        "p50": latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan"),
        "startup": startup,
    }


async def main(users: int, rounds: int, rate: float, against: Path | None) -> None:
    from bot.config import load_settings
    from bot.content.sync import import_path
    from bot.storage import Database

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "template.db"
        async with Database(store) as db:
            await import_path(db, load_settings().data_dir)
        trees = {"against": against} if against else {}
        bots = ["echo", "full", *trees]
        for kind in ("text", "start"):
            runs: dict[str, list[dict]] = {b: [] for b in bots}
            for _ in range(rounds):
                for bot in bots:
                    runs[bot].append(await trial(bot, kind, users, store, None, trees))
            med = {b: statistics.median(r["per_s"] for r in runs[b]) for b in runs}
            lost = sum(r["lost"] for b in runs for r in runs[b])
            print(
                f"{kind:5} backlog of {users}: "
                + ", ".join(f"{b} {med[b]:.0f}/s ({med[b] / med['echo']:.2f}x echo)" for b in bots)
                + f"; median of {rounds}, {lost} lost"
            )
        for bot in bots:
            r = await trial(bot, "text", int(rate * 10), store, rate, trees)
            print(
                f"{bot:4} at {rate:.0f} questions/s: p50 {r['p50'] * 1000:.0f} ms, "
                f"p99 {r['p99'] * 1000:.0f} ms, start-up {r['startup']:.2f} s, lost {r['lost']}"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["echo"]:
        echo_bot()
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--against", type=Path, help="another checkout's full bot, as a baseline")
    opts = parser.parse_args()
    asyncio.run(main(opts.users, opts.rounds, opts.rate, opts.against))
