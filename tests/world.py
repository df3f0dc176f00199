"""Drives the marketplace over HTTP the way its users do."""

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


@dataclass
class Actor:
    id: str
    key: str
    user_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class World:
    client: TestClient
    operator_key: str
    position: str | None = None
    products: dict[str, str] = field(default_factory=dict)

    @property
    def operator(self) -> Actor:
        return Actor("operator", self.operator_key)

    def call(self, method: str, path: str, actor: Actor | None = None, **kwargs: Any) -> Response:
        headers = dict(kwargs.pop("headers", {}))
        if actor is not None:
            headers.update(actor.headers)
        response: Response = self.client.request(method, path, headers=headers, **kwargs)
        if "X-Marketplace-Position" in response.headers:
            self.position = response.headers["X-Marketplace-Position"]
        return response

    def ok(self, method: str, path: str, actor: Actor | None = None, **kwargs: Any) -> Any:
        response = self.call(method, path, actor, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()

    def view(self, path: str, actor: Actor, **params: Any) -> Response:
        """Reads a view after every command so far (read-your-writes)."""
        if self.position:
            params["min_position"] = self.position
        return self.call("GET", path, actor, params=params)

    # Onboarding

    def _signup(self, path: str, body: dict[str, Any], approve: bool) -> Actor:
        created = self.ok("POST", path, json=body)
        actor = Actor(created["id"], created["api_key"], created.get("user_id"))
        if approve:
            self.ok("POST", f"/v1/operator/accounts/{actor.id}/approve", self.operator)
        return actor

    def manufacturer(self, name: str = "Acme", approve: bool = True) -> Actor:
        return self._signup("/v1/manufacturers", {"name": name, "country": "DE"}, approve)

    def reseller(self, name: str = "Rhine", kind: str = "reseller", approve: bool = True) -> Actor:
        return self._signup("/v1/resellers", {"name": name, "kind": kind, "country": "DE"}, approve)

    def buyer(self, name: str = "Muster GmbH", approve: bool = True) -> Actor:
        return self._signup(
            "/v1/buyers", {"legal_name": name, "tax_id": "DE1", "country": "DE"}, approve
        )

    def user(self, admin: Actor, role: str, spending_limit: int | None = None) -> Actor:
        body: dict[str, Any] = {"name": f"{role} user", "role": role}
        if spending_limit is not None:
            body["spending_limit"] = eur(spending_limit)
        created = self.ok("POST", "/v1/buyer/users", admin, json=body)
        return Actor(admin.id, created["api_key"], created["id"])

    def sales_rep(self, reseller: Actor, buyers: list[Actor]) -> Actor:
        created = self.ok("POST", "/v1/reseller/sales-reps", reseller, json={"name": "Erika"})
        self.ok(
            "PUT",
            f"/v1/reseller/sales-reps/{created['id']}/accounts",
            reseller,
            json={"buyer_ids": [b.id for b in buyers]},
        )
        return Actor(created["id"], created["api_key"])

    # Catalog

    def product(
        self,
        manufacturer: Actor,
        sku: str,
        price: int = 10_000,
        map_price: int | None = None,
        brand: str = "Acme",
        category: str = "tools",
        name: str | None = None,
        tax_category: str | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "name": name or f"Product {sku}",
            "brand": brand,
            "category": category,
            "list_price": eur(price),
        }
        if map_price is not None:
            body["map_price"] = eur(map_price)
        if tax_category is not None:
            body["tax_category"] = tax_category
        product_id: str = self.ok(
            "PUT", f"/v1/manufacturer/products/{sku}", manufacturer, json=body
        )["product_id"]
        self.products[sku] = product_id
        return product_id

    def authorize(self, manufacturer: Actor, reseller: Actor, **scope: Any) -> None:
        self.ok("PUT", f"/v1/manufacturer/authorizations/{reseller.id}", manufacturer, json=scope)

    def offer(
        self,
        reseller: Actor,
        product_id: str,
        price: int,
        stock: int = 100,
        lead_time_days: int = 3,
        min_order_qty: int = 1,
        tiers: list[tuple[int, int]] | None = None,
    ) -> str:
        body = {
            "price": eur(price),
            "stock": stock,
            "lead_time_days": lead_time_days,
            "min_order_qty": min_order_qty,
            "tiers": [{"min_qty": q, "price": eur(p)} for q, p in tiers or []],
        }
        offer_id: str = self.ok("PUT", f"/v1/reseller/offers/{product_id}", reseller, json=body)[
            "offer_id"
        ]
        return offer_id

    def terms(
        self,
        reseller: Actor,
        buyer: Actor,
        catalog: dict[str, Any] | None = None,
        discount_bps: int = 0,
        fixed_prices: dict[str, int] | None = None,
        payment_methods: list[str] | None = None,
        credit_limit: int | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "catalog": catalog,
            "discount_bps": discount_bps,
            "fixed_prices": {p: eur(a) for p, a in (fixed_prices or {}).items()},
            "payment_methods": payment_methods or ["card", "invoice_net_30"],
        }
        if credit_limit is not None:
            body["credit_limit"] = eur(credit_limit)
        self.ok("PUT", f"/v1/reseller/customers/{buyer.id}", reseller, json=body)

    def catalog(self, buyer: Actor, **params: Any) -> list[dict[str, Any]]:
        response = self.view("/v1/buyer/catalog", buyer, **params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def catalog_skus(self, buyer: Actor, **params: Any) -> list[str]:
        return [item["sku"] for item in self.catalog(buyer, **params)]


@dataclass
class Market:
    """A ready market: one manufacturer, two resellers, two buyers with terms."""

    world: World
    acme: Actor
    rhine: Actor
    danube: Actor
    muster: Actor
    bolt: Actor


def small_market(world: World) -> Market:
    acme = world.manufacturer("Acme")
    rhine = world.reseller("Rhine Supply")
    danube = world.reseller("Danube Distribution", "distributor")
    muster = world.buyer("Muster GmbH")
    bolt = world.buyer("Bolt Works")
    for reseller in (rhine, danube):
        world.authorize(acme, reseller)
    return Market(world, acme, rhine, danube, muster, bolt)
