from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings, read from MARKETPLACE_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="MARKETPLACE_")

    database_url: str = "sqlite:///var/marketplace.db"
    database_schema: str | None = None
    # PostgreSQL connections per pool (one pool per context, one for the views): this many
    # kept open, up to `database_pool_overflow` more opened under load. 100 connections are
    # shared by every process on a default server.
    database_pool_size: int = 1
    database_pool_overflow: int = 9
    kafka_bootstrap: str | None = None
    operator_key: str | None = None
    secret_key: str | None = None
    topic_prefix: str = "marketplace"
    topic_partitions: int = 6
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    # A consumer whose call into the Kafka client has not returned for this long is replaced.
    kafka_stuck_after_s: float = 60.0
    # A projection behind its logs with no progress for this long is repaired from the store.
    projection_stall_after_s: float = 30.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def sqlite_path(url: str) -> str:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db`, as SQLAlchemy spells them."""
    return url.removeprefix("sqlite://")[1:]
