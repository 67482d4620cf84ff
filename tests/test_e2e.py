"""End to end: `python -m bot run` as a real process, long polling a fake Telegram over HTTP;
and `python -m bot chat` driven through its stdin.

One bot process serves the whole module (it takes seconds to start); every test talks to it
as a different user, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from conftest import DATA_DIR, ROOT, all_translations, clean_env, translated
from fake_telegram import FakeTelegram

from bot.content.yaml_io import load_content

shared_loop = pytest.mark.asyncio(loop_scope="module")  # the loop the fake Telegram runs in

TOKEN = "123456:TEST"
START_TIMEOUT = 60.0  # importing aiogram and the first import of data/ take a few seconds
REPLY_TIMEOUT = 15.0
USER_IDS = itertools.count(7001)
CONTENT = load_content(DATA_DIR)


def answer_of(entry_id: str, lang: str) -> str:
    entry = CONTENT.entry(entry_id)
    assert entry is not None, entry_id
    return entry.text(lang).answer


class BotProcess:
    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.returncode is None

    async def stop(self, timeout: float = 15.0) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError("the bot ignored SIGTERM:\n" + self.output()[-3000:]) from None
        return self.process.returncode  # type: ignore[return-value]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as tg:
        yield tg


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(
    telegram: FakeTelegram, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    folder = tmp_path_factory.mktemp("e2e")
    log = folder / "bot.log"
    env = clean_env(
        BOT_TOKEN=TOKEN,
        BOT_API_URL=telegram.url,
        DATABASE_PATH=str(folder / "saylau.db"),  # empty: the bot imports data/ itself
        WEBHOOK_URL="",
        ADMIN_IDS="",
        DEFAULT_LOCALE="kk",
    )
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    bot = BotProcess(process, log)
    try:
        polling = asyncio.ensure_future(telegram.wait_for("getUpdates", timeout=START_TIMEOUT))
        exited = asyncio.ensure_future(process.wait())
        await asyncio.wait({polling, exited}, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        if not polling.done() or polling.exception():
            polling.cancel()
            raise AssertionError("the bot never polled:\n" + bot.output()[-3000:])
        yield bot
    finally:
        if bot.alive():
            with contextlib.suppress(AssertionError):
                await bot.stop()


def to(user: int) -> Any:
    return lambda params: params.get("chat_id") == user


def bot_message_with(telegram: FakeTelegram, user: int, data: str) -> dict[str, Any]:
    """The bot's latest message in this chat that carries a button with this callback data."""
    for message in reversed(telegram.chat_messages(user)):
        markup = message.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            if any(b.get("callback_data") == data for b in row):
                return message
    raise AssertionError(f"no message with a {data!r} button in chat {user}")


def callback_data(markup: dict[str, Any]) -> list[str]:
    return [b.get("callback_data", "") for row in markup["inline_keyboard"] for b in row]


@shared_loop
async def test_start_language_menu_and_question(telegram: FakeTelegram, running: BotProcess):
    user = next(USER_IDS)
    # /start: the greeting and the language keyboard, Telegram's language marked.
    telegram.push_message(user, "/start", language_code="en")
    reply = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT)
    assert reply.ok
    assert reply.params["parse_mode"] == "HTML"
    for greeting in all_translations(
        "Hello! I am Saylau, a bot that answers questions about elections in Kazakhstan: "
        "dates, voting abroad, parties and the new Constitution."
    ).values():
        assert greeting in reply.params["text"]
    assert callback_data(reply.params["reply_markup"]) == ["lang:kk", "lang:ru", "lang:en"]
    assert reply.params["reply_markup"]["inline_keyboard"][0][2]["text"].startswith("✅")

    # Press "Русский" under that message: the message turns Russian, in place.
    message = bot_message_with(telegram, user, "lang:ru")
    telegram.push_callback(user, "lang:ru", message["message_id"])
    ack = await telegram.wait_for("answerCallbackQuery", timeout=REPLY_TIMEOUT)
    assert ack.params.get("text") == translated("Language saved.", "ru")
    edit = await telegram.wait_for("editMessageText", to(user), REPLY_TIMEOUT)
    assert edit.ok and edit.params["message_id"] == message["message_id"]
    assert edit.params["text"] == translated(
        "Done! Ask me a question in your own words, or pick a section:", "ru"
    )
    assert "sec:elections:0" in callback_data(edit.params["reply_markup"])

    # A section of the menu lists its entries as buttons.
    telegram.push_callback(user, "sec:elections:0", message["message_id"])
    edit = await telegram.wait_for("editMessageText", to(user), REPLY_TIMEOUT)
    assert translated("Pick a question:", "ru") in edit.params["text"]
    entries = [d for d in callback_data(edit.params["reply_markup"]) if d.startswith("faq:")]
    assert "faq:voting.next" in entries

    # A question, typed; Telegram's language is still "en", the saved choice wins.
    telegram.push_message(user, "Когда выборы в Курултай?", language_code="en")
    reply = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT)
    assert reply.ok
    assert answer_of("parliament.kurultai_election", "ru") in reply.params["text"]
    assert "Источники" in reply.params["text"]

    # The command menu was set for every language.
    commands = telegram.calls("setMyCommands")
    assert {c.params.get("language_code") for c in commands} >= {"kk", "ru", "en"}
    assert running.alive()


