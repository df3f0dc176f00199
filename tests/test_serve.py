"""`marketplace serve --demo` brings up a real server that answers, with working demo keys."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.services import free_port


def test_the_served_demo_world_answers_with_its_printed_keys(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MARKETPLACE_DATABASE_URL": f"sqlite:///{tmp_path}/m.db", "COLUMNS": "80"}
    env.pop("MARKETPLACE_OPERATOR_KEY", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "marketplace", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert server.stdout is not None
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        output = "".join(lines)
        people = _demo_people(lines)
        buyer = next(p for who, p in people.items() if "Muster GmbH" in who and "buyer" in who)
        buyer_key, operator_key = buyer["API key"], people["operator (operator)"]["API key"]
        base = f"http://127.0.0.1:{port}"
        assert httpx2.get(f"{base}/health").json() == {"status": "ok"}, output
        catalog = httpx2.get(
            f"{base}/v1/buyer/catalog", headers={"Authorization": f"Bearer {buyer_key}"}
        ).json()
        assert len(catalog["items"]) == 50
        assert catalog["next_cursor"]
        projections = httpx2.get(
            f"{base}/v1/operator/projections", headers={"Authorization": f"Bearer {operator_key}"}
        ).json()
        assert projections[0]["lag_events"] == 0
        assert httpx2.get(f"{base}/docs").status_code == 200
        # Printed whole in 80 columns: each password signs its person in.
        signed_in = httpx2.post(
            f"{base}/sign-in",
            data={"email": buyer["email"], "password": buyer["password"]},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
    finally:
        server.terminate()
        server.wait(timeout=20)


def _demo_people(lines: list[str]) -> dict[str, dict[str, str]]:
    """The printed demo people: "who (role)" -> {"email", "password", "API key"}."""
    people: dict[str, dict[str, str]] = {}
    who = ""
    for line in lines:
        if line.strip() and not line.startswith(" ") and line.rstrip().endswith(")"):
            who = line.strip()
            people[who] = {}
        elif who and line.startswith("  ") and line.strip():
            name, value = line.strip().rsplit(None, 1)
            people[who][name] = value
    return people


def _served_output(env: dict[str, str], port: int) -> str:
    server = subprocess.Popen(
        [sys.executable, "-m", "marketplace", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "Application startup complete" in line or not line:
                break
    finally:
        server.terminate()
        server.wait(timeout=20)
    return "".join(lines)


def test_the_operator_key_is_printed_only_when_it_is_generated(tmp_path: Path) -> None:
    env = {**os.environ, "MARKETPLACE_DATABASE_URL": f"sqlite:///{tmp_path}/m.db", "COLUMNS": "80"}
    env.pop("MARKETPLACE_OPERATOR_KEY", None)
    first = _served_output(env, free_port())
    assert "Application startup complete" in first, first
    key = next(w for w in first.split() if w.startswith("mk_op_"))
    second = _served_output(env, free_port())
    assert "Application startup complete" in second, second
    assert key not in second
    assert "mk_op_" not in second
    given = _served_output({**env, "MARKETPLACE_OPERATOR_KEY": "mk_op_given"}, free_port())
    assert "mk_op_given" not in given
