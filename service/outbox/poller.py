"""A thread that runs one round of an outbox's sender every few seconds inside `serve`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Poller(threading.Thread):
    """Calls `round_` every `interval` seconds until stopped; a failed round is logged and
    the next one retries (the email and webhook outboxes keep what is not yet sent)."""

    def __init__(self, name: str, interval: float, round_: Callable[[], object]):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.round = round_
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.round()
            except Exception:  # keep the loop alive; the next round retries
                log.exception("%s round failed", self.name)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
