"""What waits for the signed-in person now, with counts and where to deal with it: the
first thing each role's home page shows (staff), and the buyer's catalog opens with."""

from dataclasses import dataclass

from marketplace.pages.shopper import Shopper
from marketplace.pages.staff import Staff
from marketplace.platform import Marketplace


@dataclass(frozen=True)
class Need:
    count: int
    label: str
    href: str


def staff_needs(market: Marketplace, staff: Staff) -> list[Need]:
    today = market.clock.today()
    if staff.side == "operator":
        n = market.inbox.operator(today)
        return [
            Need(
                n["accounts_to_approve"], "accounts to approve", "/operator/accounts?status=pending"
            ),
            Need(
                n["orders_waiting_for_sellers"],
                "seller orders waiting for their seller",
                "/operator/orders?status=placed",
            ),
            Need(n["invoices_overdue"], "invoices overdue", "/operator/invoices?status=overdue"),
        ]
    if staff.side != "reseller":
        return []
    n = market.inbox.seller(str(staff.seller_id), today)
    needs = []
    if staff.may("orders"):
        needs += [
            Need(
                n["to_accept"],
                "seller orders to accept",
                "/reseller/orders?status=awaiting_acceptance",
            ),
            Need(n["to_ship"], "seller orders to ship", "/reseller/orders?status=accepted"),
            Need(n["quotes_to_answer"], "quotes to answer", "/reseller/quotes?status=submitted"),
        ]
    if staff.may("orders", "finance"):
        needs.append(Need(n["returns_to_decide"], "returns to decide", "/reseller/returns"))
    if staff.may("finance"):
        needs.append(
            Need(n["invoices_overdue"], "invoices overdue", "/reseller/invoices?status=overdue")
        )
    return needs


def buyer_needs(market: Marketplace, shopper: Shopper) -> list[Need]:
    """Only what there is: the catalog is the buyer's page, and the bar stays out of the
    way when nothing waits."""
    if shopper.user is None:
        return []
    n = market.inbox.buyer(
        str(shopper.buyer_id), market.clock.today(), market.clock.now().isoformat()
    )
    needs = [Need(n["quotes_offered"], "quotes offered to you", "/quotes")]
    if shopper.can_approve:
        needs.insert(0, Need(n["approvals_waiting"], "orders waiting for approval", "/approvals"))
    if shopper.is_admin or shopper.can_approve:
        needs.append(Need(n["invoices_overdue"], "invoices overdue", "/invoices?status=overdue"))
    return [need for need in needs if need.count]
