"""Orders with tax and shipping (api.md v1.2), one scenario per tax case and per shipping
case, through the API in both runtime modes; every figure is worked out here from the rules:
rates DE 19 % / 7 %, FR 20 % / 5.5 %, tax per group = half-up(taxable x rate / 10,000)."""

import io
from datetime import date, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from tests.world import Actor, Market, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "kafka"], indirect=True)

HAMBURG = {"line1": "Hafenstraße 1", "postcode": "20457", "city": "Hamburg", "country": "DE"}
LYON = {"line1": "1 rue de la Paix", "postcode": "69001", "city": "Lyon", "country": "FR"}
BASEL = {"line1": "Rheingasse 1", "postcode": "4058", "city": "Basel", "country": "CH"}
PARCEL = {
    "method": "std",
    "name": "Parcel",
    "countries": ["DE", "FR", "CH"],
    "first_item": eur(490),
    "additional_item": eur(100),
    "free_over": eur(50_000),
    "min_days": 1,
    "max_days": 3,
}
EXPRESS = {
    "method": "exp",
    "name": "Express",
    "countries": ["DE"],
    "first_item": eur(1_500),
    "additional_item": eur(0),
    "min_days": 0,
    "max_days": 1,
}
LEAD_DAYS = 2


def taxed_seller(world: World, m: Market) -> tuple[str, str]:
    """Rhine, a German seller with a grid, offering a valve (standard) and a manual
    (reduced) at 50.00 each."""
    world.ok(
        "PUT",
        "/v1/reseller/tax-profile",
        m.rhine,
        json={
            "legal_name": "Rhine Supply GmbH",
            "country": "DE",
            "vat_id": "DE136695976",
            "address": HAMBURG,
        },
    )
    world.ok("PUT", "/v1/reseller/shipping-rates", m.rhine, json={"rates": [PARCEL, EXPRESS]})
    valve = world.product(m.acme, "VALVE", 5_000)
    manual = world.product(m.acme, "MANUAL", 5_000, tax_category="reduced")
    for product_id in (valve, manual):
        world.offer(m.rhine, product_id, 5_000, lead_time_days=LEAD_DAYS)
    world.terms(m.rhine, m.muster)
    return valve, manual


def buyer_profile(world: World, buyer: Actor, address: dict[str, str], vat_id: str | None) -> None:
    body = {"legal_name": "Muster", "country": address["country"], "address": address}
    world.ok("PUT", "/v1/buyer/tax-profile", buyer, json={**body, "vat_id": vat_id})


def place(world: World, buyer: Actor, lines: list[tuple[str, int]], **more: Any) -> Any:
    body = {
        "lines": [{"product_id": p, "quantity": q} for p, q in lines],
        "payment_method": "card",
        **more,
    }
    return world.call("POST", "/v1/buyer/orders", buyer, json=body)


def _group(code: str, rate: int, taxable: int, tax: int, note: str | None = None) -> Any:
    return {
        "category": code,
        "rate_bps": rate,
        "taxable": eur(taxable),
        "tax": eur(tax),
        "exemption_note": note,
    }


