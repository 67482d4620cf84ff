"""Proves FakeTelegram speaks the Bot API well enough for a real aiogram Bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from fake_telegram import FakeTelegram

TOKEN = "123456:TEST"
USER = 1001


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as tg:
        yield tg


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    async with Bot(TOKEN, session=session) as b:
        yield b


def keyboard() -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text="Yes", callback_data="vote:yes")
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


@pytest.mark.asyncio
async def test_get_me(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "saylau_test_bot")
    assert [c.method for c in fake.calls()] == ["getMe"]


@pytest.mark.asyncio
async def test_send_message_with_inline_keyboard(fake: FakeTelegram, bot: Bot) -> None:
    first = await bot.send_message(USER, "Vote?", reply_markup=keyboard())
    second = await bot.send_message(USER, "42")

    assert first.reply_markup is not None
    assert first.reply_markup.inline_keyboard[0][0].callback_data == "vote:yes"
    assert first.from_user is not None and first.from_user.id == 123456
    assert (first.chat.id, first.chat.type) == (USER, "private")
    assert second.message_id == first.message_id + 1
    # Form fields are decoded: nested JSON becomes a dict, texts stay str.
    call = fake.calls("sendMessage")[0]
    assert call.params["chat_id"] == USER
    markup = call.params["reply_markup"]
    assert markup["inline_keyboard"][0][0]["callback_data"] == "vote:yes"
    assert fake.calls("sendMessage")[1].params["text"] == "42"


@pytest.mark.asyncio
async def test_get_updates_long_polls_and_honours_offset(fake: FakeTelegram, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.2)
    assert not poll.done()  # nothing queued: the request is held open
    fake.push_message(USER, "/start", language_code="kk")

    updates = await asyncio.wait_for(poll, 2)
    assert loop.time() - started < 1.5  # answered on push, not at timeout
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.from_user is not None and message.from_user.language_code == "kk"
    assert message.entities is not None and message.entities[0].type == "bot_command"

    # Not confirmed yet: same update again; confirmed by offset: gone.
    assert [u.update_id for u in await bot.get_updates()] == [updates[0].update_id]
    fake.push_location(USER, 43.24, 76.89)
    rest = await bot.get_updates(offset=updates[0].update_id + 1)
    assert [u.update_id for u in rest] == [updates[0].update_id + 1]
    assert rest[0].message is not None and rest[0].message.location is not None


@pytest.mark.asyncio
async def test_empty_long_poll_is_capped(fake: FakeTelegram, bot: Bot) -> None:
    fake.max_poll_wait = 0.3
    assert await asyncio.wait_for(bot.get_updates(timeout=30), 2) == []


@pytest.mark.asyncio
async def test_wait_for_sees_only_calls_after_push(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER, "before")
    fake.push_message(USER, "hi")

    async def reply_later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(USER, "after")

    task = asyncio.create_task(reply_later())
    call = await fake.wait_for("sendMessage", lambda p: p["chat_id"] == USER, timeout=2)
    await task
    assert call.params["text"] == "after"
    with pytest.raises(TimeoutError, match="sendLocation"):
        await fake.wait_for("sendLocation", timeout=0.2)


@pytest.mark.asyncio
async def test_dispatcher_polling_round_trip(fake: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        fake.push_message(USER, "salem")
        reply = await fake.wait_for("sendMessage", timeout=5)
        assert reply.params == {"chat_id": USER, "text": "echo: salem"}
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)


@pytest.mark.asyncio
async def test_callback_and_edits(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Vote?", reply_markup=keyboard())
    update = fake.push_callback(USER, "vote:yes", sent.message_id)
    assert update["callback_query"]["message"]["reply_markup"] == keyboard().model_dump(
        exclude_none=True
    )
    [got] = await bot.get_updates()
    assert got.callback_query is not None and got.callback_query.data == "vote:yes"
    assert await bot.answer_callback_query(got.callback_query.id)

    edited = await bot.edit_message_text("Thanks!", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Thanks!"
    assert edited.reply_markup is None  # editing text without markup drops it
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_text("Thanks!", chat_id=USER, message_id=sent.message_id)
    assert await bot.delete_message(USER, sent.message_id)
    assert fake.chat_messages(USER) == []


@pytest.mark.asyncio
async def test_fail_next_429_is_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(USER, "x")
    assert info.value.retry_after == 3
    assert "retry after 3" in info.value.message
    await bot.send_message(USER, "x")  # only the next call fails
    assert [c.status for c in fake.calls("sendMessage")] == [429, 200]


@pytest.mark.asyncio
async def test_fail_next_403_and_5xx(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", 403)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "x")
    fake.fail_next("getMe", 502)
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    fake.block_user(USER)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(USER, "typing")


@pytest.mark.asyncio
async def test_stop_releases_pending_long_poll() -> None:
    fake = FakeTelegram(TOKEN, max_poll_wait=30)
    url = await fake.start()
    session = AiohttpSession(api=TelegramAPIServer.from_base(url))
    async with Bot(TOKEN, session=session) as other:
        poll = asyncio.create_task(other.get_updates(timeout=30))
        await asyncio.sleep(0.2)
        await asyncio.wait_for(fake.stop(), 3)
        assert await asyncio.wait_for(poll, 3) == []
