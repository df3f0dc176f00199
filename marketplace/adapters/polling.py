"""A background thread that drains a table: it runs a step while the step finds work, then
waits for a nudge or its polling interval; a failing step is logged and tried again."""

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Poller:
    def __init__(self, name: str, step: Callable[[], int], interval_s: float) -> None:
        self.name = name
        self.step = step
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while self.step() and not self._stop.is_set():
                    pass
            except Exception:
                log.exception("%s failed; trying again shortly", self.name)
            self._wake.wait(self.interval_s)
            self._wake.clear()