def test_a_domestic_order_is_taxed_at_the_sellers_rates_with_shipping_following_the_goods(
    world: World,
) -> None:
    m = small_market(world)
    valve, manual = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
    answer = place(world, m.muster, [(valve, 2), (manual, 1)])
    assert answer.status_code == 201, answer.text
    so = answer.json()["seller_orders"][0]
    # Parcel, the cheapest to DE: 4.90 + 2 x 1.00 = 6.90, shared 100 : 50 over the groups.
    today = date.today()
    assert so["shipping"] == {
        "method": "std",
        "name": "Parcel",
        "amount": eur(690),
        "earliest_delivery_on": (today + timedelta(days=LEAD_DAYS + 1)).isoformat(),
        "latest_delivery_on": (today + timedelta(days=LEAD_DAYS + 3)).isoformat(),
    }
    # 19 %: 100.00 + 4.60 = 104.60 -> 19.874 -> 19.87; 7 %: 50.00 + 2.30 -> 3.661 -> 3.66.
    assert so["tax_breakdown"] == [_group("S", 1900, 10_460, 1_987), _group("S", 700, 5_230, 366)]
    assert (so["net_total"], so["tax_total"], so["gross_total"]) == (
        eur(15_690),
        eur(2_353),
        eur(18_043),
    )
    taxes = {
        line["product_id"]: (line["tax_category"], line["tax_rate_bps"]) for line in so["lines"]
    }
    assert taxes == {valve: ("standard", 1900), manual: ("reduced", 700)}
    order = answer.json()
    # `total` keeps its meaning: the goods, net.
    assert order["total"] == [eur(15_000)]
    assert (order["net_total"], order["tax_total"], order["gross_total"]) == (
        [eur(15_690)],
        [eur(2_353)],
        [eur(18_043)],
    )
    again = world.ok("GET", f"/v1/buyer/orders/{order['order_id']}", m.muster)
    assert again["seller_orders"][0]["tax_breakdown"] == so["tax_breakdown"]
    # The lists read the same figures from the orders view.
    [listed] = world.view("/v1/buyer/orders", m.muster).json()["items"]
    assert (listed["net_total"], listed["gross_total"]) == ([eur(15_690)], [eur(18_043)])
    [row] = world.view("/v1/reseller/orders", m.rhine).json()["items"]
    assert (row["shipping"]["amount"], row["tax_total"]) == (eur(690), eur(2_353))


def test_an_eu_buyer_with_a_valid_vat_id_gets_an_intra_community_supply(world: World) -> None:
    m = small_market(world)
    valve, manual = taxed_seller(world, m)
    buyer_profile(world, m.muster, LYON, "FR40303265045")
    so = place(world, m.muster, [(valve, 1), (manual, 1)]).json()["seller_orders"][0]
    # Parcel to FR: 4.90 + 1.00 = 5.90, exempt like the goods it follows.
    note = "Intra-community supply"
    assert so["tax_breakdown"] == [_group("K", 0, 10_590, 0, note)]
    assert (so["tax_total"], so["gross_total"]) == (eur(0), eur(10_590))


def test_an_eu_buyer_without_a_vat_id_pays_the_destinations_rates(world: World) -> None:
    m = small_market(world)
    valve, manual = taxed_seller(world, m)
    buyer_profile(world, m.muster, LYON, None)
    so = place(world, m.muster, [(valve, 1), (manual, 1)]).json()["seller_orders"][0]
    # 5.90 shared 50 : 50 -> 2.95 each; FR 20 %: 52.95 -> 10.59; FR 5.5 %: 2.91225 -> 2.91.
    assert so["tax_breakdown"] == [_group("S", 2000, 5_295, 1_059), _group("S", 550, 5_295, 291)]
    assert so["gross_total"] == eur(10_590 + 1_059 + 291)


def test_a_shipment_outside_the_eu_is_an_export(world: World) -> None:
    m = small_market(world)
    valve, _ = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
    # The shipping address wins over the profile's: the goods go to Basel.
    placed = place(world, m.muster, [(valve, 1)], shipping_address=BASEL)
    so = placed.json()["seller_orders"][0]
    assert so["tax_breakdown"] == [_group("G", 0, 5_490, 0, "Export outside the EU")]


def test_a_country_or_method_the_grid_does_not_serve_is_refused_and_nothing_is_placed(
    world: World,
) -> None:
    m = small_market(world)
    valve, _ = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
    usa = {**BASEL, "country": "US"}
    refused = place(world, m.muster, [(valve, 1)], shipping_address=usa)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == "Rhine Supply does not ship to US"
    lyon = {**LYON}
    express = {m.rhine.id: "exp"}
    refused = place(world, m.muster, [(valve, 1)], shipping_address=lyon, shipping_methods=express)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == "Rhine Supply has no shipping method exp to FR"
    assert world.ok("GET", "/v1/buyer/orders", m.muster)["items"] == []
    [item] = [i for i in world.catalog(m.muster) if i["product_id"] == valve]
    assert item["offers"][0]["stock"] == 100


