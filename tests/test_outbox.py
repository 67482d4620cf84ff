"""The outbox (issue #8): announcements reach every recipient once, through 403/400/429/5xx,
a second deliverer, and a SIGKILL of the bot part-way (the real `python -m bot run`)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import copy_db, forget_reply, only_text, translated
from fake_telegram import FakeTelegram
from test_faults import TOKEN, Bot, until

from bot.__main__ import main as cli
from bot.config import load_settings
from bot.delivery import announcements
from bot.delivery.announcements import AnnouncementError, announce
from bot.delivery.outage import Outage
from bot.delivery.outbox import Deliverer
from bot.runner import make_bot
from bot.storage import Database

TEXTS = {"kk": "Сайлау туралы хабар", "ru": "Объявление о выборах", "en": "News <about> votes"}
RENDERERS = {announcements.KIND: announcements.render}


@pytest.fixture
def folder(tmp_path: Path, template_db: Path) -> Path:
    copy_db(template_db, tmp_path / "saylau.db")
    return tmp_path


async def add_users(db: Database, ids: range, locales: tuple[str, ...] = ("kk", "ru", "en")):
    async with db.transaction():  # one commit, not one per user
        for user_id in ids:
            await db.set_locale(user_id, locales[user_id % len(locales)])


def received(tg: FakeTelegram, texts: set[str]) -> Counter[int]:
    """Per chat, how many of these texts Telegram accepted."""
    return Counter(
        c.params["chat_id"]
        for c in tg.calls("sendMessage")
        if c.ok and c.params.get("text") in texts
    )


async def deliver(db: Database, tg: FakeTelegram, done: int, **settings: object) -> None:
    """One in-process deliverer on the fake until `done` outbox rows are finished."""
    bot = make_bot(
        load_settings(_env_file=None, bot_token=TOKEN, bot_api_url=tg.url, **settings), Outage()
    )
    deliverer = Deliverer(db, bot, RENDERERS)
    deliverer.start()
    try:
        for _ in range(600):
            report = await db.outbox_report()
            if sum(r["sent"] + r["failed"] + r["blocked"] for r in report) >= done:
                break
            await asyncio.sleep(0.05)
    finally:
        await deliverer.stop(5)
        await bot.session.close()


async def test_each_language_gets_its_text_and_faults_touch_one_recipient(folder: Path):
    async with Database(folder / "saylau.db") as db, FakeTelegram(TOKEN) as tg:
        await add_users(db, range(1, 61))
        await add_users(db, range(61, 63), ("en",))
        tg.block_user(5)
        tg.fail_next("sendMessage", 400, "Bad Request: chat not found")
        tg.fail_next("sendMessage", 429, retry_after=1)
        tg.fail_next("sendMessage", 502)
        first, recipients = await announce(db, {"kk": TEXTS["kk"], "ru": TEXTS["ru"]})
        assert recipients == 62
        later, _ = await announce(db, TEXTS, at=datetime.now(UTC) + timedelta(hours=1))
        await deliver(db, tg, 62, send_rate=200, retry_max_delay=0.2)

        by_chat = {c.params["chat_id"]: c for c in tg.calls("sendMessage") if c.ok}
        assert len(by_chat) == 60  # all but the blocked one and the 400
        assert by_chat[3].params["text"] == TEXTS["kk"]  # 3 % 3 == 0: kk
        assert by_chat[4].params["text"] == TEXTS["ru"]
        assert by_chat[61].params["text"] == TEXTS["kk"]  # no English text: the first given
        [report, pending] = await db.outbox_report()
        assert (report["id"], report["sent"], report["failed"], report["blocked"]) == (
            first,
            60,
            1,
            1,
        )
        assert (pending["id"], pending["queued"], pending["sent"]) == (later, 62 - 1, 0)
        assert Counter(c.status for c in tg.calls("sendMessage"))[429] == 1  # no second one
        with sqlite3.connect(folder / "saylau.db") as conn:
            assert conn.execute("SELECT blocked_at IS NOT NULL FROM users WHERE id = 5").fetchone()
            # The blocked user's row of the later announcement is stopped too; sent rows keep
            # Telegram's message id.
            assert conn.execute(
                "SELECT state FROM outbox WHERE user_id = 5 AND broadcast_id = ?", (later,)
            ).fetchone() == ("blocked",)
            assert conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND message_id IS NULL"
            ).fetchone() == (0,)
        # Someone who blocked the bot is not in a new audience.
        assert (await announce(db, TEXTS, "lang:ru"))[1] == 20
        _, to_turkey = await announce(db, TEXTS, "country:TR")
        assert to_turkey == 0  # nobody has chosen a station yet
        assert "<about>" not in " ".join(c.params["text"] for c in tg.calls("sendMessage"))


async def test_announcement_input_is_checked(folder: Path):
    async with Database(folder / "saylau.db") as db:
        with pytest.raises(AnnouncementError, match="at least one language"):
            await announce(db, {"kk": "  "})
        with pytest.raises(AnnouncementError, match="audience"):
            await announce(db, TEXTS, "lang:de")
        with pytest.raises(AnnouncementError, match="offset"):
            await announce(db, TEXTS, at=datetime(2026, 12, 5, 10))
        assert await db.outbox_report() == []


async def test_a_cancelled_announcement_stops_during_delivery(folder: Path):
    """Cancelled part-way: the deliverer sends none of the rows it had claimed but not yet
    sent, only those already in flight (at most BROADCAST_IN_FLIGHT)."""
    async with Database(folder / "saylau.db") as db, FakeTelegram(TOKEN) as tg:
        await add_users(db, range(1, 41))
        number, _count = await announce(db, {"en": "Polls open at 07:00"})
        bot = make_bot(
            load_settings(_env_file=None, bot_token=TOKEN, bot_api_url=tg.url, send_rate=20),
            Outage(),
        )
        deliverer = Deliverer(db, bot, RENDERERS, in_flight=4)
        deliverer.start()
        try:
            await until_sent(tg, 5)
            stopped = await announcements.cancel(db, number)
            at_cancel = len(tg.calls("sendMessage"))
            await asyncio.sleep(1.0)  # twenty more sends' time at this rate
            sent = len(tg.calls("sendMessage"))
        finally:
            await deliverer.stop(5)
            await bot.session.close()
        assert stopped is not None and stopped >= 40 - at_cancel - 4
        assert sent <= at_cancel + 4
        [report] = await db.outbox_report()
        assert report["sent"] == sent and report["sent"] + report["cancelled"] == 40


async def until_sent(tg: FakeTelegram, count: int) -> None:
    for _ in range(200):
        if len(tg.calls("sendMessage")) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} sends")


async def test_a_second_deliverer_waits_for_the_lease(
    folder: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="bot.delivery.outbox")
    async with (
        Database(folder / "saylau.db") as first_db,
        Database(folder / "saylau.db") as second_db,
        FakeTelegram(TOKEN) as tg,
    ):
        settings = load_settings(_env_file=None, bot_token=TOKEN, bot_api_url=tg.url)
        first = Deliverer(first_db, make_bot(settings, Outage()), RENDERERS)
        second = Deliverer(second_db, make_bot(settings, Outage()), RENDERERS)
        first.start()
        await until_logged(caplog, "delivers for")
        second.start()
        await until_logged(caplog, "another deliverer")
        await add_users(first_db, range(1, 11))
        await announce(first_db, TEXTS)
        first.wake()
        for _ in range(200):
            if len(tg.calls("sendMessage")) == 10:
                break
            await asyncio.sleep(0.05)
        await first.stop(5)
        await second.stop(5)
        assert len(tg.calls("sendMessage")) == 10
        assert caplog.text.count("delivers for") == 1  # the second never took over
        for deliverer in (first, second):
            await deliverer.bot.session.close()


async def until_logged(caplog: pytest.LogCaptureFixture, text: str) -> None:
    for _ in range(200):
        if text in caplog.text:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never logged {text!r}:\n{caplog.text}")


async def test_sigkill_part_way_everyone_gets_it_once(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    users = range(10_001, 12_501)
    async with Database(folder / "saylau.db") as db:
        await add_users(db, users)
    # The command line in process (a thread: it runs its own event loop); the bot a process.
    monkeypatch.setenv("DATABASE_PATH", str(folder / "saylau.db"))
    command = ["announce", *(f"--text-{lang}={text}" for lang, text in TEXTS.items())]
    assert await asyncio.to_thread(cli, command) == 0
    assert capsys.readouterr().out == "announcement 1: 2500 recipients\n"
    chats = set(users)
    texts = {TEXTS["kk"], TEXTS["ru"], "News &lt;about&gt; votes"}
    async with FakeTelegram(TOKEN) as tg:
        bot = await Bot(tg, folder, SEND_RATE="300", BROADCAST_IN_FLIGHT="1").start()
        await until(lambda: len(received(tg, texts)) >= 600, 60, "the first sends", bot)
        await bot.signal(signal.SIGKILL)
        assert len(received(tg, texts)) < 2000, "the kill came too late to test anything"
        await bot.start()
        await until(lambda: set(received(tg, texts)) == chats, 60, "every recipient", bot)
        await asyncio.sleep(0.5)  # nothing more trickles in
        counts = received(tg, texts)
        assert sum(counts.values()) - len(chats) <= 1  # at most the sends in flight at the kill
        assert "taking over from" in bot.output()
        assert await bot.signal(signal.SIGTERM) == 0
    assert await asyncio.to_thread(cli, ["outbox"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[-4:] == ["queued", "sent", "failed", "blocked"]
    assert row.split()[:3] == ["1", "announcement", "all"]
    assert row.split()[-4:] == ["0", "2500", "0", "0"]


async def test_stop_ends_announcements_start_resumes_forget_deletes_them(chat, db: Database):
    user = chat("ru")
    await user.send("/start")
    await user.press("lang:ru")
    _, recipients = await announce(db, TEXTS, at=datetime.now(UTC) + timedelta(hours=1))
    assert recipients == 1
    reply = only_text(await user.send("/stop"))
    assert reply == translated(
        "Done: the bot will send you nothing unasked any more, no announcements and no "
        "reminders. It still answers your questions. Send /start to receive them again.",
        "ru",
    )
    [waiting] = await db.outbox_report()
    assert (waiting["queued"], waiting["blocked"]) == (0, 1)  # the queued one stopped too
    assert (await announce(db, TEXTS))[1] == 0
    await user.send("/start")
    assert (await announce(db, TEXTS))[1] == 1
    assert only_text(await user.send("/forget")) == forget_reply("ru")
    await user.press_button("forget:1")
    assert [r["queued"] + r["blocked"] for r in await db.outbox_report()] == [0, 0, 0]
    assert (await announce(db, TEXTS))[1] == 0  # no row, no audience
