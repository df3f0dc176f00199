"""The cart (kept on the server), quick order, and checkout."""

import secrets
from collections import defaultdict
from typing import Annotated, Any
from uuid import UUID, uuid5

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from marketplace.adapters.carts import CartLine
from marketplace.adapters.idempotency import Answer
from marketplace.kernel.errors import DomainError
from marketplace.kernel.payments import PaymentMethod, common_methods
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.shopper import CurrentShopper, Shopper
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from marketplace.web.errors import detail_of
from marketplace.web.idempotent import KEYED, run_once
from orders.charges import NotShipped
from orders.choosing import LineRequest
from projections.quick_order import (
    MAX_QUANTITY,
    Resolved,
    parse_quick_order,
    pick,
    resolve_skus,
)

router = APIRouter(include_in_schema=False)
MAX_PASTE = 200_000
METHOD_LABELS: dict[PaymentMethod, str] = {
    "card": "Card",
    "invoice_net_30": "Invoice, 30 days",
    "invoice_net_60": "Invoice, 60 days",
}
ADDRESS_FIELDS = {
    "name": "Company or person",
    "street": "Street and number",
    "postcode": "Postcode",
    "city": "City",
    "country": "Country",
}
Short = Annotated[str, Form(max_length=200)]


def cart_lines(market: Marketplace, shopper: Shopper) -> list[Resolved]:
    lines = market.carts.lines(shopper.cart_owner, str(shopper.buyer_id))
    items = market.catalog.items(
        str(shopper.buyer_id), [line.product_id for line in lines], shopper.reseller_filter
    )
    resolved = []
    for line in lines:
        r = Resolved(line.quantity, reseller_id=line.reseller_id, item=items.get(line.product_id))
        if r.item is None:
            r.item = {"product_id": line.product_id, "name": "a product you no longer see"}
            r.problem = "no longer in your catalog; remove it"
        else:
            r.offer, r.problem = pick(r.item, line.quantity, line.reseller_id)
        resolved.append(r)
    return resolved


def by_seller(lines: list[Resolved]) -> list[dict[str, Any]]:
    """The lines grouped by the seller each will go to, with each group's total."""
    groups: dict[str, dict[str, Any]] = {}
    for line in lines:
        offer = line.offer if line.problem is None else None
        key = offer["reseller_id"] if offer else ""
        group = groups.setdefault(
            key,
            {
                "reseller_id": key,
                "name": offer["reseller_name"] if offer else "Cannot be ordered as it stands",
                "lines": [],
                "totals": defaultdict(int),
                "payment_methods": set(offer["payment_methods"]) if offer else set(),
            },
        )
        group["lines"].append(line)
        if offer and line.total:
            group["totals"][line.total["currency"]] += line.total["amount"]
    ordered = sorted(groups.values(), key=lambda g: (g["reseller_id"] == "", g["name"]))
    for group in ordered:
        group["totals"] = [{"amount": a, "currency": c} for c, a in sorted(group["totals"].items())]
    return ordered


