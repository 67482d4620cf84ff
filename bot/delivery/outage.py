"""One warning when the Bot API becomes unreachable, one line when it is back."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class Outage:
    def __init__(self) -> None:
        self._since: float | None = None

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, what: str, detail: str) -> None:
        if self._since is None:
            self._since = time.monotonic()
            log.warning("Bot API unreachable (%s: %s); retrying until it answers", what, detail)

    def recovered(self) -> None:
        if self._since is not None:
            log.info("Bot API reachable again after %.1f s", time.monotonic() - self._since)
            self._since = None
