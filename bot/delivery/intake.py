"""What the bot accepts into its inbox, decided on the raw update before anything is stored.

Groups: only messages addressed to the bot (its commands, a mention, a reply to it); never
service messages (joins, leaves, pins) or other bots' messages; so nothing of group chatter is
stored. Flooding: a token bucket per person; what exceeds it is dropped unstored and the
person is told to slow down once per flood.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

UPDATE_KINDS = ("message", "callback_query")  # what the bot asks Telegram for
# Anything a person writes or shares; a message with none of these is a service message.
CONTENT_KEYS = frozenset({"text", "location", "venue", "contact", "caption", "photo", "document",
                          "sticker", "voice", "audio", "video", "video_note", "animation", "poll",
                          "dice"})  # fmt: skip


class Verdict(Enum):
    STORE = "store"
    IGNORE = "ignore"  # not for the bot: confirmed to Telegram, not stored
    THROTTLE = "throttle"  # over the person's rate: dropped
    WARN = "warn"  # over the rate for the first time in this flood: dropped, say "slow down"


def chat_key(update: dict[str, Any]) -> str:
    """Updates with the same key are handled one after another, in update order."""
    message = update.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        return f"chat:{message['chat'].get('id')}"
    for value in update.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            return f"user:{value['from'].get('id')}"
    return f"update:{update.get('update_id')}"


def sender_id(update: dict[str, Any]) -> int | None:
    for kind in UPDATE_KINDS:
        value = update.get(kind)
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            user_id = value["from"].get("id")
            return user_id if isinstance(user_id, int) else None
    return None


def addressed(message: dict[str, Any], bot_id: int, bot_username: str) -> bool:
    """In a group: is this message for the bot?"""
    text = message.get("text") or message.get("caption") or ""
    mention = "@" + bot_username.lower()
    if isinstance(text, str):
        lowered = text.lower()
        if lowered.startswith("/"):
            command = lowered.split(maxsplit=1)[0]
            return "@" not in command or command.endswith(mention)
        if mention in lowered:
            return True
    reply = message.get("reply_to_message")
    return isinstance(reply, dict) and (reply.get("from") or {}).get("id") == bot_id


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


@dataclass
class Intake:
    bot_id: int
    bot_username: str
    burst: int = 10
    rate: float = 0.5  # tokens per second
    _buckets: dict[int, _Bucket] = field(default_factory=dict)

    def judge(self, update: dict[str, Any]) -> Verdict:
        if not any(kind in update for kind in UPDATE_KINDS):
            return Verdict.IGNORE
        message = update.get("message")
        if isinstance(message, dict):
            sender = message.get("from")
            chat = message.get("chat")
            if isinstance(sender, dict) and sender.get("is_bot"):
                return Verdict.IGNORE
            if not CONTENT_KEYS.intersection(message):
                return Verdict.IGNORE  # joins, leaves, pins, titles, ...
            in_group = isinstance(chat, dict) and chat.get("type") in ("group", "supergroup")
            if in_group and not addressed(message, self.bot_id, self.bot_username):
                return Verdict.IGNORE
        # Anything else, malformed included, is stored: handling it decides.
        user = sender_id(update)
        return Verdict.STORE if user is None else self._spend(user)

    def _spend(self, user: int) -> Verdict:
        now = time.monotonic()
        bucket = self._buckets.get(user)
        if bucket is None:
            bucket = self._buckets[user] = _Bucket(float(self.burst), now)
            if len(self._buckets) > 100_000:
                self._forget_quiet(now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= self.burst:
            bucket.warned = False  # quiet long enough: a new flood gets a new warning
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.STORE
        if bucket.warned:
            return Verdict.THROTTLE
        bucket.warned = True
        return Verdict.WARN

    def _forget_quiet(self, now: float) -> None:
        full = self.burst / self.rate
        self._buckets = {u: b for u, b in self._buckets.items() if now - b.at < full}
