"""A real HTTP fake of the Telegram Bot API for end-to-end tests.

The bot under test talks to it over localhost exactly as it would talk to
api.telegram.org: aiogram's ``TelegramAPIServer.from_base(url)`` builds
``{url}/bot{token}/{method}`` and POSTs the parameters as form fields
(multipart only when files are attached), with nested objects such as
``reply_markup`` serialised as JSON strings. Answers use Telegram's envelope,
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ...}``, with
the matching HTTP status, because aiogram picks its exception from the status.

Typical use::

    async with FakeTelegram() as tg:          # tg.url -> BOT_API_URL
        tg.push_message(42, "/start")         # also moves the wait cursor
        reply = await tg.wait_for("sendMessage")
        assert reply.params["chat_id"] == 42
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]
Predicate = Callable[[JSONDict], bool]

# Fields aiogram sends as raw strings (it JSON-encodes everything else). They
# must not be JSON-decoded, or a message text such as "42" would become an int.
_STRING_FIELDS = frozenset(
    {
        "action", "address", "business_connection_id", "callback_query_id",
        "caption", "currency", "custom_title", "description", "emoji",
        "explanation", "first_name", "foursquare_id", "foursquare_type",
        "google_place_id", "google_place_type", "inline_message_id",
        "invite_link", "ip_address", "language_code", "last_name",
        "message_effect_id", "name", "parse_mode", "payload", "phone_number",
        "provider_token", "query", "question", "secret_token",
        "short_description", "start_parameter", "text", "title", "url",
        "vcard",
    }
)  # fmt: skip

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Call:
    """One API request as the fake received it."""

    index: int  # position in FakeTelegram.calls(); use index + 1 as a cursor
    method: str  # canonical camelCase name, e.g. "sendMessage"
    params: JSONDict  # form fields, JSON-decoded (reply_markup is a dict)
    status: int  # HTTP status the fake answered with
    at: float = 0.0  # time.monotonic() when the fake answered

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class _Failure:
    status: int
    description: str
    retry_after: int | None


class _ApiError(Exception):
    """Raised by a handler to answer with Telegram's error envelope."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class _Signal:
    """Wakes every waiter on each fire(); safe to fire from synchronous code.

    asyncio.Condition would need its lock held to notify, which the
    synchronous push_* helpers cannot do, so waiters grab the current event
    before checking state and fire() swaps in a fresh one.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> None:
        """Wait for the next fire(), at most ``seconds``."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(seconds, 0.0))


