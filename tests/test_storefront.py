"""The storefront in a real browser: headless Chromium driven by Playwright, against a real
server holding the demo world, in both runtime modes (SQLite and PostgreSQL).

Every page visited is checked with axe-core; no serious or critical violation may remain.
With MARKETPLACE_SCREENSHOTS=1 the tests also write the screenshots, docs/storefront-*.png.
"""

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from bench.server import serve_app
from marketplace import demo
from marketplace.adapters.settings import Settings
from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from projections.catalog_view import CatalogFilter
from tests.services import ensure_postgres

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / ".venv" / "axe"
DOCS = ROOT / "docs"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from npm, installed beside the virtual environment on first use."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to fetch axe-core for the accessibility checks"
        subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--silent",
                "--prefix",
                str(AXE_DIR),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
        )
    return script.read_text()


@dataclass
class Demo:
    base: str
    market: Marketplace
    mode: str

    def person(self, org: str, role: str | None = None) -> tuple[str, str]:
        email = demo.demo_email(org, role)
        return email, demo.demo_password(self.market, email)

    def settle(self) -> None:
        """Lets the views take in what another person just did (a browser's own changes
        the pages wait for themselves)."""
        for view in self.market.projections.names:
            assert self.market.projections.wait(view, self.market.heads(), 10, deliver=True)

    def buyer_id(self, org: str) -> str:
        person = self.market.people.find(demo.demo_email(org, "admin"))
        assert person is not None
        return str(person.account_id)

    def product(self, org: str, fits: Any, taken: set[str]) -> dict[str, Any]:
        """A product of a demo buyer's catalog whose offers `fits` accepts, not used before
        by another test (they share the demo world and its stock)."""
        cursor = None
        while True:
            items, cursor = self.market.catalog.page(
                self.buyer_id(org), CatalogFilter(), 200, cursor
            )
            for item in items:
                if item["sku"] not in taken and fits(item["offers"]):
                    taken.add(item["sku"])
                    return item
            assert cursor, "no demo product fits"


TAKEN: set[str] = set()