def overall(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sums: dict[str, int] = defaultdict(int)
    for group in groups:
        for total in group["totals"]:
            sums[total["currency"]] += total["amount"]
    return [{"amount": a, "currency": c} for c, a in sorted(sums.items())]


def _cart_context(market: Marketplace, shopper: Shopper) -> dict[str, Any]:
    groups = by_seller(cart_lines(market, shopper))
    return {"groups": groups, "overall": overall(groups)}


@router.get("/cart")
def cart(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    return render(request, "cart.html", _cart_context(market, shopper), shopper=shopper)


@router.post("/cart/lines", dependencies=[CsrfChecked])
def change_line(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    product_id: Annotated[UUID, Form()],
    quantity: Annotated[str, Form(max_length=20)],
    reseller_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    text = quantity.strip()
    error = None
    if not text.isdigit() or int(text[:12]) > MAX_QUANTITY:
        error = "enter a whole number (0 removes the line)"
    else:
        market.carts.set_quantity(
            shopper.cart_owner,
            str(shopper.buyer_id),
            str(product_id),
            reseller_id or None,
            int(text),
        )
    if request.headers.get("HX-Request") != "true" and error is None:
        return redirect("/cart")
    context = {**_cart_context(market, shopper), "line_error": (str(product_id), error)}
    template = "cart_body.html" if request.headers.get("HX-Request") == "true" else "cart.html"
    return render(request, template, context, status=422 if error else 200, shopper=shopper)


@router.get("/quick-order")
def quick_order_page(request: Request, shopper: CurrentShopper) -> Response:
    return render(request, "quick_order.html", {"text": ""}, shopper=shopper)


@router.post("/quick-order", dependencies=[CsrfChecked])
async def quick_order(
    request: Request,
    market: MarketplaceDep,
    shopper: CurrentShopper,
    lines: Annotated[str, Form(max_length=MAX_PASTE)] = "",
    file: UploadFile | None = None,
) -> Response:
    text = lines
    error = None
    if file is not None and file.filename:
        raw = await file.read(MAX_PASTE + 1)
        if len(raw) > MAX_PASTE:
            error = f"the file is larger than {MAX_PASTE // 1000} kB; split it"
        else:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                error = "the file is not UTF-8 text; save it as CSV (UTF-8)"
    if error is None and not text.strip():
        error = "paste lines of SKU, quantity or choose a CSV file"
    if error is not None:
        return render(
            request,
            "quick_order.html",
            {"text": lines, "error": error},
            status=422,
            shopper=shopper,
        )
    good, bad = parse_quick_order(text)
    resolved = resolve_skus(market.catalog, str(shopper.buyer_id), shopper.reseller_filter, good)
    results = sorted([*resolved, *bad], key=lambda r: r.line)
    return render(
        request,
        "quick_order.html",
        {"text": text, "results": results, "ready": [r for r in results if not r.problem]},
        shopper=shopper,
    )


@router.post("/quick-order/cart", dependencies=[CsrfChecked])
async def quick_order_to_cart(
    request: Request, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    form = await request.form()
    pids = form.getlist("product_id")
    quantities = form.getlist("quantity")
    lines = []
    for pid, qty in zip(pids, quantities, strict=False):
        if not (isinstance(pid, str) and isinstance(qty, str) and qty.isdigit()):
            continue
        try:
            product_id = UUID(pid)
        except ValueError:
            continue
        if int(qty[:12]) > 0:
            lines.append(CartLine(str(product_id), None, min(int(qty[:12]), MAX_QUANTITY)))
    market.carts.add(shopper.cart_owner, str(shopper.buyer_id), lines[:500])
    return redirect("/cart")


def known_addresses(market: Marketplace, shopper: Shopper) -> list[dict[str, str]]:
    """The organisation's complete addresses for this person, its default first: its cost
    centre's, the organisation's own (its tax profile's), the other cost centres', kept ones."""
    profile = market.taxes.profile("buyer", shopper.buyer_id)
    own = None
    if profile is not None:
        street = ", ".join(
            x for x in (profile.address.get("line1"), profile.address.get("line2")) if x
        )
        own = {
            "name": profile.legal_name,
            "street": street,
            "postcode": profile.address.get("postcode") or "",
            "city": profile.address.get("city") or "",
            "country": profile.address.get("country") or "",
        }
    user_id = shopper.user.id if shopper.user else None
    shaped = [
        {k: str(a.get(k) or "").strip()[:200] for k in ADDRESS_FIELDS}
        for a in shopper.buyer.addresses_for(user_id, own)
    ]
    return [a for a in shaped if all(a.values())]


def _allowed_methods(groups: list[dict[str, Any]]) -> list[PaymentMethod]:
    return common_methods(g["payment_methods"] for g in groups if g["reseller_id"])


def _requests(groups: list[dict[str, Any]]) -> list[LineRequest]:
    return [
        LineRequest(
            UUID(line.item["product_id"]),
            line.quantity,
            UUID(line.reseller_id) if line.reseller_id else None,
        )
        for group in groups
        for line in group["lines"]
        if line.item
    ]


def _shipping_methods(form: dict[str, str]) -> dict[UUID, str]:
    chosen = {}
    for name, value in form.items():
        seller = name.removeprefix("shipping_method_")
        if seller != name and value:
            try:
                chosen[UUID(seller)] = value[:100]
            except ValueError:
                continue
    return chosen


def charges_by_seller(
    market: Marketplace,
    shopper: Shopper,
    groups: list[dict[str, Any]],
    method: str | None,
    address: dict[str, str] | None,
    chosen: dict[UUID, str],
) -> dict[str, dict[str, Any]]:
    """What each seller will charge before the order is placed: shipping with its method
    and delivery dates, net, tax and gross (api.md v1.2), or why it cannot ship there."""
    requests = _requests(groups)
    if not requests or not method:
        return {}
    previews = market.placement.preview(
        shopper.buyer_id, requests, method, address, chosen, shopper.only_reseller
    )
    shown: dict[str, dict[str, Any]] = {}
    for reseller_id, preview in previews.items():
        charged = preview.charged
        row: dict[str, Any] = {"methods": preview.methods, "chosen": chosen.get(reseller_id)}
        if isinstance(charged, NotShipped):
            row["problem"] = (
                f"does not ship to {charged.country}" if charged.country else "needs an address"
            )
        elif charged is not None:
            c = charged.charges
            row["currency"] = preview.currency
            row.update(shipping=c.shipping, net=c.net_total, tax=c.tax_total, gross=c.gross_total)
        shown[str(reseller_id)] = row
    return shown


@router.get("/checkout")
def checkout_page(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    context = _cart_context(market, shopper)
    methods = _allowed_methods(context["groups"])
    addresses = known_addresses(market, shopper)
    return render(
        request,
        "checkout.html",
        {
            **context,
            "methods": methods,
            "labels": METHOD_LABELS,
            "address_fields": ADDRESS_FIELDS,
            "addresses": addresses,
            "charges": charges_by_seller(
                market,
                shopper,
                context["groups"],
                methods[0] if methods else None,
                addresses[0] if addresses else None,
                {},
            ),
            "form": {},
            "checkout_key": secrets.token_hex(16),
        },
        shopper=shopper,
    )


@router.post("/checkout", dependencies=[CsrfChecked])
async def checkout(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    context = _cart_context(market, shopper)
    methods = _allowed_methods(context["groups"])
    errors: dict[str, str] = {}
    method = form.get("payment_method", "")
    if method not in methods:
        errors["payment_method"] = "choose one of the payment methods offered"
    po_number = form.get("po_number", "").strip()[:100] or None
    addresses = known_addresses(market, shopper)
    choice = form.get("address_choice", "0" if addresses else "new")
    if choice.isdigit() and int(choice) < len(addresses):
        address = addresses[int(choice)]
    else:
        address = {k: form.get(f"address_{k}", "").strip()[:200] for k in ADDRESS_FIELDS}
        if not all(address.values()):
            errors["address"] = "fill in every line of the new shipping address"
    lines = [line for group in context["groups"] for line in group["lines"]]
    if not lines:
        errors["cart"] = "your cart is empty"
    key = form.get("checkout_key", "")[:64]
    chosen = _shipping_methods(form)
    preview = form.get("action") == "preview"
    if not errors and not preview:
        requests = _requests(context["groups"])
        answer = _place_once(market, shopper, key, requests, method, po_number, address, chosen)
        if answer.status_code < 400:
            if choice == "new" and form.get("keep_address") and address not in addresses:
                market.buyers.keep_address(shopper.buyer_id, address)
            market.carts.empty(shopper.cart_owner, str(shopper.buyer_id))
            return redirect(f"/orders/{answer.body['order_id']}?placed=1")
        errors["order"] = "the order was not placed"
        context["refused"] = _refusals(answer.body.get("detail"), lines)
        # The refusal is kept under the old key (a second click is refused the same way);
        # the corrected order is a new request.
        key = ""
    return render(
        request,
        "checkout.html",
        {
            **context,
            "methods": methods,
            "labels": METHOD_LABELS,
            "address_fields": ADDRESS_FIELDS,
            "addresses": addresses,
            "charges": charges_by_seller(
                market,
                shopper,
                context["groups"],
                method if method in methods else (methods[0] if methods else None),
                address if not errors.get("address") else None,
                chosen,
            ),
            "form": form,
            "errors": errors,
            "checkout_key": key or secrets.token_hex(16),
        },
        status=200 if preview and not errors else 422,
        shopper=shopper,
    )


def _place_once(
    market: Marketplace,
    shopper: Shopper,
    key: str,
    requests: list[LineRequest],
    method: str,
    po_number: str | None,
    address: dict[str, str],
    shipping_methods: dict[UUID, str],
) -> Answer:
    """Places the order once per checkout form, as the API does per Idempotency-Key: a
    double click orders once, and a refused order is refused again, not tried again."""

    scope = f"web:{shopper.scope}:checkout"
    key = key or secrets.token_hex(16)

    def place() -> tuple[int, dict[str, Any]]:
        order = market.placement.place(
            shopper.buyer_id,
            shopper.placed_by(),
            shopper.spending_limit,
            requests,
            method,
            po_number,
            address,
            shopper.only_reseller,
            shipping_methods=shipping_methods,
            order_id=uuid5(KEYED, f"{scope}:{key}"),
        )
        return 201, {"order_id": str(order.id)}

    methods = {str(k): v for k, v in shipping_methods.items()}
    payload = [[str(r) for r in requests], method, po_number, address, methods]
    try:
        answer, _ = run_once(market.idempotency, scope, key, payload, place)
    except DomainError as error:
        return Answer(422, {"detail": detail_of(error)})
    return answer


def _refusals(detail: Any, lines: list[Resolved]) -> list[str]:
    """What refused the order, line by line where the refusal names lines."""
    if not isinstance(detail, list):
        return [str(detail)]
    said = []
    for problem in detail:
        if isinstance(problem, dict) and isinstance(problem.get("line"), int):
            index = problem["line"]
            item = lines[index].item if 0 <= index < len(lines) else None
            name = item["name"] if item else ""
            said.append(f"{name}: {problem.get('msg')}" if name else str(problem.get("msg")))
        else:
            said.append(str(problem))
    return said
