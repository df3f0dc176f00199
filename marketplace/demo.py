"""A small but real demo world, loaded through the application layer.

Its keys are derived from the marketplace's secret, so every start can print them again
though only their hashes are stored.
"""

import random
from dataclasses import dataclass
from functools import partial
from uuid import UUID

from marketplace.buyers.domain import Role
from marketplace.kernel.keys import KeyContext, mint
from marketplace.kernel.money import Money
from marketplace.people.application import NewPerson
from marketplace.platform import Marketplace
from marketplace.taxes.profiles import OPERATOR as OPERATOR_ID
from offers.application import CustomerTermsDetails, OfferDetails, ProductDetails
from offers.pricing import Tier
from offers.shipping import ShippingRate
from orders.billing.payments import PaymentIn
from orders.choosing import LineRequest
from projections.catalog_view import CatalogFilter
from sellers.domain import ResellerKind

PRODUCTS_PER_MANUFACTURER = 150
MANUFACTURERS = {
    "Acme Industrial": ("DE", "ACME", ["Acme", "AcmePro"], ["fasteners", "power-tools", "safety"]),
    "Nordic Office": ("SE", "NORD", ["Nordic", "Fjord"], ["paper", "furniture", "ink"]),
}
RESELLERS: dict[str, tuple[ResellerKind, str]] = {
    "Rhine Supply": ("reseller", "DE"),
    "EuroDist": ("distributor", "NL"),
    "BulkHouse": ("wholesaler", "FR"),
}
# manufacturer -> reseller -> (brands, categories); None authorizes all
AUTHORIZATIONS: dict[str, dict[str, tuple[list[str] | None, list[str] | None]]] = {
    "Acme Industrial": {"Rhine Supply": (None, None), "EuroDist": (["Acme"], None)},
    "Nordic Office": {"EuroDist": (None, None), "BulkHouse": (None, ["paper", "ink"])},
}
OPERATOR = "Marketplace Operator"
BUYERS = {
    "Muster GmbH": ("DE123456789", "DE"),
    "Bolt Works Ltd": ("GB987654321", "GB"),
    "Paper Palace SARL": ("FR11223344556", "FR"),
}
NOUNS = {
    "fasteners": ["Hex Bolt", "Wood Screw", "Anchor", "Washer", "Rivet"],
    "power-tools": ["Drill", "Angle Grinder", "Impact Driver", "Jigsaw", "Sander"],
    "safety": ["Helmet", "Gloves", "Goggles", "Ear Defenders", "Hi-Vis Vest"],
    "paper": ["Copy Paper A4", "Notebook", "Envelope C5", "Sticky Notes", "Flipchart Pad"],
    "furniture": ["Desk", "Office Chair", "Filing Cabinet", "Shelf", "Monitor Arm"],
    "ink": ["Toner Black", "Ink Cyan", "Ink Magenta", "Ink Yellow", "Toner Colour Set"],
}


@dataclass
class DemoKey:
    who: str
    role: str
    key: str
    email: str = ""
    password: str = ""


def _key(marketplace: Marketplace, context: KeyContext, name: str) -> str:
    return mint(context, marketplace.secret, f"demo:{name}")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def demo_email(name: str, role: str | None = None) -> str:
    """Each demo person's email: a role at the organisation's own example domain."""
    return f"{role or 'team'}@{_slug(name)}.example"


def demo_password(marketplace: Marketplace, email: str) -> str:
    """Derived from the secret, like the keys, so every start can print it again."""
    return "demo-" + mint("s", marketplace.secret, f"demo-password:{email}")[5:21]


def _person(marketplace: Marketplace, name: str, role: str | None, who: str) -> NewPerson:
    email = demo_email(name, role)
    return NewPerson(email, who, demo_password(marketplace, email))


