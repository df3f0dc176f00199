"""Hostile and broken input: never a 5xx, never unbounded memory, nothing changed."""

import base64
import contextlib
import json
import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx2
import pytest

from marketplace.adapters.jobs import JobTable
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from offers.imports import STALLED_AFTER, Imports
from tests.services import Served
from tests.world import World, eur, small_market

GOOD_PRODUCT = {"name": "Drill", "brand": "Acme", "category": "tools", "list_price": eur(1_000)}
EMBEDDED = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
BOTH_STORES = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def _chunked_request(path: str, key: str, content_type: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()


def _send_chunked(port: int, head: bytes, chunk: bytes, total: int) -> tuple[int, bytes]:
    """Sends up to `total` bytes in chunks with no Content-Length; the bytes it managed to
    send before the server answered and closed, and the answer."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            while sent < total:
                sock.sendall(framed)
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        answer = b""
        with contextlib.suppress(OSError):
            while part := sock.recv(65536):
                answer += part
    return sent, answer


@EMBEDDED
@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/v1/manufacturer/products/BIG", "application/json", 1 << 20),
        ("/v1/manufacturer/products:import", "application/x-ndjson", 64 << 20),
    ],
)
def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read(
    world: World, marketplace: Marketplace, path: str, content_type: str, limit: int
) -> None:
    acme = world.manufacturer()
    before = marketplace.heads()
    chunk = b" " * 65535 + b"\n"
    # Far more than the socket buffers hold: a server that kept reading would take it all.
    offered = max(limit * 8, 256 << 20)
    with Served(create_app(marketplace, start=False)) as served:
        sent, answer = _send_chunked(
            served.port, _chunked_request(path, acme.key, content_type), chunk, offered
        )
    status = answer.split(b"\r\n", 1)[0]
    assert b" 413 " in status + b" ", answer[:300]
    assert len(answer) < 1_000
    assert sent < offered // 2
    assert marketplace.heads() == before


@EMBEDDED
def test_a_client_gone_mid_upload_leaves_nothing_running(
    world: World, marketplace: Marketplace
) -> None:
    acme = world.manufacturer()
    before = marketplace.heads()
    line = json.dumps({**GOOD_PRODUCT, "sku": "X"}).encode() + b"\n"
    head = _chunked_request("/v1/manufacturer/products:import", acme.key, "application/x-ndjson")
    with Served(create_app(marketplace, start=False)) as served:
        with socket.create_connection(("127.0.0.1", served.port)) as sock:
            sock.sendall(head + f"{len(line):x}\r\n".encode() + line + b"\r\n")
        assert httpx2.get(f"{served.base}/health").status_code == 200
    assert not [t for t in threading.enumerate() if t.name.startswith("import-")]
    assert marketplace.heads() == before


@EMBEDDED
def test_an_import_with_too_many_lines_is_refused_while_it_is_read(
    world: World, marketplace: Marketplace
) -> None:
    acme = world.manufacturer()
    before = marketplace.heads()
    head = _chunked_request("/v1/manufacturer/products:import", acme.key, "application/x-ndjson")
    with Served(create_app(marketplace, start=False)) as served:
        sent, answer = _send_chunked(served.port, head, b"{}\n" * 20_000, 256 << 20)
    assert b" 422 " in answer.split(b"\r\n", 1)[0] + b" "
    assert b"200000 lines" in answer
    assert sent < 128 << 20
    assert marketplace.heads() == before


@BOTH_STORES
@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "Drill", "brand": "Acme", "category": "tools", "list_price": '
        b'{"amount": NaN, "currency": "EUR"}}',
        b'{"name": "Drill", "brand": "Acme", "category": "tools", "list_price": '
        b'{"amount": Infinity, "currency": "EUR"}}',
        b'{"name": "Drill", "brand": "Acme", "category": "tools", "list_price": '
        b'{"amount": 1e400, "currency": "EUR"}}',
        b'{"name": "Drill", "brand": "Acme", "category": "tools", "list_price": '
        b'{"amount": ' + b"9" * 5000 + b', "currency": "EUR"}}',
        b'{"name": "Dr\\ud800ill", "brand": "Acme", "category": "tools", "list_price": '
        b'{"amount": 100, "currency": "EUR"}}',
        b'{"name": "Drill", "brand": "Acme", "category": "tools", "attributes": '
        b'{"\\udfff": "x"}, "list_price": {"amount": 100, "currency": "EUR"}}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_json_that_json_cannot_answer_with_is_a_422(
    world: World, marketplace: Marketplace, raw: bytes
) -> None:
    acme = world.manufacturer()
    before = marketplace.heads()
    response = world.call(
        "PUT",
        "/v1/manufacturer/products/DRILL",
        acme,
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    assert marketplace.heads() == before


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@BOTH_STORES
def test_cursors_that_decode_to_anything_unexpected_are_a_400(world: World) -> None:
    m = small_market(world)
    for cursor in [
        _cursor(["\u0000", "x"]),
        _cursor(["a\ud800", "x"]),
        _cursor([["a"], "x"]),
        _cursor({"a": 1}),
        _cursor(["a", 1]),
        base64.urlsafe_b64encode(b"[" * 700).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "%%%",
    ]:
        for path, actor in [
            ("/v1/buyer/catalog", m.muster),
            ("/v1/manufacturer/products", m.acme),
            ("/v1/buyer/orders", m.muster),
        ]:
            response = world.call("GET", path, actor, params={"cursor": cursor})
            assert response.status_code == 400, (path, cursor, response.text)


@EMBEDDED
def test_position_tokens_that_decode_to_anything_unexpected_are_a_400(
    world: World, marketplace: Marketplace
) -> None:
    buyer = world.buyer()
    heads = marketplace.heads()
    forged = [
        base64.urlsafe_b64encode(b"orders:1").decode(),
        marketplace.tokens.seal({"nowhere": 1}),
        marketplace.tokens.seal({"orders": -1}),
        marketplace.tokens.seal({ctx: pos + 1 for ctx, pos in heads.items()}),
        marketplace.position_token()[:-4] + "AAAA",
    ]
    for token in forged:
        response = world.call("GET", "/v1/buyer/catalog", buyer, params={"min_position": token})
        assert response.status_code == 400, (token, response.text)


@EMBEDDED
@pytest.mark.parametrize(
    "name",
    ["Acme\x07", "Ac\nme", "Acme\u202e", "\u200b\u200b", "\u00a0", "A\tB", "\x7f"],
)
def test_names_refuse_control_and_invisible_characters(
    world: World, marketplace: Marketplace, name: str
) -> None:
    acme = world.manufacturer()
    before = marketplace.heads()
    for path, body, actor in [
        ("/v1/manufacturers", {"name": name, "country": "DE"}, None),
        ("/v1/buyers", {"legal_name": name, "tax_id": "DE1", "country": "DE"}, None),
        ("/v1/manufacturer/products/P-1", {**GOOD_PRODUCT, "name": name}, acme),
        ("/v1/manufacturer/products/P-1", {**GOOD_PRODUCT, "brand": name}, acme),
    ]:
        response = world.call("POST" if actor is None else "PUT", path, actor, json=body)
        assert response.status_code == 422, (path, name, response.text)
        assert response.json()["detail"]
    assert marketplace.heads() == before
    ok = world.call("POST", "/v1/manufacturers", json={"name": "Zoë & Søn GmbH", "country": "DE"})
    assert ok.status_code == 201


@EMBEDDED
def test_a_product_whose_sku_holds_a_slash_stays_addressable(world: World) -> None:
    acme = world.manufacturer()
    created = world.call("PUT", "/v1/manufacturer/products/AB%2F12", acme, json=GOOD_PRODUCT)
    assert created.status_code == 201, created.text
    assert created.json()["sku"] == "AB/12"
    changed = {**GOOD_PRODUCT, "name": "Better drill"}
    updated = world.call("PUT", "/v1/manufacturer/products/AB%2F12", acme, json=changed)
    assert updated.status_code == 200
    assert updated.json()["product_id"] == created.json()["product_id"]
    items = world.view("/v1/manufacturer/products", acme).json()["items"]
    assert [(i["sku"], i["name"]) for i in items] == [("AB/12", "Better drill")]
    gone = world.call("DELETE", "/v1/manufacturer/products/AB%2F12", acme)
    assert gone.status_code == 200, gone.text
    items = world.view("/v1/manufacturer/products", acme).json()["items"]
    assert [i["status"] for i in items] == ["discontinued"]


@EMBEDDED
def test_a_reseller_assigns_its_reps_only_its_customers_and_learns_nothing_of_others(
    world: World, marketplace: Marketplace
) -> None:
    m = small_market(world)
    stranger = world.buyer("Stranger AG")
    rep = world.ok("POST", "/v1/reseller/sales-reps", m.rhine, json={"name": "Erika"})
    path = f"/v1/reseller/sales-reps/{rep['id']}/accounts"
    before = marketplace.heads()
    unknown = "00000000-0000-0000-0000-000000000009"
    answers = [
        world.call("PUT", path, m.rhine, json={"buyer_ids": [buyer_id]})
        for buyer_id in (stranger.id, unknown)
    ]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json()["detail"].replace(stranger.id, unknown) == answers[1].json()["detail"]
    assert marketplace.heads() == before
    world.terms(m.rhine, m.muster)
    assert world.call("PUT", path, m.rhine, json={"buyer_ids": [m.muster.id]}).status_code == 200


@EMBEDDED
def test_docs_pages_load_nothing_from_outside(client: Any) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "http://" not in html, page
        assert "https://" not in html, page
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', html)
        assert assets, page
        for asset in assets:
            assert client.get(asset).status_code == 200, asset


def test_requests_waiting_for_a_view_hold_no_worker_threads(store: Marketplace) -> None:
    """The API process alone: commands reach the log, no projector moves the views."""
    with Served(create_app(store)) as served:
        signup = httpx2.post(f"{served.base}/v1/manufacturers", json={"name": "A", "country": "DE"})
        acme = signup.json()
        approved = httpx2.post(
            f"{served.base}/v1/operator/accounts/{acme['id']}/approve",
            headers={"Authorization": f"Bearer {store.operator_key}"},
        )
        token = approved.headers["X-Marketplace-Position"]
        finished: list[int] = []

        def wait() -> None:
            response = httpx2.get(
                f"{served.base}/v1/manufacturer/products",
                params={"min_position": token},
                headers={"Authorization": f"Bearer {acme['api_key']}"},
                timeout=60,
            )
            finished.append(response.status_code)

        waiters = [threading.Thread(target=wait) for _ in range(100)]
        for waiter in waiters:
            waiter.start()
        time.sleep(1)  # lets the waiters arrive; nothing below depends on how long
        assert httpx2.get(f"{served.base}/health", timeout=60).status_code == 200
        assert finished == [], "a waiting request ended before /health answered"
        for waiter in waiters:
            waiter.join()
    assert finished == [408] * 100


@EMBEDDED
def test_an_import_cut_off_by_a_restart_is_marked_failed(
    world: World, marketplace: Marketplace
) -> None:
    acme = world.manufacturer()
    owner = UUID(acme.id)
    # Jobs a crashed process had started: created and noted, their lines never run.
    swept = marketplace.imports.create(owner, "products", 10, [])
    read = marketplace.imports.create(owner, "products", 3, [])
    status = world.ok("GET", f"/v1/manufacturer/imports/{swept}", acme)
    assert status["status"] == "running"
    later = datetime.now(UTC) + STALLED_AFTER + timedelta(seconds=1)
    # A job read after the restart is failed on the spot...
    restarted = Imports(marketplace.offers, JobTable(marketplace.db))
    assert restarted.job(read, owner, now=later).status == "failed"
    # ...and the restart's sweep fails the others, leaving nothing noted.
    assert restarted.fail_cut_off(now=later) == 1
    assert restarted.registry.noted() == []
    status = world.ok("GET", f"/v1/manufacturer/imports/{swept}", acme)
    assert status["status"] == "failed"
    assert "interrupted after 0 of 10 lines" in status["error"]
    # A job that runs to its end is not noted.
    line = json.dumps({**GOOD_PRODUCT, "sku": "OK-1"})
    done = world.ok("POST", "/v1/manufacturer/products:import", acme, content=line.encode())
    job = done["job_id"]
    deadline = time.monotonic() + 30
    while world.ok("GET", f"/v1/manufacturer/imports/{job}", acme)["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert restarted.registry.noted() == []
