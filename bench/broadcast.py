"""Delivery rate of an announcement against the fake Bot API with Telegram's limits (issue #8).

    python bench/broadcast.py [--recipients 20000] [--scale 10] [--in-flight N] [--profile]

The fake (tests/fake_telegram.py, in its own process so it does not take the bot's CPU)
enforces Telegram's limits scaled by `--scale`: 30 sends/s overall x scale, 1 s per chat, 429
with retry_after beyond them. The bot's deliverer (the real Deliverer and Sender, as `run`
builds them) sends one announcement to `--recipients` users at SEND_RATE x scale. While it
runs, a person's question is answered every half second (a send outside the broadcast). Prints
the achieved rate beside the configured one (target: at least 95 %), 429s, duplicates, losses,
peak memory and the p95 time of those answers. `--profile` prints where the bot's time went.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TOKEN = "123456:TEST"
TEXT = "Сайлау туралы хабарландыру"
QUESTIONERS = 10**9  # chats outside the audience: people asking during the broadcast


async def fake(per_second: float) -> None:
    """The child process: serves the fake until stdin closes, then prints what it saw."""
    from fake_telegram import FakeTelegram

    async with FakeTelegram(TOKEN) as tg:
        tg.limit(per_second=per_second, chat_interval=1.0)
        print(tg.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        sends = tg.calls("sendMessage")
        ok = [c for c in sends if c.ok and c.params.get("text") == TEXT]
        span = [c for c in sends if c.ok and ok and ok[0].at <= c.at <= ok[-1].at]
        print(
            json.dumps(
                {
                    "received": Counter(c.params["chat_id"] for c in ok),
                    "too_many": sum(c.status == 429 for c in sends),
                    "in_span": len(span),  # the answers too: they share the configured rate
                    "first": ok[0].at if ok else 0.0,
                    "last": ok[-1].at if ok else 0.0,
                }
            ),
            flush=True,
        )


async def ask(bot, answers: list[float], stop: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
    """An answer to someone every half second; not inside broadcast(), as a handler's reply."""
    asked = 0
    while not stop.is_set():
        started = time.monotonic()
        asked += 1
        await bot.send_message(QUESTIONERS + asked, "answer")
        answers.append(time.monotonic() - started)
        await asyncio.sleep(0.5)


async def bench(args: argparse.Namespace) -> None:
    from bot.config import load_settings
    from bot.delivery import announcements
    from bot.delivery.outage import Outage
    from bot.delivery.outbox import Deliverer
    from bot.runner import make_bot
    from bot.storage import Database

    rate = load_settings(_env_file=None).send_rate * args.scale
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "fake", str(30 * args.scale),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    url = (await child.stdout.readline()).decode().strip()
    settings = load_settings(
        _env_file=None, bot_token=TOKEN, bot_api_url=url, send_rate=rate,
        broadcast_in_flight=args.in_flight or load_settings(_env_file=None).broadcast_in_flight,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        async with Database(Path(folder) / "bench.db") as db:
            async with db.transaction():
                for user_id in range(1, args.recipients + 1):
                    await db.set_locale(user_id, ("kk", "ru", "en")[user_id % 3])
            number, recipients = await announcements.announce(db, {"kk": TEXT})
            bot = make_bot(settings, Outage())
            deliverer = Deliverer(
                db, bot, {announcements.KIND: announcements.render}, settings.broadcast_in_flight
            )
            answers: list[float] = []
            stop = asyncio.Event()
            profile = cProfile.Profile() if args.profile else None
            if profile:
                profile.enable()
            deliverer.start()
            asker = asyncio.create_task(ask(bot, answers, stop))
            started = time.monotonic()
            while True:
                [row] = await db.outbox_report()
                if row["queued"] == 0:
                    break
                await asyncio.sleep(0.5)
            elapsed = time.monotonic() - started
            stop.set()
            await asker
            await deliverer.stop(5)
            if profile:
                profile.disable()
            await bot.session.close()
    child.stdin.close()
    seen = json.loads(await child.stdout.read())  # the rest, until the fake exits
    await child.wait()
    received = {int(k): v for k, v in seen["received"].items()}
    span = seen["last"] - seen["first"]
    achieved = (seen["in_span"] - 1) / span if span > 0 else 0.0
    answers.sort()
    p95 = answers[int(0.95 * (len(answers) - 1))] if answers else float("nan")
    print(f"announcement {number}: {recipients} recipients, delivered in {elapsed:.1f} s")
    print(
        f"achieved {achieved:.1f} messages/s (broadcast and answers) beside SEND_RATE "
        f"{rate:.1f}: {100 * achieved / rate:.1f} % (target >= 95 %)"
    )
    print(
        f"429s received {seen['too_many']}, duplicates "
        f"{sum(v - 1 for v in received.values() if v > 1)}, losses "
        f"{len(set(range(1, recipients + 1)) - set(received))}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MiB; answers to a person during it: p95 {1000 * p95:.0f} ms")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


def main() -> None:
    if sys.argv[1:2] == ["fake"]:
        asyncio.run(fake(float(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--in-flight", type=int, default=0, help="default BROADCAST_IN_FLIGHT")
    parser.add_argument("--profile", action="store_true")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
