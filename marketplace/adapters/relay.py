"""The relay: follows each context's event log and publishes every event to Kafka.

It records how far it has published only after the broker has confirmed, so a crash at any
instant re-publishes at most the unconfirmed tail, and never loses an event.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from kafka import KafkaProducer
from kafka.errors import KafkaError

from marketplace.adapters import metrics
from marketplace.adapters.envelope import cloudevent_headers, encode
from marketplace.adapters.eventlog import EventLog
from marketplace.adapters.kafka import ensure_topics, producer, topic
from marketplace.adapters.settings import Settings
from marketplace.adapters.sql import Database, PostgresDatabase, schema_lock

log = logging.getLogger(__name__)
BATCH = 2000


class Relay:
    def __init__(self, settings: Settings, db: Database, events: EventLog) -> None:
        self.settings = settings
        self.db = db
        self.events = events
        self._producer: KafkaProducer | None = None
        with schema_lock(settings), db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS relay_positions "
                "(context TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )

    def positions(self) -> dict[str, int]:
        with self.db.transaction() as cur:
            cur.execute("SELECT context, position FROM relay_positions")
            return {r["context"]: int(r["position"]) for r in cur.fetchall()}

    def _connect(self) -> KafkaProducer:
        if self._producer is None:
            ensure_topics(self.settings, self.events.contexts)
            self._producer = producer(self.settings)
        return self._producer

    def publish_once(self) -> int:
        """Publishes the next batch of each context; returns how many events it confirmed."""
        published = 0
        positions = self.positions()
        heads = self.events.heads()
        for context in self.events.contexts:
            after = positions.get(context, 0)
            metrics.RELAY_LAG.labels(context).set(max(0, heads[context] - after))
            batch = self.events.read(context, after, BATCH)
            if not batch:
                continue
            kafka = self._connect()
            name = topic(self.settings, context)
            source = f"/{self.settings.topic_prefix}"
            futures = [
                kafka.send(
                    name,
                    key=e["aggregate_id"].encode(),
                    value=encode(e),
                    headers=cloudevent_headers(source, e),
                )
                for e in batch
            ]
            kafka.flush()
            for future in futures:
                future.get(timeout=30)  # raises if the broker did not confirm
            last = batch[-1]["position"]
            with self.db.transaction() as cur:
                cur.execute(
                    "INSERT INTO relay_positions (context, position) VALUES (%s, %s) "
                    "ON CONFLICT (context) DO UPDATE SET position = excluded.position",
                    [context, last],
                )
            metrics.EVENTS_PUBLISHED.labels(context).inc(len(batch))
            published += len(batch)
        return published

    def run(self, stop: threading.Event, idle: float = 0.05) -> None:
        with self._leadership(stop):
            self._run(stop, idle)

    @contextmanager
    def _leadership(self, stop: threading.Event) -> Iterator[None]:
        """Only one relay publishes at a time; the others wait to take over."""
        if not isinstance(self.db, PostgresDatabase):
            yield
            return
        # A connection of the views' pool, held while this relay leads.
        # Advisory locks span the database; the schema keeps marketplaces apart.
        key = [f"relay:{self.settings.database_schema or 'public'}"]
        with self.db.session() as conn:
            while not stop.is_set():
                row = conn.execute(
                    "SELECT pg_try_advisory_lock(hashtext(%s)) AS led", key
                ).fetchone()
                if row and row["led"]:
                    break
                stop.wait(1.0)
            try:
                yield
            finally:
                # The connection goes back to the pool, so the lock must not go with it.
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", key)

    def _run(self, stop: threading.Event, idle: float) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                if self.publish_once() == 0:
                    stop.wait(idle)
                backoff = 0.5
            except KafkaError as error:
                log.warning("broker unavailable (%s); retrying in %.1fs", error, backoff)
                self.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self.close()

    def close(self) -> None:
        if self._producer is not None:
            with suppress(KafkaError):
                self._producer.close(timeout=5)
            self._producer = None
