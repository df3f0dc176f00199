"""The seller's side of a seller order: accept, ship, deliver, cancel, or refuse it, and
reroute each refused line to the buyer's next best offer."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from offers.holds import Holds, HoldsRefused, StockHold
from orders.application import Orders
from orders.billing.invoicing import Invoicing
from orders.budgeting import Budgeting
from orders.charging import Charging
from orders.choosing import Choice, LineRequest, OfferChooser, by_seller
from orders.domain import Order, SellerOrder
from orders.holding import holds_of, stock_ref
from orders.placement import charge_groups, open_seller_order
from sellers.application import Sellers


class Fulfilment:
    def __init__(
        self,
        orders: Orders,
        sellers: Sellers,
        chooser: OfferChooser,
        holds: Holds,
        catch_up: Callable[[], None],
        invoicing: Invoicing,
        budgeting: Budgeting | None = None,
        charging: Charging | None = None,
    ) -> None:
        self.charging = charging
        self.orders = orders
        self.sellers = sellers
        self.chooser = chooser
        self.holds = holds
        self.catch_up = catch_up
        self.invoicing = invoicing
        self.budgeting = budgeting

    def _follow_budget(self, order_id: UUID) -> None:
        if self.budgeting is not None:
            self.budgeting.follow(order_id)

    def accept(self, reseller_id: UUID, seller_order_id: UUID) -> SellerOrder:
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.accept()
        self.orders.save(so)
        return so

    def ship(
        self,
        reseller_id: UUID,
        seller_order_id: UUID,
        quantities: dict[UUID, int] | None,
        tracking: str | None,
    ) -> SellerOrder:
        so = self.orders.seller_order(seller_order_id, reseller_id)
        shipped = so.ship(quantities, tracking)
        self.orders.save(so)
        for product_id, quantity in shipped.items():
            self.holds.shipped(
                StockHold(stock_ref(so.id, product_id), so.reseller_id, product_id, quantity, 0)
            )
        self.invoicing.invoice_shipment(so, so.version, {str(k): v for k, v in shipped.items()})
        return so

    def deliver(self, reseller_id: UUID, seller_order_id: UUID) -> SellerOrder:
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.deliver()
        self.orders.save(so)
        self._follow_budget(so.order_id)
        return so

    def cancel(self, reseller_id: UUID, seller_order_id: UUID, reason: str) -> SellerOrder:
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.cancel(reason)
        self.orders.save(so)
        self.holds.give_back(*holds_of(so))
        self._follow_budget(so.order_id)
        return so

    def refuse(self, reseller_id: UUID, seller_order_id: UUID, reason: str) -> SellerOrder:
        """Refuses a seller order and reroutes each line to the buyer's next best offer.

        A saga like placing: the refusal, the choice of the next best offers (drafted as
        seller orders) and the lines left without one are saved at once; then the refused
        order's holds are given back and the drafts' taken. `finish_reroute` does the second
        step again after a crash, however often."""
        so = self.orders.seller_order(seller_order_id, reseller_id)
        so.check("refuse")
        order = self.orders.order(so.order_id)
        self.catch_up()
        refused_by = {
            s.reseller_id for s in self.orders.seller_orders(order) if s.status == "refused"
        } | {so.reseller_id}
        choices: list[Choice] = []
        cancelled: list[dict[str, Any]] = []
        lookups = self.chooser.lookups()
        for index, line in enumerate(so.lines):
            request = LineRequest(line.product_id, line.quantity, None)
            choice = self.chooser.choose(
                order.buyer_id,
                index,
                request,
                order.payment_method,
                _rep_reseller(order),
                refused_by,
                lookups,
            )
            if isinstance(choice, Choice):
                choices.append(choice)
            else:
                cancelled.append(_cancelled(line.product_id, line.quantity, choice["msg"]))
        quantities = {c.line: so.lines[c.line].quantity for c in choices}
        groups = by_seller(choices)
        charger = (
            self.charging.charger(order.buyer_id, order.shipping_address) if self.charging else None
        )
        charged, unshipped = charge_groups(charger, lookups, groups, quantities, {})
        for refused in unshipped:
            line = so.lines[refused["line"]]
            cancelled.append(_cancelled(line.product_id, line.quantity, refused["msg"]))
            groups.pop(
                next(c.offer.reseller_id for c in choices if c.line == refused["line"]), None
            )
        drafts = [
            open_seller_order(
                lookups,
                order.id,
                order.buyer_id,
                new_reseller,
                order.payment_method,
                group,
                quantities,
                charged.get(new_reseller),
            )
            for new_reseller, group in groups.items()
        ]
        so.refuse(reason)
        order.reroute_started(so.id, [d.id for d in drafts], cancelled)
        self.orders.save(so, order, *drafts)
        self.finish_reroute(order.id, so.id)
        return so

    def finish_reroute(self, order_id: UUID, refused_id: UUID) -> None:
        """Gives back the refused order's holds and takes the drafts': each draft is then
        released to its seller, or cancelled with its lines if its holds are refused."""
        order = self.orders.order(order_id)
        draft_ids = order.reroutes_pending.get(str(refused_id))
        if draft_ids is None:
            return
        refused = self.orders.seller_order(refused_id, None)
        self.holds.give_back(*holds_of(refused))
        cancelled: list[dict[str, Any]] = []
        drafts = [self.orders.seller_order(UUID(i), None) for i in draft_ids]
        for draft in drafts:
            if draft.released or draft.status != "awaiting_acceptance":
                continue
            try:
                self.holds.take(*holds_of(draft))
            except HoldsRefused as refused_holds:
                why = f"the next best offer could not be held: {refused_holds.detail}"
                draft.cancel(why, by_platform=True)
                cancelled += [_cancelled(ln.product_id, ln.quantity, why) for ln in draft.lines]
                continue
            draft.release()
        order.reroute_finished(refused_id, cancelled)
        self.orders.save(order, *drafts)
        self._follow_budget(order.id)


def _cancelled(product_id: UUID, quantity: int, reason: str) -> dict[str, Any]:
    return {"product_id": str(product_id), "quantity": quantity, "reason": reason}


def _rep_reseller(order: Order) -> UUID | None:
    rep_reseller = order.placed_by.get("reseller_id")
    return UUID(rep_reseller) if rep_reseller else None
