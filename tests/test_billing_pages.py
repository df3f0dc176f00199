"""The money pages, read and posted as a browser does: buyers' invoices, PDFs, credit and
returns; resellers' invoices, receivables, returns and payouts; the operator's payments,
statement import and payout cycles; each behind the right role."""

import csv
import io
import re
import time
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.test_billing_rules import Billed, billed
from tests.test_people import PASSWORD, TOKEN, sign_in
from tests.test_seller_orders_pages import person, settle
from tests.world import World, eur

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


@dataclass
class Books:
    world: World
    market: Marketplace
    b: Billed


def browser(market: Marketplace, email: str) -> TestClient:
    client = TestClient(create_app(market, start=False))
    client.__enter__()
    assert sign_in(client, email).status_code == 303
    return client


def token(client: TestClient, path: str) -> str:
    found = TOKEN.search(client.get(path).text)
    assert found, path
    return found.group(1)


@pytest.fixture
def books(world: World, marketplace: Marketplace) -> Books:
    b = billed(world)
    world.ok(
        "POST",
        "/v1/buyer/users",
        b.buyer,
        json={"name": "Bea", "role": "admin", "email": "bea@muster.example", "password": PASSWORD},
    )
    person(world, b.seller, "fin@rhine.example", "finance")
    person(world, b.seller, "ops@rhine.example", "orders")
    for email, role in (("olga@op.example", "admin"), ("sue@op.example", "support")):
        body = {"name": role, "email": email, "password": PASSWORD, "role": role}
        world.ok("POST", "/v1/operator/users", world.operator, json=body)
    settle(marketplace)
    return Books(world, marketplace, b)


