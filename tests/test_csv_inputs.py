"""Every CSV the product reads answers a stray carriage return, a bare CR or a broken quote
with its bad lines or a 4xx, never a 5xx (the fuzzer once found `\\r0` answered 500 by the
bank statement import)."""

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.test_operator_office import operator_person
from tests.test_people import TOKEN, sign_in
from tests.test_seller_orders_pages import person, settle
from tests.world import World, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
HEADER = "buyer_id,amount,currency,reference,received_on,invoice_number\n"


def _statement(world: World, body: str) -> Any:
    return world.call(
        "POST",
        "/v1/operator/payments:import",
        world.operator,
        content=body,
        headers={"Content-Type": "text/csv"},
    )


def _finished(world: World, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        status: dict[str, Any] = world.ok("GET", f"/v1/operator/imports/{job_id}", world.operator)
        if status["status"] != "running":
            return status
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize("body", ["\r0", "\r", "buyer_id,\ramount\n", '"open quote\n'])
def test_a_statement_whose_header_is_not_csv_is_a_422_that_records_nothing(
    world: World, marketplace: Marketplace, body: str
) -> None:
    heads = marketplace.heads()
    answer = _statement(world, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]
    assert marketplace.heads() == heads


def test_a_statement_line_with_a_stray_carriage_return_is_reported_and_the_rest_imported(
    world: World,
) -> None:
    m = small_market(world)
    body = (
        HEADER
        + f"{m.muster.id},100,EUR,BANK-1,2027-01-02,\n"
        + f"{m.muster.id},1\r00,EUR,BANK-2,2027-01-02,\n"
        + f"{m.muster.id},300,EUR,BANK-3,2027-01-02,\r\n"
    )
    answer = _statement(world, body)
    assert answer.status_code == 202, answer.text
    status = _finished(world, answer.json()["job_id"])
    # Lines 2 and 4 were read (this buyer has no invoice to pay yet); line 3 could not be.
    details = {bad["line"]: bad["detail"] for bad in status["failed"]}
    assert status["total"] == 3, status
    assert [line for line, detail in details.items() if "CSV" in detail] == [3]
    assert details[2] == details[4] == "the buyer has no invoices in EUR"


def test_quick_order_csv_with_carriage_returns_is_answered_line_by_line(world: World) -> None:
    m = small_market(world)
    drill = world.product(m.acme, "DRILL-1")
    world.offer(m.rhine, drill, 1_000)
    world.terms(m.rhine, m.muster)
    world.catalog(m.muster)
    for body in ("\r0", "sku,quantity\r\nDRILL-1,2\r\n", 'sku,quantity\n"DRILL-1\r,2\n'):
        answer = world.call(
            "POST",
            "/v1/buyer/quick-order",
            m.muster,
            content=body,
            headers={"Content-Type": "text/csv"},
            params={"min_position": world.position},
        )
        assert answer.status_code in (200, 422), (body, answer.text)
    crlf = world.ok(
        "POST",
        "/v1/buyer/quick-order",
        m.muster,
        content="sku,quantity\r\nDRILL-1,2\r\n",
        headers={"Content-Type": "text/csv"},
    )
    [line] = crlf["lines"]
    assert line["sku"] == "DRILL-1"
    assert line["quantity"] == 2


@pytest.mark.parametrize(
    ("form", "header"),
    [
        ("/reseller/offers:import", "product_id,price,currency,stock,lead_time_days,min_order_qty"),
        ("/operator/payments:import", HEADER.strip()),
    ],
)
def test_page_imports_answer_broken_csv_without_a_server_error(
    world: World, marketplace: Marketplace, form: str, header: str
) -> None:
    m = small_market(world)
    if form.startswith("/reseller"):
        person(world, m.rhine, "admin@rhine.example", "admin")
        email, imports = "admin@rhine.example", "/reseller/imports"
    else:
        operator_person(world, "ops@market.example", "admin")
        email, imports = "ops@market.example", "/operator/payments"
    settle(marketplace)
    with TestClient(create_app(marketplace, start=False)) as web:
        assert sign_in(web, email).status_code == 303
        for body in ("\r0", f'{header}\n"broken,quote\n', f"{header}\nx,\ry\n"):
            token = TOKEN.search(web.get(imports).text)
            assert token, imports
            answer = web.post(
                form,
                data={"csrf_token": token.group(1)},
                files={"file": ("upload.csv", body.encode(), "text/csv")},
                follow_redirects=False,
            )
            assert answer.status_code < 500, (body, answer.text[:500])
