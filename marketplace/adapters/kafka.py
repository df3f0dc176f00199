"""Kafka plumbing: topic names, admin, producer and consumer settings."""

import contextlib
import logging

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from marketplace.adapters.settings import Settings

log = logging.getLogger(__name__)


def topic(settings: Settings, context: str) -> str:
    return f"{settings.topic_prefix}.{context}"


def ensure_topics(settings: Settings, contexts: list[str]) -> None:
    """Creates the contexts' topics that are missing."""
    assert settings.kafka_bootstrap
    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id="marketplace-admin"
    )
    try:
        existing = set(admin.list_topics())
        configs = (
            {"min.insync.replicas": str(settings.topic_min_insync_replicas)}
            if settings.topic_min_insync_replicas
            else {}
        )
        missing = [
            NewTopic(
                topic(settings, c),
                settings.topic_partitions,
                settings.topic_replication_factor,
                topic_configs=configs,
            )
            for c in contexts
            if topic(settings, c) not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing)
            log.info("created topics %s", [t.name for t in missing])
    finally:
        admin.close()


def producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id="marketplace-relay",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        batch_size=256 * 1024,
        max_request_size=4 * 1024 * 1024,
    )


def consumer(
    settings: Settings, group: str, contexts: list[str], cls: type[KafkaConsumer] = KafkaConsumer
) -> KafkaConsumer:
    return cls(
        *[topic(settings, c) for c in contexts],
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group,
        client_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_records=1000,
        metadata_max_age_ms=5000,
    )
