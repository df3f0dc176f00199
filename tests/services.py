"""The real services tests run against: PostgreSQL (Apache Kafka is in kafka_broker.py)."""

import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import psycopg

OPS = Path(__file__).resolve().parent.parent / "ops"


def postgres_admin_url() -> str:
    host = os.environ.get("POSTGRES_HOST", "127.0.0.1")
    port = os.environ.get("POSTGRES_PORT", "5432")
    user = os.environ.get("POSTGRES_USER", "postgres")
    password = os.environ.get("POSTGRES_PASSWORD", "postgres")
    auth = f"{user}:{password}" if password else user
    return f"postgresql://{auth}@{host}:{port}/postgres"


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def ensure_postgres() -> str:
    """A PostgreSQL URL for a test database; sets PostgreSQL up (ops/postgres.sh) if none
    answers."""
    if os.environ.get("MARKETPLACE_TEST_POSTGRES") == "off":
        raise RuntimeError("PostgreSQL is off for this run (MARKETPLACE_TEST_POSTGRES=off)")
    admin = postgres_admin_url()
    if not _answers(admin):
        setup = subprocess.run(
            ["bash", str(OPS / "postgres.sh")], capture_output=True, text=True, check=False
        )
        if setup.returncode != 0 or not _answers(admin):
            raise RuntimeError(f"PostgreSQL is not available: {setup.stderr.strip()}")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'marketplace_test'"
        ).fetchone()
        if not exists:
            conn.execute("CREATE DATABASE marketplace_test")
    return admin.rsplit("/", 1)[0] + "/marketplace_test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


class Served:
    """The HTTP app on a real server in a thread: real sockets, real worker threads."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Served":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server never started"
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def answers_ready(base: str) -> bool:
    """Whether the marketplace served at `base` answers its readiness check."""
    try:
        return httpx2.get(f"{base}/ready", timeout=2).status_code == 200
    except httpx2.HTTPError:
        return False