def demo_keys(marketplace: Marketplace) -> list[DemoKey]:
    shown = (
        marketplace.operator_key
        if marketplace.operator_key_generated
        else "(not shown: printed when it was generated)"
    )

    def signs_in(name: str, role: str | None = None) -> dict[str, str]:
        email = demo_email(name, role)
        return {"email": email, "password": demo_password(marketplace, email)}

    keys = [DemoKey("operator", "operator", shown, **signs_in(OPERATOR, "admin"))]
    keys += [
        DemoKey(n, "manufacturer", _key(marketplace, "s", n), **signs_in(n)) for n in MANUFACTURERS
    ]
    keys += [
        DemoKey(n, RESELLERS[n][0], _key(marketplace, "s", n), **signs_in(n)) for n in RESELLERS
    ]
    keys.append(
        DemoKey(
            "Erika (EuroDist)",
            "sales rep",
            _key(marketplace, "s", "rep"),
            **signs_in("EuroDist", "erika"),
        )
    )
    for buyer in BUYERS:
        for role in ("admin", "approver", "buyer"):
            keys.append(
                DemoKey(
                    buyer, role, _key(marketplace, "b", f"{buyer}:{role}"), **signs_in(buyer, role)
                )
            )
    return keys


def is_loaded(marketplace: Marketplace) -> bool:
    with marketplace.db.transaction() as cur:
        cur.execute("SELECT value FROM marketplace_meta WHERE key = 'demo'")
        return cur.fetchone() is not None


