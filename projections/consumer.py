"""Projections fed from Kafka: one consumer group per projection.

Offsets are committed after the view's transaction, and only say where to resume: the view's
own per-aggregate versions make a redelivered or replayed event change nothing.
"""

import logging
import threading

from kafka import KafkaConsumer
from kafka.errors import KafkaError

from marketplace.envelope import Envelope, decode
from marketplace.kafka import consumer, ensure_topics
from marketplace.settings import Settings
from projections.runner import Projections

log = logging.getLogger(__name__)
BATCH = 5000


def group_id(settings: Settings, name: str) -> str:
    return f"{settings.topic_prefix}.projection.{name}"


class KafkaProjector:
    def __init__(self, settings: Settings, projections: Projections, name: str) -> None:
        self.settings = settings
        self.projections = projections
        self.name = name
        # Set once the group has given this consumer its partitions.
        self.ready = threading.Event()

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                self._consume(stop)
            except KafkaError as error:
                log.warning(
                    "%s: broker unavailable (%s); retrying in %.1fs", self.name, error, backoff
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _consume(self, stop: threading.Event) -> None:
        contexts = self.projections.events.contexts
        ensure_topics(self.settings, contexts)
        kafka = consumer(self.settings, group_id(self.settings, self.name), contexts)
        try:
            while not stop.is_set():
                events = self._next_batch(kafka)
                if events:
                    self.projections.apply(self.name, events, track_positions=False)
                    self.projections.advance(self.name)
                    kafka.commit()
        finally:
            kafka.close()

    def _next_batch(self, kafka: KafkaConsumer) -> list[Envelope]:
        """What has arrived, up to BATCH events: a poll returns one partition's fetch at a
        time, and one transaction per poll would pay the commit for a handful of events."""
        events: list[Envelope] = []
        timeout_ms = 200
        while len(events) < BATCH:
            records = kafka.poll(timeout_ms=timeout_ms, max_records=BATCH - len(events))
            if kafka.assignment():
                self.ready.set()
            if not records:
                break
            events += [decode(r.value) for batch in records.values() for r in batch]
            timeout_ms = 0
        return events
