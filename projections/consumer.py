"""Projections fed from Kafka: one consumer group per projection, under a watchdog.

Offsets are committed after the view's transaction, and only say where to resume: the view's
own per-aggregate versions make a redelivered or replayed event change nothing.

A client library can block a caller past the timeout it was given (kafka-python 3.x's
`poll(timeout_ms=200)` was seen waiting for ever in `ensure_active_group`, and its admin
client in bootstrap after a broker restart; 2.3 is pinned, but no library is trusted with
that), so the consumer runs in a thread of its own and the projector watches it: a call into
the client that has not returned after `kafka_stuck_after_s` gets its consumer closed and
replaced, with the stack it was stuck in logged. Meanwhile a `StallWatch` repairs the view
from the event store.
"""

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kafka import KafkaConsumer

from marketplace.adapters import metrics
from marketplace.adapters.envelope import Envelope, decode
from marketplace.adapters.kafka import consumer, ensure_topics
from marketplace.adapters.settings import Settings
from projections.runner import ProjectionRunner
from projections.watchdog import StallWatch

log = logging.getLogger(__name__)
BATCH = 5000
COMMIT_TIMEOUT_MS = 10_000
CHECK_S = 1.0
# (settings, group, contexts) -> a consumer subscribed to the contexts' topics
ConsumerFactory = Callable[[Settings, str, list[str]], KafkaConsumer]


def group_id(settings: Settings, name: str) -> str:
    return f"{settings.topic_prefix}.projection.{name}"


class Attempt:
    """One consumer's life: which call into the client it is in, and since when."""

    def __init__(self) -> None:
        self.kafka: KafkaConsumer | None = None
        self.calling: str | None = None
        self.since = time.monotonic()
        self.abandoned = threading.Event()
        self.thread: threading.Thread | None = None

    @contextmanager
    def call(self, what: str) -> Iterator[None]:
        self.calling, self.since = what, time.monotonic()
        try:
            yield
        finally:
            self.calling = None

    def stuck_for(self) -> float:
        return time.monotonic() - self.since if self.calling else 0.0

    def where(self) -> str:
        frames = sys._current_frames()
        frame = frames.get(self.thread.ident) if self.thread and self.thread.ident else None
        return "".join(traceback.format_stack(frame)[-8:]) if frame else "(no stack)"


class KafkaProjector:
    def __init__(
        self,
        settings: Settings,
        projections: ProjectionRunner,
        name: str,
        consumer_factory: ConsumerFactory = consumer,
    ) -> None:
        self.settings = settings
        self.projections = projections
        self.name = name
        self.consumer_factory = consumer_factory
        self.watch = StallWatch(projections, name, settings.projection_stall_after_s)
        # Set once the group has given a consumer its partitions.
        self.ready = threading.Event()
        self.replaced = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            attempt = Attempt()
            attempt.thread = threading.Thread(
                target=self._consume,
                args=(attempt, stop),
                name=f"consume-{self.name}",
                daemon=True,
            )
            attempt.thread.start()
            while attempt.thread.is_alive():
                attempt.thread.join(CHECK_S)
                self._check(stop)
                stuck = attempt.stuck_for()
                if stop.is_set() and stuck > 5 * CHECK_S:
                    return  # stopping: a consumer stuck in the client is left to its daemon thread
                if stuck > self.settings.kafka_stuck_after_s:
                    self._replace(attempt)
                    break

    def _check(self, stop: threading.Event) -> None:
        if stop.is_set():
            return
        try:
            self.watch.check()
        except Exception:
            log.exception("%s: checking the projection's progress failed", self.name)

    def _replace(self, attempt: Attempt) -> None:
        log.error(
            "%s: the Kafka consumer has been in %s for %.0f s (limit %.0f s); replacing it. "
            "Stuck at:\n%s",
            self.name,
            attempt.calling,
            attempt.stuck_for(),
            self.settings.kafka_stuck_after_s,
            attempt.where(),
        )
        self.replaced += 1
        metrics.CONSUMER_RESTARTS.labels(self.name).inc()
        attempt.abandoned.set()
        kafka = attempt.kafka
        if kafka is not None:
            # Closing fails the stuck call's waiters; it may block too, so not on this thread.
            threading.Thread(target=_close, args=(kafka,), daemon=True).start()

    def _consume(self, attempt: Attempt, stop: threading.Event) -> None:
        backoff = 0.5
        while not (stop.is_set() or attempt.abandoned.is_set()):
            try:
                self._consume_with(attempt, stop)
            except Exception as error:
                if attempt.abandoned.is_set():
                    return
                log.warning(
                    "%s: consuming failed (%r); retrying in %.1fs", self.name, error, backoff
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _consume_with(self, attempt: Attempt, stop: threading.Event) -> None:
        contexts = self.projections.events.contexts
        with attempt.call("ensure_topics"):
            ensure_topics(self.settings, contexts)
        with attempt.call("KafkaConsumer()"):
            kafka = attempt.kafka = self.consumer_factory(
                self.settings, group_id(self.settings, self.name), contexts
            )
        try:
            while not (stop.is_set() or attempt.abandoned.is_set()):
                events = self._next_batch(attempt, kafka)
                if events and not attempt.abandoned.is_set():
                    self.projections.apply(self.name, events, track_positions=False)
                    self.projections.advance(self.name)
                    with attempt.call("commit"):
                        kafka.commit(timeout_ms=COMMIT_TIMEOUT_MS)
        finally:
            if not attempt.abandoned.is_set():
                with attempt.call("close"):
                    kafka.close()

    def _next_batch(self, attempt: Attempt, kafka: KafkaConsumer) -> list[Envelope]:
        """What has arrived, up to BATCH events: a poll returns one partition's fetch at a
        time, and one transaction per poll would pay the commit for a handful of events."""
        events: list[Envelope] = []
        timeout_ms = 200
        while len(events) < BATCH:
            with attempt.call("poll"):
                records = kafka.poll(timeout_ms=timeout_ms, max_records=BATCH - len(events))
                assigned = bool(kafka.assignment())
            if assigned:
                self.ready.set()
            if not records:
                break
            events += [decode(r.value) for batch in records.values() for r in batch]
            timeout_ms = 0
        return events


def _close(kafka: KafkaConsumer) -> None:
    try:
        kafka.close(autocommit=False, timeout_ms=5_000)
    except Exception as error:
        log.warning("closing a replaced consumer failed: %r", error)