def test_the_buyer_picks_a_method_and_free_shipping_starts_at_the_threshold(
    world: World,
) -> None:
    m = small_market(world)
    valve, _ = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
    express = place(world, m.muster, [(valve, 3)], shipping_methods={m.rhine.id: "exp"})
    so = express.json()["seller_orders"][0]
    assert (so["shipping"]["method"], so["shipping"]["amount"]) == ("exp", eur(1_500))
    # 10 x 50.00 = 500.00 reaches free_over: the parcel costs nothing.
    free = place(world, m.muster, [(valve, 10)]).json()["seller_orders"][0]
    assert (free["shipping"]["method"], free["shipping"]["amount"]) == ("std", eur(0))
    assert free["tax_breakdown"] == [_group("S", 1900, 50_000, 9_500)]


def test_a_seller_with_no_profile_and_no_grid_charges_as_before(world: World) -> None:
    m = small_market(world)
    valve = world.product(m.acme, "VALVE", 5_000)
    world.offer(m.danube, valve, 4_000)
    world.terms(m.danube, m.muster)
    buyer_profile(world, m.muster, LYON, None)
    so = place(world, m.muster, [(valve, 2)]).json()["seller_orders"][0]
    assert so["shipping"] is None
    assert so["tax_breakdown"] == []
    assert (so["total"], so["net_total"], so["tax_total"], so["gross_total"]) == (
        eur(8_000),
        eur(8_000),
        eur(0),
        eur(8_000),
    )
    assert so["lines"][0]["tax_category"] is None


def test_credit_is_held_on_the_gross_while_the_spending_limit_reads_the_net(
    world: World,
) -> None:
    m = small_market(world)
    valve, _ = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
    world.terms(m.rhine, m.muster, credit_limit=6_000)
    # 50.00 + 4.90 shipping = 54.90 net, + 10.43 tax = 65.33 gross: over the 60.00 limit.
    over = place(world, m.muster, [(valve, 1)], payment_method="invoice_net_30")
    assert over.status_code == 402, over.text
    world.terms(m.rhine, m.muster, credit_limit=6_533)
    clerk = world.user(m.muster, "buyer", spending_limit=5_000)
    placed = place(world, clerk, [(valve, 1)], payment_method="invoice_net_30")
    assert placed.status_code == 201, placed.text
    # The clerk's limit of 50.00 covers the goods' 50.00 net: no approval is needed.
    assert placed.json()["status"] == "placed"
    assert placed.json()["gross_total"] == [eur(6_533)]