@shared_loop
async def test_station_lookup_by_city_and_by_location(telegram: FakeTelegram, running: BotProcess):
    user = next(USER_IDS)
    istanbul = next(s for s in CONTENT.stations if s.id == "istanbul")

    telegram.push_message(user, "Стамбул", language_code="ru")
    card = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT)
    assert card.ok
    assert istanbul.city.ru in card.params["text"]
    assert str(istanbul.number) in card.params["text"]
    # The map pin follows: the city centre from GeoNames.
    pin = await telegram.wait_for("sendLocation", to(user), REPLY_TIMEOUT, since=card.index + 1)
    assert abs(float(pin.params["latitude"]) - 41.01) < 0.1

    # A shared location in Antalya: the nearest station is Antalya's.
    antalya = next(s for s in CONTENT.stations if s.id == "antalya")
    telegram.push_location(user, 36.89, 30.71)
    nearest = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT)
    assert nearest.ok
    assert antalya.city.ru in nearest.params["text"]
    # Then the nearest station's card and its pin.
    card = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT, since=nearest.index + 1)
    assert str(antalya.number) in card.params["text"]
    await telegram.wait_for("sendLocation", to(user), REPLY_TIMEOUT, since=card.index + 1)
    assert running.alive()


@shared_loop
async def test_rate_limited_reply_is_retried_after_the_wait(
    telegram: FakeTelegram, running: BotProcess
):
    user = next(USER_IDS)
    telegram.fail_next("sendMessage", 429, retry_after=1)
    telegram.push_message(user, "What is the Kurultai?", language_code="en")
    first = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT)
    assert first.status == 429
    # The bot waits out the flood control and sends the same answer again.
    retried = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT, since=first.index + 1)
    assert retried.ok
    assert retried.params["text"] == first.params["text"]
    assert answer_of("parliament.kurultai", "en") in retried.params["text"]


@shared_loop
async def test_a_server_error_is_retried(telegram: FakeTelegram, running: BotProcess):
    user = next(USER_IDS)
    telegram.fail_next("sendMessage", 502)
    telegram.push_message(user, "What is the Kurultai?", language_code="en")
    first = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT)
    assert first.status == 502
    retried = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT, since=first.index + 1)
    assert retried.ok
    assert answer_of("parliament.kurultai", "en") in retried.params["text"]
    assert running.alive()


@shared_loop
async def test_a_user_who_blocked_the_bot_does_not_stop_it(
    telegram: FakeTelegram, running: BotProcess
):
    blocked, other = next(USER_IDS), next(USER_IDS)
    telegram.block_user(blocked)
    telegram.push_message(blocked, "/menu", language_code="ru")
    refused = await telegram.wait_for("sendMessage", to(blocked), REPLY_TIMEOUT)
    assert refused.status == 403

    telegram.push_message(other, "Құрылтай деген не?", language_code="kk")
    reply = await telegram.wait_for("sendMessage", to(other), REPLY_TIMEOUT)
    assert reply.ok
    assert answer_of("parliament.kurultai", "kk") in reply.params["text"]
    assert running.alive()


@shared_loop
async def test_sigterm_stops_the_bot_cleanly(telegram: FakeTelegram, running: BotProcess):
    # Runs last in this module: it ends the shared process.
    user = next(USER_IDS)
    telegram.push_message(user, "/help", language_code="en")
    reply = await telegram.wait_for("sendMessage", to(user), REPLY_TIMEOUT)
    assert "/language" in reply.params["text"]
    code = await running.stop()
    assert code == 0, running.output()[-3000:]


def chat_process(folder: Path, *args: str) -> subprocess.Popen[str]:
    folder.mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=folder,
        env=clean_env(DATABASE_PATH=str(folder / "chat.db"), PYTHONPATH=str(ROOT)),
    )


def finish(process: subprocess.Popen[str], stdin: str) -> tuple[str, str]:
    try:
        out, err = process.communicate(stdin, timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(
            f"the chat did not end at EOF:\n{out[-2000:]}\n{err[-2000:]}"
        ) from None
    assert process.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    return out, err


def test_terminal_chat(tmp_path: Path):
    # Two chats at once (each start takes seconds): no Telegram language, and --lang en.
    plain = chat_process(tmp_path / "plain")
    english = chat_process(tmp_path / "english", "--lang", "en")
    out, _ = finish(plain, "\n".join(["2", "Когда выборы в Курултай?", "/loc abc"]) + "\n")
    out_en, _ = finish(english, "What is the Kurultai?\n")

    # /start is sent by itself: the greeting and numbered language buttons, none pre-marked
    # (this user has no Telegram language).
    assert "[1] Қазақша" in out
    assert "✅" not in out.split("> ", 1)[0]
    assert "[2] Русский" in out
    assert "[3] English" in out
    # "2" pressed Русский.
    assert translated("Done! Ask me a question in your own words, or pick a section:", "ru") in out
    # The answer, as plain text: HTML tags removed.
    answer = answer_of("parliament.kurultai_election", "ru")
    first_sentence = answer.split("</b>")[0].removeprefix("<b>")
    assert first_sentence in out
    assert "<b>" not in out
    assert "Источники" in out
    assert "usage: /loc LATITUDE LONGITUDE" in out

    assert "[3] ✅ English" in out_en
    assert "The Kurultai is Kazakhstan" in out_en
    assert "Sources" in out_en
