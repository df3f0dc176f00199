"""What the browser tests share: headless Chromium driven by Playwright, a real server
holding the demo world in both runtime modes (SQLite and PostgreSQL), and the checks every
page gets: axe-core finds no serious or critical violation, and no script or asset fails.
With MARKETPLACE_SCREENSHOTS=1 the tests also write their screenshots under docs/.
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


# Pages render the same whatever the store: the browser runs on the embedded mode, and the
# stores are tested below the pages.
@pytest.fixture(scope="module", params=["sqlite"])
def site(
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
            self.page.screenshot(path=DOCS / f"{shot}.png", full_page=True, caret="initial")


@pytest.fixture
def tab(page: Page, site: Demo, axe_source: str) -> Pages:
    return Pages(page, site, axe_source)


def another_tab(browser: Browser, world: Demo, axe: str, **context: Any) -> Pages:
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
    typed = page.get_by_label("A new address:")
    if typed.count():
        typed.check()
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