def load(marketplace: Marketplace, seed: int = 7) -> None:
    if is_loaded(marketplace):
        return
    rng = random.Random(seed)
    sellers, offers, buyers = marketplace.sellers, marketplace.offers, marketplace.buyers

    people = marketplace.people
    sellers.add_people(
        None,
        people.drafting(
            _person(marketplace, OPERATOR, "admin", "Olga (operator)"), "operator", "admin"
        ),
    )
    manufacturers: dict[str, UUID] = {}
    for name, (country, _, _, _) in MANUFACTURERS.items():
        manufacturers[name] = sellers.register_manufacturer(
            name,
            country,
            _key(marketplace, "s", name),
            people.drafting(_person(marketplace, name, None, name), "manufacturer", "admin"),
        )
    resellers: dict[str, UUID] = {}
    for name, (kind, country) in RESELLERS.items():
        resellers[name] = sellers.register_reseller(
            name,
            kind,
            country,
            _key(marketplace, "s", name),
            people.drafting(_person(marketplace, name, None, name), "reseller", "admin"),
        )
    for account_id in [*manufacturers.values(), *resellers.values()]:
        account = sellers.account(account_id)
        assert account is not None
        account.approve("demo")
        sellers.save(account)
    for reseller_id in resellers.values():
        sellers.set_commission(reseller_id, 800)

    products: dict[str, list[tuple[UUID, ProductDetails]]] = {}
    for m, (name, (_, prefix, brands, categories)) in enumerate(MANUFACTURERS.items()):
        products[name] = []
        for i in range(PRODUCTS_PER_MANUFACTURER):
            category = categories[i % len(categories)]
            brand = brands[(i // len(categories)) % len(brands)]
            noun = NOUNS[category][i % len(NOUNS[category])]
            list_amount = rng.randrange(500, 50_000, 5)
            details = ProductDetails(
                name=f"{brand} {noun} {100 + i}",
                brand=brand,
                category=category,
                gtin=f"{4000000000000 + 1000 * m + i}",
                attributes={"series": str(100 + i)},
                unit="piece",
                list_price=Money(list_amount, "EUR"),
                map_price=Money(list_amount * 70 // 100, "EUR") if i % 3 == 0 else None,
            )
            product, _ = offers.put_product(manufacturers[name], f"{prefix}-{i:04d}", details)
            products[name].append((product.id, details))

    for manufacturer, grants in AUTHORIZATIONS.items():
        for reseller, (allowed_brands, allowed_categories) in grants.items():
            sellers.authorize(
                manufacturers[manufacturer], resellers[reseller], allowed_brands, allowed_categories
            )
            for pid, details in products[manufacturer]:
                if (allowed_brands and details.brand not in allowed_brands) or (
                    allowed_categories and details.category not in allowed_categories
                ):
                    continue
                if rng.random() < 0.15:
                    continue
                floor = details.map_price.amount if details.map_price else 1
                amount = max(floor, details.list_price.amount * rng.randrange(80, 100) // 100)
                tiers: list[Tier] = []
                if RESELLERS[reseller][0] != "reseller":
                    tiers = [
                        Tier(10, Money(max(floor, amount * 95 // 100), "EUR")),
                        Tier(100, Money(max(floor, amount * 90 // 100), "EUR")),
                    ]
                offers.put_offer(
                    resellers[reseller],
                    pid,
                    OfferDetails(
                        price=Money(amount, "EUR"),
                        tiers=tiers,
                        stock=rng.randrange(0, 500),
                        lead_time_days=rng.randrange(1, 15),
                        min_order_qty=10 if RESELLERS[reseller][0] == "wholesaler" else 1,
                    ),
                )

    buyer_ids: dict[str, UUID] = {}
    admin_ids: dict[str, UUID] = {}
    for name, (tax_id, country) in BUYERS.items():
        admin = _person(marketplace, name, "admin", f"{name} admin")
        buyer_id, admin_ids[name] = buyers.register(
            name,
            tax_id,
            country,
            _key(marketplace, "b", f"{name}:admin"),
            admin.email,
            people.drafting(admin, "buyer_user", "admin"),
        )
        buyer_ids[name] = buyer_id
        roles: list[tuple[Role, Money | None]] = [
            ("approver", None),
            ("buyer", Money(100_000, "EUR")),
        ]
        for role, limit in roles:
            person = _person(marketplace, name, role, f"{name} {role}")
            buyers.add_user(
                buyer_id,
                f"{name} {role}",
                role,
                limit,
                _key(marketplace, "b", f"{name}:{role}"),
                person.email,
                people.drafting(person, "buyer_user", role),
            )
        buyer = buyers.buyer(buyer_id)
        buyer.approve("demo")
        buyers.save(buyer)

    acme_first = products["Acme Industrial"][0][0]
    offers.put_terms(
        resellers["Rhine Supply"],
        buyer_ids["Muster GmbH"],
        CustomerTermsDetails(None, 500, {}, ["card", "invoice_net_30"], Money(5_000_000, "EUR")),
    )
    offers.put_terms(
        resellers["EuroDist"],
        buyer_ids["Muster GmbH"],
        CustomerTermsDetails(None, 0, {}, ["card"], None),
    )
    offers.put_terms(
        resellers["Rhine Supply"],
        buyer_ids["Bolt Works Ltd"],
        CustomerTermsDetails(
            {"categories": ["fasteners", "safety"]},
            0,
            {acme_first: Money(999, "EUR")},
            ["invoice_net_60"],
            Money(2_000_000, "EUR"),
        ),
    )
    offers.put_terms(
        resellers["BulkHouse"],
        buyer_ids["Paper Palace SARL"],
        CustomerTermsDetails(
            {"categories": ["paper"]}, 300, {}, ["invoice_net_30"], Money(10_000_000, "EUR")
        ),
    )
    offers.put_terms(
        resellers["EuroDist"],
        buyer_ids["Paper Palace SARL"],
        CustomerTermsDetails(
            {"brands": ["Nordic"]}, 1000, {}, ["card", "invoice_net_30"], Money(1_000_000, "EUR")
        ),
    )

    rep_id = sellers.appoint_sales_rep(
        resellers["EuroDist"],
        "Erika",
        _key(marketplace, "s", "rep"),
        people.drafting(_person(marketplace, "EuroDist", "erika", "Erika"), "sales_rep"),
    )
    sellers.assign_accounts(
        resellers["EuroDist"], rep_id, [buyer_ids["Muster GmbH"], buyer_ids["Paper Palace SARL"]]
    )
    _taxes(marketplace, resellers["Rhine Supply"], buyer_ids["Muster GmbH"])
    if marketplace.in_process:
        _money_history(
            marketplace,
            buyer_ids["Muster GmbH"],
            admin_ids["Muster GmbH"],
            resellers["Rhine Supply"],
        )
    with marketplace.db.transaction() as cur:
        cur.execute("INSERT INTO marketplace_meta (key, value) VALUES ('demo', 'loaded')")


def _taxes(marketplace: Marketplace, rhine: UUID, muster: UUID) -> None:
    """Tax and shipping where a German operator, seller and buyer would have them: the
    operator's and Rhine Supply's tax profiles, Rhine Supply's grid (parcel or express at
    home, parcel to its neighbours), Muster GmbH's profile. EuroDist and BulkHouse keep none:
    they still sell untaxed and ship free, as every seller did before."""
    taxes = marketplace.taxes
    hamburg = {"line1": "Hafenstrasse 1", "postcode": "20457", "city": "Hamburg", "country": "DE"}
    cologne = {"line1": "Rheinufer 5", "postcode": "50668", "city": "Köln", "country": "DE"}
    berlin = {"line1": "Marktplatz 1", "postcode": "10117", "city": "Berlin", "country": "DE"}
    taxes.set_profile("operator", OPERATOR_ID, OPERATOR, "DE", "DE812345673", None, berlin)
    taxes.set_profile("seller", rhine, "Rhine Supply GmbH", "DE", "DE298765435", None, cologne)
    taxes.set_profile("buyer", muster, "Muster GmbH", "DE", "DE112233446", None, hamburg)
    eur = partial(Money, currency="EUR")
    taxes.set_grid(
        rhine,
        [
            ShippingRate("parcel", "Parcel", ("DE",), eur(590), eur(50), eur(25_000), 1, 3),
            ShippingRate("express", "Express", ("DE",), eur(1_490), eur(100), None, 0, 1),
            ShippingRate(
                "parcel",
                "Parcel",
                ("AT", "NL", "BE", "FR"),
                eur(1_290),
                eur(100),
                eur(50_000),
                2,
                5,
            ),
        ],
    )


def _money_history(
    marketplace: Marketplace, buyer_id: UUID, user_id: UUID, seller_id: UUID
) -> None:
    """Muster GmbH's orders with Rhine Supply after they were placed: an order on invoice
    shipped in two parts (two invoices, the first paid), delivered, with a return asked for;
    a card order shipped; and a payout cycle. (Embedded mode: placing reads the catalog view,
    which only the in-process projections fill while the demo loads.)"""
    marketplace.projections.catch_up()
    items, _ = marketplace.catalog.page(
        str(buyer_id), CatalogFilter(reseller_id=str(seller_id)), 50, None
    )
    picks = [
        UUID(i["product_id"])
        for i in items
        if any(o["reseller_id"] == str(seller_id) and o["stock"] >= 20 for o in i["offers"])
    ][:3]
    if len(picks) < 3:
        return
    placed_by = {"kind": "buyer_user", "user_id": str(user_id), "name": "Muster GmbH admin"}

    def place(lines: list[UUID], method: str, po: str) -> UUID:
        order = marketplace.placement.place(
            buyer_id,
            placed_by,
            None,
            [LineRequest(pid, 4, seller_id) for pid in lines],
            method,
            po,
            {"street": "Hafenstrasse 1", "city": "Hamburg"},
        )
        so_id = marketplace.orders.seller_orders(order)[0].id
        marketplace.fulfilment.accept(seller_id, so_id)
        return so_id

    on_invoice = place(picks[:2], "invoice_net_30", "PO-2041")
    marketplace.fulfilment.ship(seller_id, on_invoice, {picks[0]: 4}, "DHL-40911")
    marketplace.fulfilment.ship(seller_id, on_invoice, None, "DHL-40977")
    marketplace.fulfilment.deliver(seller_id, on_invoice)
    first = marketplace.billing.invoices_of(on_invoice)[0]
    today = marketplace.clock.today()
    marketplace.payments.record(
        PaymentIn(buyer_id, Money(first.total, first.currency), "SEPA-2041-1", today)
    )
    marketplace.returns.request(
        buyer_id, str(user_id), on_invoice, {picks[0]: 1}, "One arrived with a cracked housing"
    )
    by_card = place(picks[2:], "card", "PO-2042")
    marketplace.fulfilment.ship(seller_id, by_card, None, "UPS-1Z999")
    marketplace.payouts.run(today)
    # A conversation on the first order and an incident open on the second.
    buyer = {"kind": "buyer_user", "name": "Muster GmbH admin", "id": str(user_id)}
    seller = {"kind": "reseller", "name": "Rhine Supply", "id": str(seller_id)}
    marketplace.conversation.post(
        on_invoice, buyer, "The second parcel came without a delivery note.", buyer_id=buyer_id
    )
    marketplace.conversation.post(
        on_invoice, seller, "Sorry: it is on its way by mail today.", seller_id=seller_id
    )
    marketplace.incidents.open(
        marketplace.orders.seller_order(by_card),
        "wrong_item",
        [picks[2]],
        "We received a different size than ordered.",
        buyer,
    )
