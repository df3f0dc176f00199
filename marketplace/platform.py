"""The marketplace assembled: each context's application, the views, and their wiring."""

import logging
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from marketplace.adapters.carts import Carts
from marketplace.adapters.clock import Clock
from marketplace.adapters.credentials import Credentials
from marketplace.adapters.eventlog import EventLog
from marketplace.adapters.eventstore import (
    MarketplaceApplication,
    persistence_env,
    save_together,
    shared_datastore,
)
from marketplace.adapters.idempotency import IdempotencyStore
from marketplace.adapters.jobs import JobTable
from marketplace.adapters.settings import Settings
from marketplace.adapters.sql import Database, open_database, schema_lock
from marketplace.adapters.tokens import PositionTokens
from marketplace.adapters.web_sessions import WebSessions
from marketplace.buyers.application import Buyers
from marketplace.kernel.accounts import Account, StatusAction
from marketplace.kernel.errors import Invalid, NotFound, NotYet
from marketplace.kernel.money import Money
from marketplace.kernel.position import BadToken, Positions, reached
from marketplace.mail import outbox
from marketplace.mail.letters import Letter, Letters, Recipient
from marketplace.mail.notifier import NAME as NOTIFICATIONS
from marketplace.mail.notifier import Notifications, order_row
from marketplace.mail.outbox import Outbox
from marketplace.mail.sender import Attachments, Sender
from marketplace.people.application import People
from marketplace.taxes.application import Taxes
from marketplace.webhooks.dispatcher import NAME as WEBHOOKS
from marketplace.webhooks.dispatcher import WebhookDispatch
from marketplace.webhooks.sender import WebhookSender
from marketplace.webhooks.store import Subscription, Webhooks
from offers.application import Offers
from offers.holds import Holds
from offers.imports import Imports
from orders.application import Orders
from orders.approval import Approvals
from orders.billing.application import Billing
from orders.billing.domain import BuyerAccount
from orders.billing.incidents import Incidents
from orders.billing.invoicing import Invoicing
from orders.billing.payments import Payments
from orders.billing.payouts import Payouts
from orders.billing.returns import Returns
from orders.billing.statements import StatementImports
from orders.budgeting import Budgeting
from orders.charging import Charging
from orders.choosing import LineRequest, OfferChooser
from orders.conversation import Conversation
from orders.domain import Order, SellerOrder
from orders.fulfilment import Fulfilment
from orders.placement import Placement
from orders.quoting.application import Quoting
from projections.billing import BillingProjection
from projections.billing_view import BillingView
from projections.catalog import LISTING_EVENTS, CatalogProjection
from projections.catalog_view import CatalogView
from projections.dac7 import Dac7
from projections.inbox import Inbox
from projections.orders import OrdersProjection
from projections.orders_view import OrdersView
from projections.quick_order import resolve_products
from projections.runner import ProjectionFactory, ProjectionRunner, fold_part
from sellers.application import Sellers

log = logging.getLogger(__name__)
VIEW_WAIT_S = 5.0
HOUSEKEEPING_S = 60.0
# How far back housekeeping looks for settlement steps a crash may have cut off: a minute's
# sweeps overlap, and a process starting looks back further, over its own downtime.
SETTLE_WINDOW = timedelta(minutes=10)
STARTUP_SETTLE_WINDOW = timedelta(days=2)


CONTEXTS: dict[str, type[MarketplaceApplication]] = {
    "sellers": Sellers,
    "offers": Offers,
    "buyers": Buyers,
    "orders": Orders,
    "billing": Billing,
}
PROJECTIONS: dict[str, ProjectionFactory] = {
    "catalog": CatalogProjection,
    "orders": OrdersProjection,
    "billing": BillingProjection,
}


def replay_part(
    settings: Settings, name: str, prefix: str, bounds: Positions, part: int, parts: int
) -> int:
    """A rebuild's worker process: folds one partition of the aggregates. It only reads the
    event store and writes the new generation's tables, so it creates nothing."""
    apps = {
        context: cls(
            env={**persistence_env(settings, context, "rebuild-part"), "CREATE_TABLE": "n"}
        )
        for context, cls in CONTEXTS.items()
    }
    db = open_database(settings, "rebuild-part")
    try:
        return fold_part(db, EventLog(apps), PROJECTIONS[name](prefix), bounds, part, parts)
    finally:
        db.close()
        for app in apps.values():
            app.close()


class ViewTimeout(NotYet):
    pass