def test_a_buyer_reads_its_invoices_downloads_one_and_asks_for_a_return(books: Books) -> None:
    web = browser(books.market, "bea@muster.example")
    invoice = books.b.invoice
    page = web.get("/invoices?status=open")
    assert page.status_code == 200
    assert f"Invoice {invoice['number']} (PDF)" in page.text
    assert "400.00" in page.text
    assert web.get("/invoices?status=paid").text.count("(PDF)") == 0
    assert web.get("/invoices?status=sideways").status_code == 422
    rows = list(csv.DictReader(io.StringIO(web.get("/invoices.csv").text)))
    assert [(r["number"], r["balance"], r["status"]) for r in rows] == [("1", "400.00", "open")]
    pdf = web.get(f"/invoices/{invoice['invoice_id']}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    credit = web.get("/credit").text
    assert "Rhine Supply" in credit
    assert "400.00" in credit

    order = web.get(f"/orders/{books.b.invoice['order_id']}").text
    assert "Return goods from this delivery" in order
    assert f"Invoice {invoice['number']} (PDF)" in order
    asked = web.post(
        "/returns",
        data={
            "csrf_token": token(web, "/returns"),
            "seller_order_id": books.b.seller_order,
            f"qty_{books.b.drill}": "2",
            "reason": "wrong size",
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303
    assert "requested" in web.get("/returns").text
    too_many = web.post(
        "/returns",
        data={
            "csrf_token": token(web, "/returns"),
            "seller_order_id": books.b.seller_order,
            f"qty_{books.b.drill}": "3",
            "reason": "all of them",
        },
    )
    assert too_many.status_code == 422
    forged = web.post("/returns", data={"seller_order_id": books.b.seller_order})
    assert forged.status_code == 403


def test_another_buyer_cannot_open_the_invoice_pdf(books: Books) -> None:
    other = books.world.buyer("Other AG")
    books.world.ok(
        "POST",
        "/v1/buyer/users",
        other,
        json={"name": "Oz", "role": "admin", "email": "oz@other.example", "password": PASSWORD},
    )
    web = browser(books.market, "oz@other.example")
    assert web.get(f"/invoices/{books.b.invoice['invoice_id']}.pdf").status_code == 404
    assert "(PDF)" not in web.get("/invoices").text


def test_the_seller_decides_a_return_and_finance_reads_invoices_ageing_and_payouts(
    books: Books,
) -> None:
    books.world.ok(
        "POST",
        "/v1/buyer/returns",
        books.b.buyer,
        json={
            "seller_order_id": books.b.seller_order,
            "lines": [{"product_id": books.b.drill, "quantity": 1}],
            "reason": "dented",
        },
    )
    settle(books.market)
    ops = browser(books.market, "ops@rhine.example")
    assert ops.get("/reseller/invoices").status_code == 403
    returns = ops.get("/reseller/returns").text
    assert "dented" in returns
    return_id = re.search(r'action="/reseller/returns/([0-9a-f-]{36})/accept"', returns)
    assert return_id
    accepted = ops.post(
        f"/reseller/returns/{return_id.group(1)}/accept",
        data={"csrf_token": token(ops, "/reseller/returns"), "restock": "1"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    assert "credit note 1" in ops.get(accepted.headers["location"]).text

    finance = browser(books.market, "fin@rhine.example")
    invoices = finance.get("/reseller/invoices").text
    assert "300.00" in invoices  # 400 less the credit note
    ageing = finance.get("/reseller/receivables").text
    assert "Muster GmbH" in ageing
    assert "300.00" in ageing
    books.world.ok(
        "POST",
        "/v1/operator/payments",
        books.world.operator,
        json={
            "buyer_id": books.b.buyer.id,
            "amount": eur(300_00),
            "reference": "B-1",
            "received_on": books.market.clock.today(),
        },
    )
    books.world.ok(
        "POST", "/v1/operator/payouts", books.world.operator, json={"up_to": "2099-12-31"}
    )
    settle(books.market)
    payouts = finance.get("/reseller/payouts").text
    found = re.search(r'href="/reseller/payouts/([0-9a-f-]{36})"', payouts)
    assert found
    statement = finance.get(f"/reseller/payouts/{found.group(1)}").text
    assert "300.00" in statement
    rows = list(
        csv.DictReader(io.StringIO(finance.get(f"/reseller/payouts/{found.group(1)}.csv").text))
    )
    assert [(r["paid"], r["net"]) for r in rows] == [("300.00", "300.00")]


def test_the_operator_records_imports_and_pays_out_and_support_only_reads(books: Books) -> None:
    olga = browser(books.market, "olga@op.example")
    form = {
        "csrf_token": token(olga, "/operator/payments"),
        "buyer_id": books.b.buyer.id,
        "currency": "EUR",
        "reference": "SEPA-9",
        "received_on": "2026-05-01",
    }
    before = books.market.heads()
    bad = olga.post("/operator/payments", data={**form, "amount": "-3"})
    assert bad.status_code == 422
    assert "positive amount" in bad.text
    assert books.market.heads() == before
    done = olga.post(
        "/operator/payments", data={**form, "amount": "150.00"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "SEPA-9" in olga.get("/operator/payments").text

    statement = (
        "buyer_id,amount,currency,reference,received_on,invoice_number\n"
        f"{books.b.buyer.id},5000,EUR,SEPA-10,2026-05-02,1\n"
        f"{books.b.buyer.id},-1,EUR,SEPA-11,2026-05-02,\n"
    )
    started = olga.post(
        "/operator/payments/import",
        data={"csrf_token": token(olga, "/operator/payments/import")},
        files={"file": ("statement.csv", statement.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert started.status_code == 303
    for _ in range(100):
        job = olga.get(started.headers["location"]).text
        if "completed" in job:
            break
        time.sleep(0.05)
    assert "1 imported" in job
    assert "amount must be a positive whole number" in job
    settle(books.market)
    [invoice] = books.world.view("/v1/buyer/invoices", books.b.buyer).json()["items"]
    assert invoice["paid"] == eur(200_00)

    paid = olga.post(
        "/operator/payouts",
        data={"csrf_token": token(olga, "/operator/payouts"), "up_to": "2099-12-31"},
        follow_redirects=False,
    )
    assert paid.status_code == 303
    assert "1 payout(s) made" in olga.get(paid.headers["location"]).text

    sue = browser(books.market, "sue@op.example")
    assert sue.get("/operator/payments").status_code == 200
    assert "Record the payment" not in sue.get("/operator/payments").text
    refused = sue.post(
        "/operator/payouts",
        data={"csrf_token": token(sue, "/operator/payouts"), "up_to": "2099-12-31"},
    )
    assert refused.status_code == 403
