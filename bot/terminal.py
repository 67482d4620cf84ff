"""Talking to the bot without Telegram: an in-process Bot API session and a terminal chat.

LocalSession answers the Bot API calls the handlers make as Telegram would (a sent message
comes back as a Message with an id), and keeps every call. The terminal chat and the handler
tests both drive the real Dispatcher through it.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, TextIO

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendLocation,
    SendMessage,
    SendVenue,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    Location,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
    Venue,
)

from bot.render import html_to_text

BOT_USER = User(id=1000, is_bot=True, first_name="Saylau", username="saylau_bot")
LOCAL_TOKEN = "1000:local-terminal-session"
LOCATION_HINT = "type /loc LATITUDE LONGITUDE to share a location, e.g. /loc 41.01 28.98"


class LocalSession(BaseSession):
    """Answers Bot API methods in process and records them in `requests`."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.messages: dict[tuple[int, int], Message] = {}
        self._ids = itertools.count(1)
        self.listeners: list[Callable[[TelegramMethod[Any], Any], None]] = []

    async def close(self) -> None:
        pass

    async def stream_content(
        self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
        chunk_size: int = 65536, raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # fmt: skip
        yield b""

    def _message(self, chat_id: int, **fields: Any) -> Message:
        message = Message(
            message_id=next(self._ids),
            date=datetime.now(UTC),
            chat=Chat(id=chat_id, type="private"),
            from_user=BOT_USER,
            **fields,
        )
        self.messages[(chat_id, message.message_id)] = message
        return message

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        result: Any = True
        if isinstance(method, GetMe):
            result = BOT_USER
        elif isinstance(method, SendMessage):
            # A sent message keeps only an inline keyboard; a reply keyboard stays with the client.
            markup = method.reply_markup
            inline = markup if isinstance(markup, InlineKeyboardMarkup) else None
            result = self._message(int(method.chat_id), text=method.text, reply_markup=inline)
        elif isinstance(method, SendLocation):
            result = self._message(
                int(method.chat_id),
                location=Location(latitude=method.latitude, longitude=method.longitude),
            )
        elif isinstance(method, SendVenue):
            location = Location(latitude=method.latitude, longitude=method.longitude)
            result = self._message(
                int(method.chat_id),
                venue=Venue(location=location, title=method.title, address=method.address),
            )
        elif isinstance(method, EditMessageText | EditMessageReplyMarkup):
            key = (int(method.chat_id or 0), int(method.message_id or 0))
            old = self.messages.get(key)
            if old is not None:
                text = method.text if isinstance(method, EditMessageText) else old.text
                result = old.model_copy(update={"text": text, "reply_markup": method.reply_markup})
                self.messages[key] = result
        for listener in self.listeners:
            listener(method, result)
        return result  # type: ignore[no-any-return]

    def sent(self, kind: type[TelegramMethod[Any]] = SendMessage) -> list[Any]:
        return [r for r in self.requests if isinstance(r, kind)]


def local_bot(session: LocalSession | None = None) -> Bot:
    return Bot(
        LOCAL_TOKEN,
        session=session or LocalSession(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


class UpdateFactory:
    """Builds the updates a private chat with one user produces."""

    def __init__(self, user_id: int = 1, language_code: str | None = "en") -> None:
        self.user = User(id=user_id, is_bot=False, first_name="Voter", language_code=language_code)
        self.chat = Chat(id=user_id, type="private")
        self._ids = itertools.count(1)

    def message(self, text: str | None = None, **fields: Any) -> Update:
        message = Message(
            message_id=next(self._ids) + 100000,
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            text=text,
            **fields,
        )
        return Update(update_id=next(self._ids), message=message)

    def location(self, latitude: float, longitude: float) -> Update:
        return self.message(location=Location(latitude=latitude, longitude=longitude))

    def callback(self, data: str, message: Message | None = None) -> Update:
        query = CallbackQuery(
            id=str(next(self._ids)),
            from_user=self.user,
            chat_instance="local",
            data=data,
            message=message,
        )
        return Update(update_id=next(self._ids), callback_query=query)


class TerminalChat:
    """A chat in the terminal: lines go in as messages, replies come out as text, buttons are
    numbered and pressed by typing their number; `/loc LAT LON` shares a location."""

    def __init__(self, dp: Dispatcher, language_code: str | None, out: TextIO = sys.stdout) -> None:
        self.dp = dp
        self.session = LocalSession()
        self.bot = local_bot(self.session)
        self.updates = UpdateFactory(language_code=language_code)
        self.out = out
        self.buttons: list[tuple[str, str | None, Message | None]] = []  # label, data, message
        self.session.listeners.append(self._show)

    def _show(self, method: TelegramMethod[Any], result: Any) -> None:
        if isinstance(method, SendMessage | EditMessageText) and isinstance(result, Message):
            self.buttons.clear()
            print("\n" + html_to_text(result.text or ""), file=self.out)
            markup = result.reply_markup
            if isinstance(markup, InlineKeyboardMarkup):
                for row in markup.inline_keyboard:
                    for button in row:
                        self.buttons.append((button.text, button.callback_data, result))
                        if button.url:
                            self.buttons[-1] = (f"{button.text} <{button.url}>", None, result)
                for number, (label, _, _) in enumerate(self.buttons, 1):
                    print(f"  [{number}] {label}", file=self.out)
            # A reply keyboard stays with the client; its location button is typed here.
            keyboard = method.reply_markup if isinstance(method, SendMessage) else None
            if isinstance(keyboard, ReplyKeyboardMarkup):
                for row in keyboard.keyboard:
                    for key in row:
                        if key.request_location:
                            print(f"  [{key.text}] {LOCATION_HINT}", file=self.out)
        elif isinstance(method, SendLocation | SendVenue):
            print(f"  📍 {method.latitude:.5f}, {method.longitude:.5f}", file=self.out)
        self.out.flush()

    def _update_for(self, line: str) -> Update | None:
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            label, data, message = self.buttons[int(line) - 1]
            if data is None:
                print(f"(a link: {label})", file=self.out)
                return None
            return self.updates.callback(data, message)
        if line.startswith("/loc"):
            try:
                lat, lon = (float(x) for x in line.split()[1:3])
            except ValueError:
                print("usage: /loc LATITUDE LONGITUDE", file=self.out)
                return None
            return self.updates.location(lat, lon)
        return self.updates.message(line)

    async def send(self, line: str) -> None:
        update = self._update_for(line)
        if update is not None:
            await self.dp.feed_update(self.bot, update)

    async def run(self, lines: TextIO = sys.stdin) -> None:
        """Until end of input (Ctrl-D) or cancellation (Ctrl-C: asyncio.run cancels this task);
        either way the dispatcher shuts down and the store is closed."""
        await self.dp.emit_startup(bot=self.bot, **self.dp.workflow_data)
        try:
            print(
                "Saylau terminal chat. Type a question, a button's number, "
                "/loc LAT LON to share a location, or Ctrl-D (or Ctrl-C) to quit.",
                file=self.out,
            )
            await self.send("/start")
            self.out.write("\n> ")
            self.out.flush()
            async for line in read_lines(lines):
                if line.strip():
                    await self.send(line.strip())
                self.out.write("\n> ")
                self.out.flush()
            print(file=self.out)
        except asyncio.CancelledError:
            print("\nBye.", file=self.out)
            raise
        finally:
            await self.dp.emit_shutdown(bot=self.bot, **self.dp.workflow_data)


async def read_lines(lines: TextIO) -> AsyncIterator[str]:
    """Lines of `lines` as they are typed. A daemon thread reads them: a thread blocked in
    readline (asyncio.to_thread's) would keep the process from exiting after Ctrl-C until
    another line came."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def put(line: str) -> None:
        with suppress(RuntimeError):  # the loop has closed: nobody reads any more
            loop.call_soon_threadsafe(queue.put_nowait, line)

    def read() -> None:
        for line in iter(lines.readline, ""):
            put(line)
        put("")

    threading.Thread(target=read, name="terminal-input", daemon=True).start()
    while line := await queue.get():
        yield line