def _decode(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


def _utf16_len(text: str) -> int:
    # Telegram measures entity offsets and lengths in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
    """In-process Telegram Bot API server (aiohttp.web on 127.0.0.1)."""

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_first_name: str = "Saylau Test",
        bot_username: str = "saylau_test_bot",
        max_poll_wait: float = 2.0,
    ) -> None:
        self.token = token
        # Like Telegram, the bot's user id is the token's numeric prefix.
        self.bot_user: JSONDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        # getUpdates never holds a request longer than this, so the bot's
        # long poll (timeout=10..30 s in aiogram) cannot stall stop() or tests.
        self.max_poll_wait = max_poll_wait
        self.url = ""

        self._calls: list[Call] = []
        self._cursor = 0
        self._calls_signal = _Signal()
        self._updates: list[JSONDict] = []  # pending, i.e. not yet confirmed
        self._update_ids = itertools.count(1)
        self._updates_signal = _Signal()
        self._failures: defaultdict[str, deque[_Failure]] = defaultdict(deque)
        self._blocked: set[int] = set()
        self._users: dict[int, JSONDict] = {}
        # chat_id -> message_id -> Message; insertion order is chat order.
        self._messages: defaultdict[int, dict[int, JSONDict]] = defaultdict(dict)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._callback_ids = itertools.count(1)
        self._webhook_url = ""
        self._commands: dict[str, list[JSONDict]] = {}
        self._closing = False
        # Injected faults: Telegram-like limits, random 5xx, an unreachable server.
        self._limit_rate: float | None = None  # sends per second overall
        self._limit_chat: float | None = None  # seconds between sends to one chat
        self._sent_at: deque[float] = deque()
        self._chat_sent_at: dict[int, float] = {}
        self._flaky: tuple[float, int, random.Random] | None = None
        self._down_until = 0.0
        self._stall: tuple[float, float, random.Random] | None = None
        self._runner: web.AppRunner | None = None

        handlers: dict[str, Callable[[JSONDict], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._true,
            "sendLocation": self._send_location,
            "sendVenue": self._send_venue,
            "sendChatAction": self._send_chat_action,
            "deleteMessage": self._delete_message,
            "close": self._true,
            "logOut": self._true,
        }
        # Telegram treats method names case-insensitively.
        self._handlers = {name.lower(): (name, fn) for name, fn in handlers.items()}

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> str:
        """Bind a free port on 127.0.0.1 and return the base URL (BOT_API_URL)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        # shutdown_timeout bounds stop() even if a client keeps a request open.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._updates_signal.fire()  # release pending long polls immediately
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------- recorded calls

    def calls(self, method: str | None = None, *, since: int = 0) -> list[Call]:
        """Recorded calls (optionally of one method) with index >= since."""
        return [
            c for c in self._calls[since:] if method is None or c.method.lower() == method.lower()
        ]

    def mark(self) -> int:
        """Set the default wait_for() cursor to "now" and return it.

        push_* helpers call this themselves, so after a push wait_for() only
        sees what the bot did in response to (or after) that update.
        """
        self._cursor = len(self._calls)
        return self._cursor

    async def wait_for(
        self,
        method: str,
        predicate: Predicate | None = None,
        timeout: float = 10.0,
        *,
        since: int | None = None,
    ) -> Call:
        """First call of ``method`` with index >= ``since`` (default: the
        cursor from mark()/the last push) whose params satisfy ``predicate``.

        Does not move the cursor: to await a second reply to the same update
        pass ``since=first.index + 1``. Raises TimeoutError listing what was
        called instead, which is what you want to read when a test fails.
        """
        start = self._cursor if since is None else since
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for call in self.calls(method, since=start):
                if predicate is None or predicate(call.params):
                    return call
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [c.method for c in self._calls[start:] if c.method != "getUpdates"]
                msg = f"no matching {method} call within {timeout}s; calls since #{start}: {seen}"
                raise TimeoutError(msg)
            await self._calls_signal.wait(remaining)

    # ------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next call of ``method`` fail the way Telegram does.

        429 -> TelegramRetryAfter (retry_after defaults to 1 s), 403 ->
        TelegramForbiddenError ("bot was blocked by the user"), 5xx ->
        TelegramServerError. Calls queue up: two fail_next() fail two calls.
        """
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        elif description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        self._failures[method.lower()].append(_Failure(status, description, retry_after))

    def limit(self, per_second: float = 30.0, chat_interval: float = 1.0) -> None:
        """Enforce Telegram's limits on sends: `per_second` overall (in any one-second
        window) and `chat_interval` seconds between two sends to a chat; else 429."""
        self._limit_rate, self._limit_chat = per_second, chat_interval

    def flaky(self, ratio: float, status: int = 500, seed: int = 7) -> None:
        """Fail this share of sends (send*/edit*/answer*) with `status`; ratio 0 stops."""
        self._flaky = (ratio, status, random.Random(seed)) if ratio else None

    def stall(self, seconds: float, ratio: float = 1.0, seed: int = 11) -> None:
        """Answer that share of sends and edits only after `seconds` (a slow Telegram)."""
        self._stall = (seconds, ratio, random.Random(seed))

    def go_down(self, seconds: float) -> None:
        """Unreachable for `seconds`: every request's connection is dropped unanswered."""
        self._down_until = time.monotonic() + seconds

    def block_user(self, user_id: int) -> None:
        """Until unblocked, every send/edit to this private chat gets 403."""
        self._blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    # -------------------------------------------------------------- updates

    def push_update(self, kind: str, payload: JSONDict) -> JSONDict:
        """Queue a raw update ``{"update_id": n, kind: payload}`` for getUpdates."""
        update = {"update_id": next(self._update_ids), kind: payload}
        self._updates.append(update)
        self.mark()
        self._updates_signal.fire()
        return update

    def push_message(
        self,
        user_id: int,
        text: str,
        language_code: str = "en",
        *,
        first_name: str | None = None,
        username: str | None = None,
        chat_id: int | None = None,
    ) -> JSONDict:
        """A user writes ``text`` (private chat unless ``chat_id`` is given)."""
        user = self._user(user_id, language_code, first_name, username)
        message = self._new_message(chat_id or user_id, user, text=text)
        if text.startswith("/"):
            # Telegram tags commands with an entity; some filters rely on it.
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self.push_update("message", message)

    def push_location(
        self,
        user_id: int,
        lat: float,
        lon: float,
        *,
        language_code: str | None = None,
        chat_id: int | None = None,
    ) -> JSONDict:
        """A user shares a (static) location."""
        user = self._user(user_id, language_code)
        location = {"latitude": lat, "longitude": lon}
        return self.push_update(
            "message", self._new_message(chat_id or user_id, user, location=location)
        )

    def push_callback(
        self,
        user_id: int,
        data: str,
        message_id: int,
        *,
        language_code: str | None = None,
        chat_id: int | None = None,
    ) -> JSONDict:
        """A user presses an inline button with ``data`` on ``message_id``.

        The update carries the message as the fake last stored it (text,
        keyboard, edits), like Telegram does. Await the bot's answer with
        ``wait_for("answerCallbackQuery")``.
        """
        user = self._user(user_id, language_code)
        cid = chat_id or user_id
        message = self._messages[cid].get(message_id) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(cid),
            "from": self.bot_user,
            "text": "",
        }
        query = {
            "id": str(next(self._callback_ids)),
            "from": user,
            "message": message,
            "chat_instance": str(cid),
            "data": data,
        }
        return self.push_update("callback_query", query)

    def chat_messages(self, chat_id: int) -> list[JSONDict]:
        """Current chat transcript (user and bot), edits and deletions applied."""
        return list(self._messages[chat_id].values())

    # ------------------------------------------------------------- internals

    def _user(
        self,
        user_id: int,
        language_code: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        # Remembered so later callbacks/locations carry the same profile.
        user = self._users.setdefault(
            user_id,
            {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "en"},
        )
        if language_code is not None:
            user["language_code"] = language_code
        if first_name is not None:
            user["first_name"] = first_name
        if username is not None:
            user["username"] = username
        return dict(user)

    def _chat(self, chat_id: int) -> JSONDict:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        chat = {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        if user := self._users.get(chat_id):
            chat["first_name"] = user["first_name"]
            if "username" in user:
                chat["username"] = user["username"]
        return chat

    def _new_message(self, chat_id: int, sender: JSONDict, **content: Any) -> JSONDict:
        message_id = next(self._message_ids[chat_id])
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        self._messages[chat_id][message_id] = message
        return message

    async def _params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {k: _decode(k, v) for k, v in request.query.items()}
        if request.content_type == "application/json":
            params.update(await request.json())
            return params
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                params[key] = value.file.read()
            else:
                params[key] = _decode(key, value)
        return params

    async def _dispatch(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        method, handler = self._handlers.get(raw_method.lower(), (raw_method, self._true))
        if time.monotonic() < self._down_until:
            if request.transport is not None:
                request.transport.abort()  # the client sees a dropped connection
            raise web.HTTPServiceUnavailable
        params = await self._params(request)
        if self._stall is not None and raw_method.lower().startswith(("send", "edit")):
            seconds, ratio, rng = self._stall
            if rng.random() < ratio:
                await asyncio.sleep(seconds)  # a slow answer: the request is still handled
        status, body = 200, None
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            if failures := self._failures.get(method.lower()):
                failure = failures.popleft()
                raise _ApiError(failure.status, failure.description, failure.retry_after)
            self._check_faults(method, params)
            body = {"ok": True, "result": await handler(params)}
        except _ApiError as e:
            status = e.status
            body = {"ok": False, "error_code": e.status, "description": e.description}
            if e.retry_after is not None:
                body["parameters"] = {"retry_after": e.retry_after}
        except (KeyError, TypeError, ValueError) as e:
            # Missing/garbled parameters: answer like Telegram instead of a
            # bare aiohttp 500 page that aiogram could not even decode.
            status = 400
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {e!r}"}
        # Recorded after handling so the status is known; getUpdates therefore
        # appears when it returns, not when the long poll started.
        self._calls.append(Call(len(self._calls), method, params, status, time.monotonic()))
        self._calls_signal.fire()
        return web.json_response(body, status=status)

    def _check_faults(self, method: str, params: JSONDict) -> None:
        if not method.startswith(("send", "edit", "answer")):
            return
        if self._flaky is not None:
            ratio, status, rng = self._flaky
            if rng.random() < ratio:
                raise _ApiError(status, _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}"))
        if self._limit_rate is None or not method.startswith(("send", "edit")):
            return
        now = time.monotonic()
        while self._sent_at and now - self._sent_at[0] >= 1.0:
            self._sent_at.popleft()
        chat = params.get("chat_id")
        last = self._chat_sent_at.get(chat) if isinstance(chat, int) else None
        # A little slack per chat: the bot's clock and ours tick through a network hop.
        too_soon = last is not None and now - last < (self._limit_chat or 0) * 0.9
        if len(self._sent_at) >= self._limit_rate or too_soon:
            raise _ApiError(429, "Too Many Requests: retry after 1", 1)
        self._sent_at.append(now)
        if isinstance(chat, int):
            self._chat_sent_at[chat] = now

    # --------------------------------------------------------- API methods

    async def _true(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return self.bot_user

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset", 0))
        if offset > 0:  # confirms (drops) every update below offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        wait = min(float(params.get("timeout", 0)), self.max_poll_wait)
        deadline = asyncio.get_running_loop().time() + wait
        while not self._updates and not self._closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            await self._updates_signal.wait(remaining)
        if offset < 0:  # Telegram: the last -offset updates
            return self._updates[offset:][:limit]
        return self._updates[:limit]

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: JSONDict) -> bool:
        self._webhook_url = str(params.get("url", ""))
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code", "")], sort_keys=True)

    async def _set_my_commands(self, params: JSONDict) -> bool:
        self._commands[self._commands_key(params)] = params.get("commands", [])
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self._commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _target_chat(self, params: JSONDict) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        if chat_id in self._blocked:
            raise _ApiError(403, _DEFAULT_DESCRIPTIONS[403])
        return chat_id

    def _send(self, params: JSONDict, **content: Any) -> JSONDict:
        chat_id = self._target_chat(params)
        markup = params.get("reply_markup")
        # Sent messages echo only inline keyboards; reply keyboards are not
        # part of Message (aiogram would reject the response if echoed).
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        return self._new_message(chat_id, self.bot_user, **content)

    async def _send_message(self, params: JSONDict) -> JSONDict:
        text = params.get("text")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        content: JSONDict = {"text": text}
        if entities := params.get("entities"):
            content["entities"] = entities
        return self._send(params, **content)

    async def _send_location(self, params: JSONDict) -> JSONDict:
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        return self._send(params, location=location)

    async def _send_venue(self, params: JSONDict) -> JSONDict:
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        venue = {"location": location, "title": params["title"], "address": params["address"]}
        return self._send(params, location=location, venue=venue)

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._target_chat(params)
        return True

    def _stored(self, params: JSONDict, action: str) -> JSONDict:
        chat_id = self._target_chat(params)
        message = self._messages[chat_id].get(params.get("message_id", 0))
        if message is None:
            raise _ApiError(400, f"Bad Request: message to {action} not found")
        return message

    def _edit(self, params: JSONDict, changes: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True  # Telegram returns True for inline-mode messages
        message = self._stored(params, "edit")
        # Telegram rejects no-op edits; bots must cope, so the fake does too.
        if all(message.get(k) == v for k, v in changes.items()):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content "
                "and reply markup are exactly the same as a current content and reply "
                "markup of the message",
            )
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return message

    async def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        if not params.get("text"):
            raise _ApiError(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        return self._edit(params, {"text": params.get("text"), "reply_markup": markup})

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        return self._edit(params, {"reply_markup": params.get("reply_markup")})

    async def _delete_message(self, params: JSONDict) -> bool:
        message = self._stored(params, "delete")
        del self._messages[message["chat"]["id"]][message["message_id"]]
        return True