def test_invoices_per_shipment_add_up_to_the_gross_and_a_return_credits_its_tax(
    world: World,
) -> None:
    m = small_market(world)
    valve, manual = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
    world.ok(
        "PUT",
        f"/v1/operator/resellers/{m.rhine.id}/commission",
        world.operator,
        json={"rate_bps": 1000},
    )
    world.terms(m.rhine, m.muster, credit_limit=100_000)
    placed = place(world, m.muster, [(valve, 2), (manual, 1)], payment_method="invoice_net_30")
    so_id = placed.json()["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so_id}/accept", m.rhine)
    world.ok(
        "POST",
        f"/v1/reseller/orders/{so_id}/ship",
        m.rhine,
        json={"lines": [{"product_id": valve, "quantity": 1}]},
    )
    world.ok("POST", f"/v1/reseller/orders/{so_id}/ship", m.rhine, json={})
    found = world.view("/v1/buyer/invoices", m.muster).json()["items"]
    first, second = sorted(found, key=lambda i: i["number"])
    # The first carries the whole shipping, shared 100 : 50 as on the order: 19 %: 50.00 +
    # 4.60 -> 10.374 -> 10.37; 7 %: 2.30 -> 0.161 -> 0.16.
    assert first["shipping"]["amount"] == eur(690)
    assert first["tax_breakdown"] == [_group("S", 1900, 5_460, 1_037), _group("S", 700, 230, 16)]
    assert (first["net_total"], first["gross_total"], first["total"]) == (
        eur(5_690),
        eur(6_743),
        eur(6_743),
    )
    assert first["seller"]["vat_id"] == "DE136695976"
    assert first["buyer"]["legal_name"] == "Muster"
    assert second["shipping"] is None
    assert second["tax_breakdown"] == [_group("S", 1900, 5_000, 950), _group("S", 700, 5_000, 350)]
    # Per seller order, what is invoiced gross is its gross.
    assert first["gross_total"]["amount"] + second["gross_total"]["amount"] == 18_043
    so = world.ok("GET", f"/v1/buyer/orders/{placed.json()['order_id']}", m.muster)
    assert so["gross_total"] == [eur(18_043)]
    [row] = world.view("/v1/reseller/orders", m.rhine).json()["items"]
    assert row["gross_total"] == so["seller_orders"][0]["gross_total"]

    # The buyer pays both: what is owed is gross.
    world.ok(
        "POST",
        "/v1/operator/payments",
        world.operator,
        json={
            "buyer_id": m.muster.id,
            "amount": eur(18_043),
            "reference": "BANK-1",
            "received_on": date.today().isoformat(),
        },
    )
    paid = world.view("/v1/buyer/invoices", m.muster, status="paid").json()["items"]
    assert len(paid) == 2

    # The manual comes back: its credit note gives back 50.00 and its 7 %.
    asked = world.ok(
        "POST",
        "/v1/buyer/returns",
        m.muster,
        json={
            "seller_order_id": so_id,
            "lines": [{"product_id": manual, "quantity": 1}],
            "reason": "not needed",
        },
    )
    accepted = world.ok(
        "POST", f"/v1/reseller/returns/{asked['return_id']}/accept", m.rhine, json={}
    )
    assert accepted["credit_note"]["amount"] == eur(5_350)
    note_id = accepted["credit_note"]["credit_note_id"]
    note = world.view(f"/v1/buyer/credit-notes/{note_id}", m.muster).json()
    assert note["tax_breakdown"] == [_group("S", 700, 5_000, 350)]
    assert (note["net_total"], note["tax_total"], note["gross_total"]) == (
        eur(5_000),
        eur(350),
        eur(5_350),
    )
    # It corrects the second invoice, the one the manual was shipped on, and names both.
    assert note["invoice_ids"] == [second["invoice_id"]]
    assert (note["seller"]["vat_id"], note["buyer"]["legal_name"]) == ("DE136695976", "Muster")
    assert note["lines"][0]["tax_category"] == "reduced"
    assert world.view(f"/v1/reseller/credit-notes/{note_id}", m.rhine).json() == note
    # Both documents as PDFs a person reads: the parties' VAT IDs, each line's rate, the
    # shipping, the breakdown and the totals.
    invoice_text = _pdf_text(world, f"/v1/buyer/invoices/{first['invoice_id']}", m.muster)
    for shown in (
        "VAT ID DE136695976",
        "19 %",
        "7 %",
        "Shipping: Parcel",
        "VAT S 19 % on 54.60 EUR",
        "10.37 EUR",
        "67.43 EUR",
    ):
        assert shown in invoice_text, shown
    note_text = _pdf_text(world, f"/v1/reseller/credit-notes/{note_id}", m.rhine)
    assert "Credit note No." in note_text
    assert "53.50 EUR" in note_text
    assert world.view(f"/v1/reseller/credit-notes/{note_id}", m.danube).status_code == 404
    assert world.view(f"/v1/buyer/credit-notes/{note_id}", m.bolt).status_code == 404
    assert world.ok("GET", "/v1/buyer/credit", m.muster)["credit_balance"] == [eur(5_350)]

    # The payout: paid gross, less 10 % commission on the goods only (150.00 -> 15.00 ...
    # 5.00 + 10.00), less the credit note, whose commission (on its 50.00) is reversed.
    # The operator, in Germany too, charges its commission with 19 % on a commission invoice.
    world.ok(
        "PUT",
        "/v1/operator/tax-profile",
        world.operator,
        json={"legal_name": "Marketplace GmbH", "country": "DE", "address": HAMBURG},
    )
    payout = pay_out(world, m.rhine)
    commission = 500 + 1_000 - 500
    assert payout["commission_tax"] == eur(190)
    assert payout["amount"] == eur(18_043 - commission - 190 - 5_350)
    invoice = world.ok(
        "GET", f"/v1/reseller/commission-invoices/{payout['commission_invoice_id']}", m.rhine
    )
    assert (invoice["net_total"], invoice["tax_total"], invoice["gross_total"]) == (
        eur(1_000),
        eur(190),
        eur(1_190),
    )
    assert invoice["tax_breakdown"] == [_group("S", 1900, 1_000, 190)]
    listed = world.view("/v1/operator/commission-invoices", world.operator).json()["items"]
    assert [i["payout_id"] for i in listed] == [payout["payout_id"]]
    assert world.view("/v1/reseller/commission-invoices", m.danube).json()["items"] == []


