"""Shopping lists in the storefront: the lists a person may see, one list's lines (edited by
its owner, or by anyone when shared to edit), ordering it, and ordering a past order again."""

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from marketplace.buyers.lists import ShoppingList
from marketplace.kernel.errors import Forbidden, Invalid
from marketplace.kernel.payments import PAYMENT_METHODS
from marketplace.pages.freshness import caught_up
from marketplace.pages.render import redirect, render
from marketplace.pages.session import CsrfChecked
from marketplace.pages.shopper import CurrentShopper, Shopper
from marketplace.platform import Marketplace
from marketplace.web.auth import MarketplaceDep
from projections.quick_order import MAX_QUANTITY

router = APIRouter(include_in_schema=False)
SHARING = ("private", "read", "edit")


def _user(shopper: Shopper) -> UUID:
    if shopper.user is None:
        raise Forbidden("shopping lists belong to the buyer's own people")
    return shopper.user.id


def _quantity(text: str) -> int:
    if not text.strip().isdigit() or not 0 < int(text.strip()[:12]) <= MAX_QUANTITY:
        raise Invalid("a quantity is a positive whole number")
    return int(text.strip())


@router.get("/lists")
def lists(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    user = _user(shopper)
    caught_up(market, request, "orders")
    items, _ = market.order_lists.lists(str(shopper.buyer_id), str(user), 200, None)
    return render(
        request,
        "lists.html",
        {"items": items, "me": str(user), "sharings": SHARING},
        shopper=shopper,
    )


@router.post("/lists", dependencies=[CsrfChecked])
async def create(request: Request, market: MarketplaceDep, shopper: CurrentShopper) -> Response:
    user = _user(shopper)
    form = await request.form()
    name = str(form.get("name", "")).strip()
    sharing = str(form.get("sharing", "private"))
    if not name or len(name) > 200 or sharing not in SHARING:
        raise Invalid("give the list a name (at most 200 characters) and a sharing")
    made = market.buyers.create_list(shopper.buyer_id, user, name, sharing)  # type: ignore[arg-type]
    return redirect(f"/lists/{made}")


def _list_page(
    request: Request,
    market: Marketplace,
    shopper: Shopper,
    found: ShoppingList,
    notice: str | None = None,
    error: str | None = None,
    code: int = 200,
) -> Response:
    user = _user(shopper)
    names = market.catalog.names(list(found.lines))
    return render(
        request,
        "list.html",
        {
            "found": found,
            "lines": [
                {"product_id": pid, "quantity": q, "name": names.get(pid, {}).get("name", pid)}
                for pid, q in found.lines.items()
            ],
            "editable": user == found.owner_id or found.sharing == "edit",
            "methods": PAYMENT_METHODS,
            "notice": notice or request.query_params.get("notice"),
            "error": error,
        },
        status=code,
        shopper=shopper,
    )


@router.get("/lists/{list_id}")
def one_list(
    request: Request, list_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    found = market.buyers.shopping_list(list_id, shopper.buyer_id, _user(shopper))
    return _list_page(request, market, shopper, found)


@router.post("/lists/{list_id}/lines", dependencies=[CsrfChecked])
async def set_line(
    request: Request, list_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    """Adds a product by its SKU, or changes a line's quantity (`product_id`); 0 removes."""
    user = _user(shopper)
    form = await request.form()
    raw_pid = str(form.get("product_id", ""))
    quantity_text = str(form.get("quantity", ""))
    if raw_pid:
        try:
            product_id = UUID(raw_pid)
        except ValueError:
            raise Invalid("that line is not a product") from None
    else:
        sku = str(form.get("sku", "")).strip()
        found_ids = market.catalog.with_skus([sku]).get(sku, []) if sku else []
        if not found_ids:
            found = market.buyers.shopping_list(list_id, shopper.buyer_id, user)
            return _list_page(
                request, market, shopper, found, error=f"no product {sku!r}", code=422
            )
        product_id = UUID(found_ids[0])
    if quantity_text.strip() == "0":
        market.buyers.remove_list_line(list_id, shopper.buyer_id, user, product_id)
    else:
        market.buyers.set_list_line(
            list_id, shopper.buyer_id, user, product_id, _quantity(quantity_text)
        )
    return redirect(f"/lists/{list_id}")


def _placed(order_id: UUID, skipped: list[dict[str, Any]]) -> Response:
    notice = "Your order was placed."
    if skipped:
        notice += f" {len(skipped)} product(s) could not be ordered: " + "; ".join(
            str(s["problem"]) for s in skipped
        )
    return redirect(f"/orders/{order_id}?{urlencode({'placed': 1, 'notice': notice})}")


@router.post("/lists/{list_id}/order", dependencies=[CsrfChecked])
async def order_list(
    request: Request, list_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    user = _user(shopper)
    found = market.buyers.shopping_list(list_id, shopper.buyer_id, user)
    method = str((await request.form()).get("payment_method", ""))
    if method not in PAYMENT_METHODS:
        raise Invalid("choose how you pay")
    try:
        order, skipped = market.order_again(
            shopper.buyer_id,
            _placed_by(shopper),
            shopper.spending_limit,
            list(found.lines.items()),
            method,
            None,
            None,
        )
    except Invalid as error:
        return _list_page(request, market, shopper, found, error=_why(error.detail), code=422)
    return _placed(order.id, skipped)


@router.post("/orders/{order_id}/again", dependencies=[CsrfChecked])
async def order_again(
    request: Request, order_id: UUID, market: MarketplaceDep, shopper: CurrentShopper
) -> Response:
    _user(shopper)
    past = market.orders.order(order_id, shopper.buyer_id)
    order, skipped = market.order_again(
        shopper.buyer_id,
        _placed_by(shopper),
        shopper.spending_limit,
        past.asked(),
        past.payment_method,
        past.po_number,
        past.shipping_address,
    )
    return _placed(order.id, skipped)


def _placed_by(shopper: Shopper) -> dict[str, str]:
    assert shopper.user is not None
    return {"kind": "buyer_user", "user_id": str(shopper.user.id), "name": shopper.user.name}


def _why(detail: object) -> str:
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        skipped = detail[0].get("skipped", [])
        return "nothing on the list can be ordered now: " + "; ".join(
            str(s["problem"]) for s in skipped
        )
    return str(detail)
