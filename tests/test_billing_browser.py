"""Money after the order in a real browser (see tests/browsing.py), on the demo world's
history: a buyer reads its invoices and credit and asks for a return, the seller accepts it
and reads its invoices, receivables and payouts, the operator records and imports payments
and runs a payout cycle; in both runtime modes."""

import re

from playwright.sync_api import expect

from marketplace import demo
from tests.browsing import Demo, Pages


def test_a_buyer_reads_invoices_and_credit_downloads_a_pdf_and_asks_for_a_return(
    tab: Pages, site: Demo
) -> None:
    tab.sign_in(*site.person("Muster GmbH", "admin"))
    page = tab.go("/invoices")
    expect(page.get_by_role("heading", name="Invoices of Muster GmbH")).to_be_visible()
    tab.check("storefront-invoices")
    with page.expect_download() as download:
        page.get_by_role("link", name="Invoice 1 (PDF)").click()
    assert download.value.suggested_filename == "invoice-1.pdf"
    page.get_by_label("Status").select_option("open")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Invoice 1 (PDF)")).to_have_count(0)
    expect(page.get_by_role("link", name="Invoice 2 (PDF)")).to_be_visible()

    page = tab.go("/credit")
    row = page.get_by_role("row").filter(has_text="Rhine Supply")
    expect(row).to_contain_text("Open")
    tab.check("storefront-credit")

    page = tab.go("/orders?status=delivered")
    page.get_by_role("link").filter(has_text=re.compile(r"^[0-9a-f]{8}$")).first.click()
    page.get_by_text("Return goods from this delivery").click()
    page.get_by_label(re.compile("how many go back")).last.fill("1")
    page.get_by_label("Why").fill("The box was crushed")
    page.get_by_role("button", name="Ask for the return").click()
    expect(page.get_by_text(re.compile(r"Return [0-9a-f]{8} asked for"))).to_be_visible()
    expect(page.get_by_text("The box was crushed")).to_be_visible()
    tab.check("storefront-returns")


def test_the_seller_accepts_a_return_and_reads_invoices_receivables_and_payouts(
    tab: Pages, site: Demo
) -> None:
    tab.sign_in(*site.person("Rhine Supply"))
    page = tab.go("/reseller/returns")
    tab.check("backoffice-returns")
    page.get_by_role("button", name="Accept and credit").first.click()
    expect(page.get_by_text(re.compile(r"accepted: credit note \d+"))).to_be_visible()

    page = tab.go("/reseller/invoices")
    expect(page.get_by_role("heading", name="Invoices of Rhine Supply")).to_be_visible()
    tab.check("backoffice-invoices")
    page = tab.go("/reseller/receivables")
    expect(page.get_by_role("row").filter(has_text="Muster GmbH")).to_be_visible()
    tab.check("backoffice-receivables")
    page = tab.go("/reseller/payouts")
    page.get_by_role("link", name=re.compile("Statement")).first.click()
    expect(page.get_by_role("heading", name=re.compile("Payout statement"))).to_be_visible()
    expect(page.get_by_role("link", name="Export this statement as CSV")).to_be_visible()
    tab.check("backoffice-payout")


def test_the_operator_records_and_imports_payments_and_runs_a_payout_cycle(
    tab: Pages, site: Demo
) -> None:
    tab.sign_in(*site.person(demo.OPERATOR, "admin"))
    page = tab.go("/operator/payments")
    page.get_by_label("Buyer").select_option(label="Muster GmbH")
    page.get_by_label("Amount").fill("abc")
    page.get_by_label("Bank reference").fill("SEPA-77")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_text("Write a positive amount")).to_be_visible()
    tab.check()
    page.get_by_label("Amount").fill("25.00")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_text("Payment SEPA-77 recorded")).to_be_visible()
    tab.check("backoffice-payments")

    buyer = site.buyer_id("Muster GmbH")
    statement = (
        "buyer_id,amount,currency,reference,received_on,invoice_number\n"
        f"{buyer},1000,EUR,SEPA-78,2026-01-05,\n"
        f"{buyer},ten,EUR,SEPA-79,2026-01-05,\n"
    )
    page.get_by_role("link", name="import a bank statement").click()
    page.get_by_label("File").set_input_files(
        {"name": "statement.csv", "mimeType": "text/csv", "buffer": statement.encode()}
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("completed")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="amount must be")).to_be_visible()
    tab.check()

    page = tab.go("/operator/payouts")
    page.get_by_role("button", name="Run the payout cycle").click()
    expect(page.get_by_text(re.compile(r"Payout cycle up to .*payout\(s\) made"))).to_be_visible()
    tab.check("backoffice-payouts")
    page = tab.go("/operator/invoices?status=paid")
    expect(page.get_by_role("link", name="Invoice 1 (PDF)")).to_be_visible()
    tab.check()
