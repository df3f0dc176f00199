"""A real HTTP server around an app, for the duration of a measurement."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.services import free_port, wait_for_port


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve(marketplace: Marketplace) -> Iterator[str]:
    with serve_app(create_app(marketplace)) as base:
        yield base