def _settings(mode: str, tmp: Path, schema: str) -> Settings:
    if mode == "sqlite":
        return Settings(database_url=f"sqlite:///{tmp}/storefront.db", kafka_bootstrap=None)
    return Settings(database_url=ensure_postgres(), database_schema=schema, kafka_bootstrap=None)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    settings = _settings(request.param, tmp_path_factory.mktemp("storefront"), schema)
    market = Marketplace(settings)
    demo.load(market)
    TAKEN.clear()
    try:
        with serve_app(create_app(market)) as base:
            yield Demo(base, market, request.param)
    finally:
        market.close()
        if request.param == "postgres":
            with psycopg.connect(settings.database_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


class Pages:
    """One browser tab, with the checks every page gets."""

    def __init__(self, page: Page, world: Demo, axe: str) -> None:
        self.page = page
        self.world = world
        self.axe = axe
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        # A refused form answers 4xx on purpose; a missing script, style or icon does not.
        page.on(
            "response",
            lambda r: (
                self.errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def go(self, path: str) -> Page:
        self.page.goto(self.world.base + path)
        return self.page

    def sign_in(self, email: str, password: str) -> None:
        self.go("/sign-in")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def check(self, shot: str | None = None) -> None:
        """No serious or critical axe-core violation, no script error; and, when asked, the
        screenshot for the docs."""
        self.page.evaluate(self.axe)
        found = self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target).join(" ")})`)"""
        )
        assert found == [], f"{self.page.url}: {found}"
        assert self.errors == [], f"{self.page.url}: {self.errors}"
        if shot and os.environ.get("MARKETPLACE_SCREENSHOTS") and self.world.mode == "sqlite":
            # caret="initial": hiding the caret injects a style, which the CSP refuses.
            self.page.screenshot(
                path=DOCS / f"storefront-{shot}.png", full_page=True, caret="initial"
            )


@pytest.fixture
def tab(page: Page, world: Demo, axe_source: str) -> Pages:
    return Pages(page, world, axe_source)


def _another_tab(browser: Browser, world: Demo, axe: str, **context: Any) -> Pages:
    return Pages(browser.new_context(**context).new_page(), world, axe)


def only_from(seller: str, stock: int, most: int) -> Any:
    def fits(offers: list[dict[str, Any]]) -> bool:
        return (
            len(offers) == 1
            and offers[0]["reseller_name"] == seller
            and offers[0]["stock"] >= stock
            and offers[0]["min_order_qty"] == 1
            and offers[0]["unit_price"]["amount"] <= most
        )

    return fits


def checkout(tab: Pages, shot: str | None = None) -> str:
    """Fills the checkout form with the first payment method and places the order; returns
    the order's id from the page it lands on."""
    page = tab.go("/checkout")
    tab.check(shot)
    page.get_by_label("PO number").fill("PO-4711")
    for label, value in (
        ("Company or person", "Muster GmbH, Goods in"),
        ("Street and number", "Hafenstrasse 1"),
        ("Postcode", "20457"),
        ("City", "Hamburg"),
        ("Country", "DE"),
    ):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_text("Your order was placed.")).to_be_visible()
    return page.url.split("/orders/")[1].split("?")[0]


def test_a_buyer_searches_filters_adds_and_checks_out_across_two_resellers(
    tab: Pages, world: Demo
) -> None:
    rhine = world.product("Muster GmbH", only_from("Rhine Supply", 5, 30_000), TAKEN)
    euro = world.product("Muster GmbH", only_from("EuroDist", 5, 30_000), TAKEN)
    tab.sign_in(*world.person("Muster GmbH", "buyer"))
    page = tab.page
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    tab.check("catalog")

    page.get_by_label("Search").fill(rhine["sku"])
    expect(page.get_by_role("link", name=rhine["name"])).to_be_visible()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.get_by_label("Brand").fill(rhine["brand"])
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{world.base}/catalog?q={rhine['sku']}&brand={rhine['brand']}")
    page.reload()  # a filtered page is a bookmark: the filters come back from the URL
    expect(page.get_by_label("Brand")).to_have_value(rhine["brand"])
    expect(page.locator("#results tbody tr")).to_have_count(1)

    page.get_by_role("link", name=rhine["name"]).click()
    expect(page.get_by_role("heading", name=rhine["name"])).to_be_visible()
    tab.check("product")
    page.get_by_label("Quantity").first.fill("0")
    page.get_by_role("button", name="Add to cart, best offer").click()
    expect(page.get_by_text("Enter a whole number of at least 1.")).to_be_visible()
    page.locator("#qty-best").fill("2")
    page.get_by_role("button", name="Add to cart, best offer").click()
    expect(page.get_by_text("Added 2 to your cart.")).to_be_visible()

    page = tab.go("/quick-order")
    page.get_by_label("Lines of SKU, quantity").fill(
        f"{euro['sku']}, 1\nNO-SUCH-SKU, 3\n{euro['sku']}; 2\n"
    )
    page.get_by_role("button", name="Check the lines").click()
    expect(page.get_by_text("Unknown SKU")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows.first).to_contain_text(euro["sku"])
    expect(rows.first).to_contain_text("3")  # the same SKU twice is summed
    tab.check("quick-order")
    page.get_by_role("button", name="Add the 1 ready line to the cart").click()

    expect(page).to_have_url(world.base + "/cart")
    expect(page.get_by_role("heading", name="To Rhine Supply")).to_be_visible()
    expect(page.get_by_role("heading", name="To EuroDist")).to_be_visible()
    tab.check("cart")

    order_id = checkout(tab, "checkout")
    page = tab.page
    expect(page.get_by_role("heading", name="Split into 2 seller orders")).to_be_visible()
    expect(page.get_by_text("Placed by").locator("..")).to_contain_text("Muster GmbH buyer")
    tab.check("order")
    page = tab.go("/orders")
    expect(page.get_by_role("link", name=order_id[:8])).to_be_visible()
    tab.check("orders")
    placed = world.market.orders.describe(world.market.orders.order(uuid.UUID(order_id)))
    assert {so["reseller_id"] for so in placed["seller_orders"]} == {
        rhine["offers"][0]["reseller_id"],
        euro["offers"][0]["reseller_id"],
    }
    assert sorted(ln["quantity"] for so in placed["seller_orders"] for ln in so["lines"]) == [2, 3]


def test_an_order_over_the_spending_limit_is_approved_in_the_inbox(
    tab: Pages, world: Demo, browser: Browser, axe_source: str
) -> None:
    item = world.product(
        "Muster GmbH",
        lambda offers: offers[0]["stock"] >= 40 and offers[0]["unit_price"]["amount"] >= 5_000,
        TAKEN,
    )
    tab.sign_in(*world.person("Muster GmbH", "buyer"))
    page = tab.go("/quick-order")
    page.get_by_label("Lines of SKU, quantity").fill(f"{item['sku']}, 30")
    page.get_by_role("button", name="Check the lines").click()
    page.get_by_role("button", name="Add the 1 ready line to the cart").click()
    order_id = checkout(tab)
    expect(tab.page.get_by_text("pending approval").first).to_be_visible()

    world.settle()
    approver = _another_tab(browser, world, axe_source)
    approver.sign_in(*world.person("Muster GmbH", "approver"))
    page = approver.go("/approvals")
    row = page.get_by_role("row").filter(has_text=order_id[:8])
    expect(row).to_be_visible()
    approver.check("approvals")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_text("1 order(s) approved.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=order_id[:8])).to_have_count(0)
    assert (
        world.market.orders.describe(world.market.orders.order(uuid.UUID(order_id)))["status"]
        == "placed"
    )


def test_an_admin_invites_a_colleague_who_sets_a_password_and_signs_in(
    tab: Pages, world: Demo, browser: Browser, axe_source: str
) -> None:
    tab.sign_in(*world.person("Muster GmbH", "admin"))
    page = tab.go("/users")
    email = f"new.{world.mode}@muster-gmbh.example"
    page.get_by_label("Name", exact=True).fill("Nina Neu")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Role", exact=True).select_option("buyer")
    page.get_by_label("Spending limit per order").fill("750.00")
    page.get_by_role("button", name="Invite").click()
    link = page.locator("#invitation-link").get_attribute("href")
    assert link
    assert "/invitations/" in link
    expect(page.get_by_role("row").filter(has_text=email)).to_contain_text("invited")
    tab.check("users")

    invitee = _another_tab(browser, world, axe_source)
    page = invitee.go(link[link.index("/invitations/") :])
    expect(page.get_by_text(email)).to_be_visible()
    invitee.check("invitation")
    page.get_by_label("New password", exact=True).fill("a long enough password")
    page.get_by_label("New password, again").fill("a long enough password")
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    invitee.sign_in(email, "a long enough password")
    page = tab.go("/users")
    expect(page.get_by_role("row").filter(has_text=email)).to_contain_text("active")


def test_a_sales_rep_orders_for_an_assigned_account_and_the_buyer_sees_who(
    tab: Pages, world: Demo, browser: Browser, axe_source: str
) -> None:
    item = world.product("Muster GmbH", only_from("EuroDist", 5, 30_000), TAKEN)
    tab.sign_in(*world.person("EuroDist", "erika"))
    page = tab.page
    expect(page.get_by_role("heading", name="Accounts assigned to Erika")).to_be_visible()
    tab.check("accounts")
    page.get_by_role("button", name="Order for Muster GmbH").click()
    expect(page.get_by_role("status").filter(has_text="on behalf of")).to_contain_text(
        "Muster GmbH"
    )
    page.get_by_label("Search").fill(item["sku"])
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).not_to_contain_text("Rhine Supply")
    tab.check("catalog-sales-rep")
    page.get_by_role("button", name=f"Add {item['name']} to the cart").click()
    order_id = checkout(tab)
    expect(tab.page.get_by_text("Placed by").locator("..")).to_contain_text("Erika")

    world.settle()
    buyer = _another_tab(browser, world, axe_source)
    buyer.sign_in(*world.person("Muster GmbH", "buyer"))
    page = buyer.go("/orders")
    row = page.get_by_role("row").filter(has_text=order_id[:8])
    expect(row).to_contain_text("Erika")
    expect(row).to_contain_text("sales rep, on your behalf")


def test_another_companys_order_is_not_found_and_a_form_without_its_token_is_refused(
    tab: Pages, world: Demo, browser: Browser, axe_source: str
) -> None:
    item = world.product("Muster GmbH", only_from("Rhine Supply", 2, 30_000), TAKEN)
    tab.sign_in(*world.person("Muster GmbH", "admin"))
    page = tab.go(f"/products/{item['product_id']}")
    page.locator("#qty-best").fill("1")
    page.get_by_role("button", name="Add to cart, best offer").click()
    order_id = checkout(tab)

    other = _another_tab(browser, world, axe_source)
    other.sign_in(*world.person("Bolt Works Ltd", "admin"))
    answer = other.page.goto(f"{world.base}/orders/{order_id}")
    assert answer is not None
    assert answer.status == 404
    expect(other.page.get_by_role("heading", name="Not found")).to_be_visible()
    other.check()
    forged = other.page.request.post(
        f"{world.base}/cart/lines",
        form={"product_id": item["product_id"], "quantity": "5"},
    )
    assert forged.status == 403
    assert "did not come from this page" in forged.text()
    bolt = world.market.people.find(world.person("Bolt Works Ltd", "admin")[0])
    assert bolt is not None
    assert world.market.carts.lines(str(bolt.id), str(bolt.account_id)) == []


def test_sign_in_by_keyboard_alone_and_pages_fit_a_phone(
    world: Demo, browser: Browser, axe_source: str
) -> None:
    phone = _another_tab(browser, world, axe_source, viewport=PHONE)
    page = phone.go("/sign-in")
    email, password = world.person("Paper Palace SARL", "buyer")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    phone.check("catalog-phone")
    for path in ("/catalog", "/quick-order", "/cart", "/orders", "/sign-in"):
        phone.go(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is wider than a phone by {overflow} px"