def _pdf_text(world: World, path: str, actor: Actor) -> str:
    answer = world.call(
        "GET",
        path,
        actor,
        headers={"Accept": "application/pdf"},
        params={"min_position": world.position},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.content))
    return " ".join(page.extract_text() for page in reader.pages)


def pay_out(world: World, seller: Actor) -> Any:
    cycle = world.ok(
        "POST", "/v1/operator/payouts", world.operator, json={"up_to": date.today().isoformat()}
    )
    [payout] = [p for p in cycle["payouts"] if p["reseller_id"] == seller.id]
    return payout


def test_a_seller_in_another_member_state_gets_its_commission_reverse_charged(
    world: World,
) -> None:
    m = small_market(world)
    valve, _ = taxed_seller(world, m)
    buyer_profile(world, m.muster, HAMBURG, None)
    world.ok(
        "PUT",
        f"/v1/operator/resellers/{m.rhine.id}/commission",
        world.operator,
        json={"rate_bps": 1000},
    )
    amsterdam = {"line1": "Damrak 1", "postcode": "1012", "city": "Amsterdam", "country": "NL"}
    world.ok(
        "PUT",
        "/v1/operator/tax-profile",
        world.operator,
        json={
            "legal_name": "Marketplace BV",
            "country": "NL",
            "vat_id": "NL004495445B01",
            "address": amsterdam,
        },
    )
    placed = place(world, m.muster, [(valve, 2)]).json()
    so_id = placed["seller_orders"][0]["seller_order_id"]
    world.ok("POST", f"/v1/reseller/orders/{so_id}/accept", m.rhine)
    world.ok("POST", f"/v1/reseller/orders/{so_id}/ship", m.rhine, json={})
    # Paid by card at the invoice: 100.00 + 5.90 shipping + 19 % = 126.02; commission 10.00.
    payout = pay_out(world, m.rhine)
    assert payout["commission_tax"] == eur(0)
    assert payout["amount"] == eur(12_602 - 1_000)
    invoice = world.ok(
        "GET",
        f"/v1/operator/commission-invoices/{payout['commission_invoice_id']}",
        world.operator,
    )
    assert invoice["tax_breakdown"] == [_group("AE", 0, 1_000, 0, "Reverse charge")]
    assert invoice["seller"]["vat_id"] == "DE136695976"
