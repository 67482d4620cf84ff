"""What this process did, for GET /metrics in Prometheus' text format.

Counters and the latency histogram live in memory, one set per process, from its start:
Prometheus scrapes every replica and adds them up (a restart resets them, which `rate()`
allows for). Queue depths are read from the database at scrape time (bot/delivery/health.py).
Written by hand: a few lines of text do not need a client library.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from bot.search.engine import FEEDBACK, OFFTOPIC, SearchResult

# Reply latency (update stored -> first answer sent), seconds.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UPDATE_OUTCOMES = ("handled", "failed", "blocked", "malformed")
SEND_KINDS = ("answer", "broadcast")
ERROR_STATUSES = ("429", "5xx", "403", "400", "network", "other")
SEARCH_OUTCOMES = ("answered", "unsure", "unknown", "offtopic", "smalltalk", "feedback")

# The moment the update being handled was stored; None once its first answer is counted.
_stored_at: ContextVar[list[float | None] | None] = ContextVar("stored_at", default=None)


def search_outcome(result: SearchResult) -> str:
    if result.answer is not None:
        return "answered"
    if result.suggestions:
        return "unsure"
    if result.intent == OFFTOPIC:
        return "offtopic"
    if result.intent == FEEDBACK:
        return "feedback"
    if result.intent and result.intent.startswith("smalltalk."):
        return "smalltalk"
    return "unknown"  # nothing fits, or an article the store does not cover


class Counter:
    def __init__(self, labels: Iterable[str]) -> None:
        # Every known label starts at 0, so a rate is defined before the first event.
        self.values = dict.fromkeys(labels, 0)

    def inc(self, label: str) -> None:
        self.values[label] = self.values.get(label, 0) + 1


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)  # per bucket, not cumulative
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.sum += value
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                break


class Metrics:
    def __init__(self) -> None:
        self.updates = Counter(UPDATE_OUTCOMES)
        self.sent = Counter(SEND_KINDS)
        self.errors = Counter(ERROR_STATUSES)
        self.searches = Counter(SEARCH_OUTCOMES)
        self.latency = Histogram(BUCKETS)

    @contextlib.contextmanager
    def handling(self, stored_at: float | None) -> Iterator[None]:
        """Around one update's handling: its first answer sent inside gives the latency.
        `stored_at` (time.monotonic()) is None for an update this process did not store."""
        token = _stored_at.set([stored_at])
        try:
            yield
        finally:
            _stored_at.reset(token)

    def message_sent(self, broadcast: bool) -> None:
        self.sent.inc("broadcast" if broadcast else "answer")
        if broadcast or (holder := _stored_at.get()) is None or holder[0] is None:
            return
        self.latency.observe(max(0.0, time.monotonic() - holder[0]))
        holder[0] = None  # the update's later messages are not its reply

    def render(self, gauges: Iterable[tuple[str, str, dict[str, float]]] = ()) -> str:
        """The exposition text; `gauges`: (name, help, {labels or "": value})."""
        lines: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            lines.extend((f"# HELP {name} {text}", f"# TYPE {name} {kind}"))

        counters = (
            ("saylau_updates_total", "outcome", self.updates,
             "Updates this process handled, by outcome."),
            ("saylau_messages_sent_total", "kind", self.sent,
             "Messages sent or edited, as answers to people or as broadcasts."),
            ("saylau_telegram_errors_total", "status", self.errors,
             "Bot API errors by status (network: no answer); 429 and 5xx are retried."),
            ("saylau_searches_total", "outcome", self.searches,
             "Free-text questions by what the search made of them."),
        )  # fmt: skip
        for name, label, counter, text in counters:
            family(name, "counter", text)
            lines.extend(f'{name}{{{label}="{k}"}} {v}' for k, v in counter.values.items())
        name = "saylau_reply_latency_seconds"
        family(name, "histogram", "From an update being stored to its first answer sent.")
        total = 0
        for bound, count in zip(self.latency.buckets, self.latency.counts, strict=True):
            total += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {total}')
        lines.append(f'{name}_bucket{{le="+Inf"}} {self.latency.count}')
        lines.append(f"{name}_sum {self.latency.sum:.6f}")
        lines.append(f"{name}_count {self.latency.count}")
        for name, text, values in gauges:
            family(name, "gauge", text)
            for labels, value in values.items():
                lines.append(f"{name}{{{labels}}} {value:g}" if labels else f"{name} {value:g}")
        return "\n".join(lines) + "\n"
