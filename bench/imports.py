"""Memory of a bulk import at the size limit: a `serve` process receives a product file of
64 MiB (200,000 lines) and imports it; its peak resident memory beside its memory at rest."""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2

from marketplace.adapters.settings import Settings
from marketplace.web.limits import MAX_IMPORT_BODY
from tests.distributed import env_for, wait_until
from tests.services import answers_ready, free_port

LINES = 200_000


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def body() -> Iterator[bytes]:
    """200,000 product lines, padded to just under the body limit."""
    per_line = (MAX_IMPORT_BODY - 1024) // LINES
    # The longest line with a one-character pad, plus its newline, sets the pad's length.
    pad = per_line - (len(_line(LINES - 1, "x")) + 1) + 1
    for i in range(LINES):
        yield _line(i, "x" * pad) + b"\n"


def _line(i: int, pad: str) -> bytes:
    line = {
        "sku": f"IMP-{i:06d}",
        "name": f"Imported thing {i}",
        "brand": "Bulk",
        "category": "imports",
        "attributes": {"note": pad[:1000]} if pad else {},
        "list_price": {"amount": 1_000 + i % 500, "currency": "EUR"},
    }
    return json.dumps(line).encode()


def peak_rss(settings: Settings, log: Path, scale: str) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "marketplace", "serve", "--port", str(port)],
            env=env_for(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: answers_ready(base), 120, "serve ready")
        operator = {"Authorization": f"Bearer {settings.operator_key}"}
        maker = httpx2.post(f"{base}/v1/manufacturers", json={"name": "Bulk", "country": "DE"})
        acme = maker.json()
        httpx2.post(f"{base}/v1/operator/accounts/{acme['id']}/approve", headers=operator)
        headers = {"Authorization": f"Bearer {acme['api_key']}"}
        at_rest = _status_kb(server.pid, "VmRSS")
        started = time.monotonic()
        response = httpx2.post(
            f"{base}/v1/manufacturer/products:import",
            content=body(),
            headers={**headers, "Content-Type": "application/x-ndjson"},
            timeout=300,
        )
        assert response.status_code == 202, response.text
        job = response.json()["job_id"]

        def done() -> bool:
            status = httpx2.get(f"{base}/v1/manufacturer/imports/{job}", headers=headers).json()
            assert status["status"] != "failed", status
            return bool(status["status"] == "completed")

        wait_until(done, 1800, "the import finished")
        elapsed = time.monotonic() - started
        peak = _status_kb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "name": "import_peak_rss",
        "value": round(peak / 1024, 1),
        "unit": "MB",
        "baseline": round(at_rest / 1024, 1),
        "ratio": round(at_rest / peak, 3),
        "scale": scale,
        "note": f"{LINES} lines, {MAX_IMPORT_BODY >> 20} MiB, imported in {elapsed:.0f} s",
    }