class Marketplace:
    def __init__(self, settings: Settings | None = None, process: str = "serve") -> None:
        """`process` names what kind of process this is, for its connection budget."""
        self.settings = settings or Settings()
        # Processes started together (compose, an orchestrator) create the schema in turn.
        with schema_lock(self.settings):
            self._assemble(process)

    def _assemble(self, process: str) -> None:
        self.db: Database = open_database(self.settings, process)
        env = partial(persistence_env, self.settings, process=process)
        self.sellers = Sellers(env=env("sellers"))
        self.offers = Offers(env=env("offers"))
        self.buyers = Buyers(env=env("buyers"))
        self.orders = Orders(env=env("orders"))
        self.billing = Billing(env=env("billing"))
        self.offers.authorization_of = self.sellers.authorization
        self.contexts: dict[str, MarketplaceApplication] = {
            "sellers": self.sellers,
            "offers": self.offers,
            "buyers": self.buyers,
            "orders": self.orders,
            "billing": self.billing,
        }
        self._meta_table()
        self.clock = Clock(self.db, self.settings.controllable_clock)
        # Shipments made before billing existed on this store are not invoiced after the fact.
        self.billing_since = self._meta("billing_since", datetime.now(UTC).isoformat())[0]
        self.operator_key_generated = False
        if self.settings.operator_key:
            self.operator_key = self.settings.operator_key
        else:
            self.operator_key, self.operator_key_generated = self._meta("operator_key")
        self.secret = self.settings.secret_key or self._meta("secret_key")[0]
        self.tokens = PositionTokens(self.secret)
        self.idempotency = IdempotencyStore(self.db)
        self.people = People(self.sellers, self.buyers, Credentials(self.db), self.secret)
        self.web_sessions = WebSessions(self.db)
        self.carts = Carts(self.db)
        self.events = EventLog(self.contexts)
        self.outbox = Outbox(self.db)
        self.letters = Letters(self.settings, self.people.invitation_path, self.people.reset_path)
        # Set by the entry point that can make PDFs (the web edge, the `project` command).
        self.mail_attachments: Attachments = lambda _: None
        self.sender: Sender | None = None
        self.webhooks = Webhooks(self.db)
        self.webhook_sender: WebhookSender | None = None
        views: dict[str, ProjectionFactory] = {
            **PROJECTIONS,
            NOTIFICATIONS: partial(Notifications, letters=self.letters, load=self._notifier_row),
            WEBHOOKS: partial(WebhookDispatch, webhooks=self.webhooks),
        }
        self.projections = ProjectionRunner(self.db, self.events, views)
        if not self.settings.is_sqlite:
            self.projections.replay_parts = partial(replay_part, self.settings)
        self.catalog = CatalogView(self.projections)
        self.order_lists = OrdersView(self.projections)
        self.billing_lists = BillingView(self.projections)
        self.inbox = Inbox(self.projections)
        self.dac7 = Dac7(self.projections)
        self.in_process = not self.settings.kafka_bootstrap
        self._catalog_seen: Positions = {}
        self.imports = Imports(self.offers, JobTable(self.db))
        holds = Holds(self.offers)
        chooser = OfferChooser(self.offers, self.sellers, self.catalog.resellers_offering)
        self.taxes = Taxes(self.sellers, self.buyers, self.offers)
        self.invoicing = Invoicing(self.billing, self.orders, holds, self.clock.today, self.taxes)
        self.budgeting = Budgeting(self.orders, self.clock.today)
        self.payments = Payments(self.billing, self.invoicing)
        self.returns = Returns(
            self.billing, self.orders, holds, self.invoicing, self.clock.today, self.budgeting
        )
        self.payouts = Payouts(self.billing, self.taxes, self.clock.today)
        self.incidents = Incidents(self.billing, lambda: self.clock.now().isoformat())
        self.conversation = Conversation(self.orders, lambda: self.clock.now().isoformat())
        self.payouts.held = self.incidents.held_invoices
        charging = Charging(self.taxes, self.clock.today)
        self.statements = StatementImports(self.offers, self.imports, self.payments)
        self.placement = Placement(
            self.orders,
            self.sellers,
            self.buyers,
            chooser,
            holds,
            self._catalog_caught_up,
            self.invoicing.overdue,
            self.budgeting,
            charging,
            save_together if shared_datastore([self.orders, self.offers]) else None,
        )
        self.approvals = Approvals(self.orders, holds, self.budgeting)
        self.quoting = Quoting(
            self.orders, self.offers, self.placement, lambda: self.clock.now().isoformat()
        )
        self.fulfilment = Fulfilment(
            self.orders,
            self.sellers,
            chooser,
            holds,
            self._catalog_caught_up,
            self.invoicing,
            self.budgeting,
            charging,
        )
        self._closed = threading.Event()
        self._stopping = threading.Event()
        self._overdue_noticed_on = ""

    def _meta_table(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS marketplace_meta (key TEXT PRIMARY KEY, value TEXT)"
            )

    def _meta(self, key: str, made: str | None = None) -> tuple[str, bool]:
        """A value (a generated secret unless given) set on first start and kept with the
        data; and whether this call set it."""
        if made is None:
            made = (
                "mk_op_" + secrets.token_hex(20) if key == "operator_key" else secrets.token_hex(32)
            )
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO marketplace_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO NOTHING",
                [key, made],
            )
            cur.execute("SELECT value FROM marketplace_meta WHERE key = %s", [key])
            row = cur.fetchone()
        assert row is not None
        return str(row["value"]), row["value"] == made

    def change_account_status(
        self, account_id: UUID, change: StatusAction, reason: str | None
    ) -> Account:
        """Approves, suspends or reinstates a seller's or a buyer's account."""
        apps: tuple[MarketplaceApplication, ...] = (self.sellers, self.buyers)
        for app in apps:
            account = app.find(account_id, Account)
            if account is not None:
                account.change_status(change, reason)
                app.save(account)
                return account
        raise NotFound(f"unknown account {account_id}")

    def credit_of(self, buyer_id: UUID) -> list[dict[str, Any]]:
        """Per reseller the buyer has terms with: its credit limit, what open invoice orders
        hold, what issued invoices leave unpaid, what remains, and whether one is overdue."""
        found = []
        for reseller in self.catalog.resellers(str(buyer_id)):
            terms = self.offers.terms(UUID(reseller["id"]), buyer_id)
            if terms is None:
                continue
            limit = terms.credit_limit
            currency = (
                limit.currency
                if limit
                else self.billing_lists.currency_with(str(buyer_id), reseller["id"])
            )
            exposure = terms.credit_exposure
            unpaid = self.invoicing.unpaid(buyer_id, terms.reseller_id, currency)
            found.append(
                {
                    "reseller_id": reseller["id"],
                    "reseller_name": reseller["name"],
                    "credit_limit": limit.as_dict() if limit else None,
                    "held": {"amount": max(exposure - unpaid, 0), "currency": currency},
                    "unpaid": {"amount": unpaid, "currency": currency},
                    "remaining": None
                    if terms.credit_left is None
                    else {"amount": terms.credit_left, "currency": currency},
                    "overdue": self.invoicing.overdue(buyer_id, terms.reseller_id, currency)
                    is not None,
                    "payment_methods": terms.payment_methods,
                }
            )
        return found

    def order_again(
        self,
        buyer_id: UUID,
        placed_by: dict[str, str],
        spending_limit: Money | None,
        wanted: list[tuple[str, int]],
        payment_method: str,
        po_number: str | None,
        shipping_address: dict[str, str] | None,
        shipping_methods: Mapping[UUID, str] | None = None,
    ) -> tuple[Order, list[dict[str, Any]]]:
        """Places what a list or a past order asks for, as quick order resolves it today: the
        order, and the products skipped with why (none can be ordered: 422)."""
        resolved = resolve_products(self.catalog, str(buyer_id), None, wanted, payment_method)
        skipped = [{"product_id": pid, "problem": r.problem} for pid, r in resolved if r.problem]
        lines = [
            LineRequest(UUID(pid), r.quantity, UUID(r.offer["reseller_id"]))
            for pid, r in resolved
            if r.problem is None and r.offer is not None
        ]
        if not lines:
            raise Invalid([{"msg": "no line can be ordered now", "skipped": skipped}])
        order = self.placement.place(
            buyer_id,
            placed_by,
            spending_limit,
            lines,
            payment_method,
            po_number,
            shipping_address,
            shipping_methods=shipping_methods,
        )
        return order, skipped

    def dac7_report(self, year: int) -> list[dict[str, Any]]:
        """Each seller paid for anything in `year`, as DAC7 reports it: who it is (its tax
        profile) and, per quarter, the consideration, the activities and the fees."""
        quarters = self.dac7.year(year)
        names = self.catalog.account_names(list(quarters))
        report = []
        for seller_id, rows in sorted(quarters.items(), key=lambda kv: names.get(kv[0], kv[0])):
            profile = self.taxes.profile("seller", UUID(seller_id))
            report.append(
                {
                    "reseller_id": seller_id,
                    "legal_name": profile.legal_name if profile else names.get(seller_id, ""),
                    "country": profile.country if profile else None,
                    "vat_id": profile.vat_id if profile else None,
                    "tax_id": profile.tax_id if profile else None,
                    "address": dict(profile.address) if profile else None,
                    "quarters": rows,
                }
            )
        return report

    def credit_note(
        self, credit_note_id: UUID, buyer_id: UUID | None = None, seller_id: UUID | None = None
    ) -> dict[str, Any]:
        """A credit note as answers show it, for its buyer or its seller (None: anyone's)."""
        return_id = self.billing_lists.return_of_credit_note(str(credit_note_id))
        if return_id is None:
            raise NotFound(f"unknown credit note {credit_note_id}")
        found = self.billing.a_return(UUID(return_id), buyer_id=buyer_id, seller_id=seller_id)
        return self.returns.credit_note(found)

    def credit_balances(self, buyer_id: UUID) -> list[dict[str, Any]]:
        """What overpayments and credit notes left the buyer, per currency; its next
        invoices are paid from it first."""
        found = []
        for currency in self.billing_lists.currencies_of(str(buyer_id)):
            account = self.billing.find(BuyerAccount.create_id(buyer_id, currency), BuyerAccount)
            if account is not None and account.credit_balance:
                found.append({"amount": account.credit_balance, "currency": currency})
        return found

    def heads(self) -> Positions:
        return self.events.heads()

    def position_token(self, heads: Positions | None = None) -> str:
        """The token of the logs' heads: as given, read in the round trip of a command's
        last write, or read now."""
        return self.tokens.seal(heads if heads is not None else self.heads())

    def wanted_position(self, token: str) -> Positions:
        """The positions a token names; refused if the logs have not reached them, since a
        view could then never catch up."""
        wanted = self.tokens.open(token)
        heads = self.heads()
        if any(ctx not in heads or pos > heads[ctx] for ctx, pos in wanted.items()):
            raise BadToken("min_position is beyond the event log; it is not one issued here")
        return wanted

    def view_reached(self, name: str, wanted: Positions) -> bool:
        """Whether the view reflects `wanted`; in-process, it delivers what is pending first."""
        if self.in_process:
            self.projections.catch_up([name])
        return reached(self.projections.positions(name), wanted)

    def _catalog_caught_up(self) -> None:
        """Placing chooses among the offers the buyer's catalog lists, so it waits for the
        view when events that change what is listed have not reached it; stock moves alone
        do not make it wait (the chooser reads stock from the offers themselves)."""
        listed = self.events.last_of(LISTING_EVENTS)
        # The live catalog's positions only grow: once seen past every listing event, it
        # need not be read again until another listing event comes.
        if listed is not None and reached(self._catalog_seen, listed):
            return
        positions = self.projections.positions("catalog")
        news = self.events.news(positions, LISTING_EVENTS, listed)
        if not news:
            self._catalog_seen = positions
        else:
            self.projections.wait("catalog", news, VIEW_WAIT_S, deliver=self.in_process)

    def _notifier_row(self, table: str, some_id: str) -> dict[str, Any] | None:
        """What the notifier keeps of an order or a seller order, from the event store."""
        if table == "orders":
            order = self.orders.find(UUID(some_id), Order)
            if order is None:
                return None
            return order_row(some_id, str(order.buyer_id), order.placed_by)
        if table == "seller_orders":
            found = self.orders.find(UUID(some_id), SellerOrder)
            if found is None:
                return None
            return {
                "id": some_id,
                "order_id": str(found.order_id),
                "buyer_id": str(found.buyer_id),
                "seller_id": str(found.reseller_id),
            }
        return None

    def start_sending(self) -> None:
        """Delivers the outbox over SMTP (when a server is set) and the webhooks from this
        process."""
        if self.settings.smtp_url and self.sender is None:
            self.sender = Sender(self.settings, self.outbox, lambda ref: self.mail_attachments(ref))
            self.sender.start()
        if self.webhook_sender is None:
            self.webhook_sender = WebhookSender(
                self.settings, self.webhooks, self.tell_webhook_disabled
            )
            self.webhook_sender.start()

    def nudge_webhooks(self) -> None:
        if self.webhook_sender is not None:
            self.webhook_sender.nudge()

    def tell_webhook_disabled(self, subscription: Subscription) -> None:
        """Mails the admins of a disabled webhook's account (the operator's for its own)."""
        principals = (
            ["operator"]
            if subscription.account_id is None
            else ["manufacturer", "reseller", "buyer_user", "sales_rep"]
        )
        people = self.catalog.people_of(principals, subscription.account_id)
        letter = Letter(
            "webhook_disabled",
            None,
            f"Webhook to {subscription.url[:120]} disabled",
            [
                f"Deliveries to {subscription.url} have failed for five days, so it is "
                "disabled. Fix the endpoint, then replay the events since it failed from "
                "the API (POST /v1/webhooks/{id}/replay) or the webhooks page.",
            ],
            "/webhooks",
            "Open the webhooks",
        )
        event_id = f"webhook-disabled:{subscription.id}:{subscription.failing_since}"
        mails = [
            mail
            for p in people
            if p["role"] in ("admin", None)
            and p["state"] != "disabled"
            and (
                mail := self.letters.mail(
                    event_id, letter, Recipient(p["id"], p["email"], p["name"])
                )
            )
            is not None
        ]
        with self.db.transaction() as cur:
            outbox.add(cur, mails, self.letters.keep)

    def start(self) -> None:
        if self.in_process:
            self.projections.catch_up()
            self.projections.start()
            self.start_sending()
        self._housekeep()
        threading.Thread(target=self._housekeeping, daemon=True, name="housekeeping").start()

    def _housekeep(self) -> None:
        self.recover_orders(self.settings.recover_after_s)
        if cut_off := self.imports.fail_cut_off():
            log.info("marked %d import jobs cut off by a restart as failed", cut_off)
        self.notice_overdue()

    def notice_overdue(self) -> int:
        """Records each invoice that fell overdue in the last week, once, for its buyer's
        admins to hear of; done once a day by each process."""
        today = self.clock.today()
        if self._overdue_noticed_on == today:
            return 0
        since = (date.fromisoformat(today) - timedelta(days=7)).isoformat()
        ids = self.billing_lists.overdue_since(since, today)
        noticed = self.invoicing.notice_overdue([UUID(i) for i in ids])
        self._overdue_noticed_on = today
        return noticed

    def _housekeeping(self) -> None:
        """What a crashed peer process left half-done, the processes still running finish
        too, not only the next one to start. The first round looks back over the time this
        process may have been down."""
        window = STARTUP_SETTLE_WINDOW
        while True:
            try:
                self.resettle(window)
                window = SETTLE_WINDOW
            except Exception:
                log.exception("settling again failed; it runs again in %s s", HOUSEKEEPING_S)
            if self._stopping.wait(HOUSEKEEPING_S):
                return
            try:
                self._housekeep()
            except Exception:
                log.exception("housekeeping failed; it runs again in %s s", HOUSEKEEPING_S)

    def resettle(self, window: timedelta) -> int:
        """Does again what follows a payment, a credit note or a return in other contexts
        (credit released, stock put back, a budget given back), for those of the last
        `window`, and follows every open budget reservation: a crash between the two saves
        would leave it undone. Each step changes nothing when already done."""
        # Events carry real timestamps, whatever the controllable clock says.
        since = (datetime.now(UTC) - window).isoformat()
        settled = self.billing_lists.settled_since(since)
        self.invoicing.settle_credit([UUID(i) for i in settled])
        accepted = self.billing_lists.accepted_since(since)
        for return_id in accepted:
            self.returns.finish(UUID(return_id))
        followed = self.budgeting.sweep()
        return len(settled) + len(accepted) + followed

    def recover_orders(self, older_than_s: float = 30.0) -> int:
        """Finishes placing the orders, and rerouting the refused seller orders, that a
        crash left half-done; returns how many it saw."""
        before = (datetime.now(UTC) - timedelta(seconds=older_than_s)).isoformat()
        stuck = self.order_lists.placing_since(before)
        for order_id in stuck:
            self.placement.recover(UUID(order_id))
        reroutes = self.order_lists.reroutes_since(before)
        for order_id, refused_id in reroutes:
            self.fulfilment.finish_reroute(UUID(order_id), UUID(refused_id))
        uninvoiced = self.billing_lists.uninvoiced_since(before, self.billing_since)
        invoiced = sum(self.invoicing.invoice_missing(UUID(so_id)) for so_id in uninvoiced)
        if stuck or reroutes or invoiced:
            log.info(
                "finished %d half-placed orders, %d half-rerouted refusals and issued %d "
                "invoices a crash left out",
                len(stuck),
                len(reroutes),
                invoiced,
            )
        return len(stuck) + len(reroutes) + invoiced

    def stop(self) -> None:
        self._stopping.set()
        self.projections.stop()
        if self.sender is not None:
            self.sender.stop()
        if self.webhook_sender is not None:
            self.webhook_sender.stop()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._stopping.set()
        self.projections.stop()
        if self.sender is not None:
            self.sender.stop()
        if self.webhook_sender is not None:
            self.webhook_sender.stop()
        for app in self.contexts.values():
            app.close()
        self.db.close()
