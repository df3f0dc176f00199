from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# What each kind of process holds at most by default: four `serve`, one `relay` and two
# `project` take 60 of PostgreSQL's default 100. A `project` process runs five projections
# and the mail and webhook senders.
PROCESS_CONNECTIONS = {"serve": 10, "relay": 4, "project": 8, "rebuild-part": 2}


@dataclass(frozen=True)
class Budget:
    """A process's connections: one pool for its event store, one for its views."""

    store: int
    views: int


class Settings(BaseSettings):
    """Runtime settings, read from MARKETPLACE_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="MARKETPLACE_")

    database_url: str = "sqlite:///var/marketplace.db"
    database_schema: str | None = None
    # The PostgreSQL connections one process may hold, shared by its event store and its
    # views; unset, each kind of process takes what it needs (PROCESS_CONNECTIONS). Past it,
    # work waits for a free connection. 100 are shared by every process on a default server.
    database_connections: int | None = Field(None, ge=2, le=1000)
    kafka_bootstrap: str | None = None
    operator_key: str | None = None
    secret_key: str | None = None
    topic_prefix: str = "marketplace"
    # Topics the relay creates: the defaults fit one broker; a production cluster of three
    # takes replication factor 3 with 2 in-sync replicas (see docs/deploy.md).
    topic_partitions: int = Field(6, ge=1, le=10_000)
    topic_replication_factor: int = Field(1, ge=1, le=32)
    topic_min_insync_replicas: int | None = Field(None, ge=1, le=32)
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    # A consumer whose call into the Kafka client has not returned for this long is replaced.
    kafka_stuck_after_s: float = 60.0
    # A projection behind its logs with no progress for this long is repaired from the store.
    projection_stall_after_s: float = 30.0
    # On start, orders left half-placed or half-rerouted this long ago are finished: younger
    # ones may still be in the hands of another API process.
    recover_after_s: float = 30.0
    # Aggregates each context keeps in memory between commands (twice: the library's cache
    # and the one that reads many at once); what a process's memory grows to under load.
    aggregate_cache_size: int = Field(10_000, ge=1, le=1_000_000)
    # Where people reach the pages: the links in mail start with it.
    public_url: str = "http://127.0.0.1:8000"
    # `smtp://[user:password@]host:port[?starttls=1]`; unset, mail is kept for the operator.
    smtp_url: str | None = None
    mail_from: str = "Marketplace <no-reply@marketplace.example>"
    # A failed send waits this long, doubling with each failure up to `mail_retry_max_s`.
    mail_retry_s: float = Field(30.0, gt=0)
    mail_retry_max_s: float = Field(900.0, gt=0)
    # A sender claims mail for this long; a sender killed meanwhile leaves it to the next.
    mail_lease_s: float = Field(120.0, gt=0)
    mail_poll_s: float = Field(1.0, gt=0)
    # Development and tests only: webhooks may then use `http` and local addresses.
    webhooks_allow_private: bool = False
    # A failed delivery waits this long, doubling to an hour; given up after
    # `webhook_give_up_after_s`; an endpoint failing for `webhook_disable_after_s` is disabled.
    webhook_retry_s: float = Field(5.0, gt=0)
    webhook_give_up_after_s: float = Field(25 * 3600.0, gt=0)
    webhook_disable_after_s: float = Field(5 * 86400.0, gt=0)
    webhook_lease_s: float = Field(60.0, gt=0)
    webhook_poll_s: float = Field(0.2, gt=0)
    # Deliveries a process makes at once (each to its own endpoint and aggregate).
    webhook_workers: int = Field(8, ge=1, le=64)
    # Tests and demos only: `PUT /v1/operator/clock` then moves the platform's time.
    controllable_clock: bool = False

    def connections(self, process: str) -> "Budget":
        total = self.database_connections or PROCESS_CONNECTIONS[process]
        store = max(1, total // 2)
        return Budget(store=store, views=max(1, total - store))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def sqlite_path(url: str) -> str:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db`, as SQLAlchemy spells them."""
    return url.removeprefix("sqlite://")[1:]
