"""The notifier: a projection that decides who must hear of each event and writes their mail
to the outbox in the same transaction as its tracking, so an event is mailed once however
often it is delivered (api.md v1.2 lists the mail).

Its own tables hold what it needs to find the recipients (people with their roles and the
categories they turned off, and who placed each order); the outbox is not one of them, so a
rebuild finds the mail it would write already there. Events older than `HORIZON` are not
mailed: a notifier started on an existing store, or rebuilt, does not mail the past.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from marketplace.adapters.envelope import Envelope
from marketplace.adapters.sql import Cursor
from marketplace.kernel.people import Person
from marketplace.mail import outbox
from marketplace.mail.letters import Letter, Letters, Recipient
from projections.tables import Handler, TableProjection

NAME = "notifications"
HORIZON = timedelta(days=2)
# (table, id) -> the row the table would hold, read from the event store; None if unknown.
Load = Callable[[str, str], dict[str, Any] | None]
SELLER_PRINCIPALS = ("reseller", "manufacturer")

TABLES = {
    "people": "id TEXT PRIMARY KEY, account_id TEXT, principal TEXT NOT NULL, user_id TEXT, "
    "email TEXT NOT NULL, name TEXT NOT NULL, role TEXT, disabled INTEGER NOT NULL, "
    "off TEXT NOT NULL",
    "orders": "id TEXT PRIMARY KEY, buyer_id TEXT NOT NULL, placer_kind TEXT NOT NULL, "
    "placer_id TEXT NOT NULL",
    "seller_orders": "id TEXT PRIMARY KEY, order_id TEXT NOT NULL, buyer_id TEXT NOT NULL, "
    "seller_id TEXT NOT NULL",
    "quotes": "id TEXT PRIMARY KEY, buyer_id TEXT NOT NULL, seller_id TEXT NOT NULL, "
    "requester_id TEXT NOT NULL",
    "incidents": "id TEXT PRIMARY KEY, seller_order_id TEXT NOT NULL",
    "buyer_users": "buyer_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, "
    "name TEXT NOT NULL, email TEXT, disabled INTEGER NOT NULL, PRIMARY KEY (buyer_id, user_id)",
}
INDEXES = {
    "people_account": "people (account_id, principal)",
    "people_user": "people (user_id)",
}


def order_row(order_id: str, buyer_id: str, placed_by: dict[str, Any]) -> dict[str, Any]:
    """Who placed an order: a buyer user, or a sales rep on the buyer's behalf."""
    kind = placed_by.get("kind", "buyer_user")
    placer = placed_by.get("sales_rep_id") if kind == "sales_rep" else placed_by.get("user_id")
    return {"id": order_id, "buyer_id": buyer_id, "placer_kind": kind, "placer_id": placer or ""}


def short(some_id: str) -> str:
    return some_id[:8].upper()


class Notifications(TableProjection):
    name = NAME
    TABLES: ClassVar[dict[str, str]] = TABLES
    INDEXES: ClassVar[dict[str, str]] = INDEXES

    def __init__(
        self, prefix: str, letters: Letters | None = None, load: Load | None = None
    ) -> None:
        super().__init__(prefix)
        self.letters = letters
        self.load = load

    def handlers(self) -> dict[str, Handler]:
        return {
            "Person.Registered": self._person,
            "Person.Disabled": self._person_flag(1),
            "Person.Enabled": self._person_flag(0),
            "Person.MailPreferencesSet": self._preferences,
            "Person.PasswordResetAsked": self._reset_asked,
            "Buyer.Registered": self._buyer,
            "Buyer.UserAdded": self._buyer_user,
            "Buyer.UserChanged": self._buyer_user,
            "Buyer.UserEmailSet": self._user_email,
            "Buyer.UserDisabled": self._user_flag(1),
            "Buyer.UserEnabled": self._user_flag(0),
            "Order.Drafted": self._order,
            "Order.Placed": self._placed,
            "Order.Approved": self._decided("approved"),
            "Order.Rejected": self._decided("rejected"),
            "SellerOrder.Opened": self._seller_order,
            "SellerOrder.Released": self._released,
            "SellerOrder.Accepted": self._fulfilment("accepted"),
            "SellerOrder.Refused": self._fulfilment("refused"),
            "SellerOrder.Shipped": self._fulfilment("shipped"),
            "SellerOrder.MessagePosted": self._message,
            "Invoice.Issued": self._invoice,
            "Invoice.Overdue": self._overdue,
            "Return.Requested": self._return,
            "Quote.Requested": self._quote_requested,
            "Quote.Offered": self._quote_offered,
            "Payout.Made": self._payout,
            "Incident.Opened": self._incident_opened,
            "Incident.Resolved": self._incident("resolved"),
            "Incident.Closed": self._incident("closed"),
        }

    # What the notifier keeps

    def _person(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.upsert(
            self._t("people"),
            [
                "id",
                "account_id",
                "principal",
                "user_id",
                "email",
                "name",
                "role",
                "disabled",
                "off",
            ],
            [
                [
                    event["aggregate_id"],
                    data.get("account_id"),
                    data["principal"],
                    data.get("user_id"),
                    data["email"],
                    data["name"],
                    data.get("role"),
                    0,
                    "[]",
                ]
            ],
            "id",
        )
        if self.letters is None or not self._recent(event):
            return
        path = self.letters.invitation_path(event["aggregate_id"])
        if path is not None:
            letter = Letter(
                "invitation",
                None,
                f"You are invited to {self.letters.marketplace}",
                [
                    "You were given an account. Choose your password with the link below; "
                    "it is valid for seven days."
                ],
                path,
                "Choose your password",
            )
            self._send(
                cur, event, letter, self._people_where(cur, "id = %s", [event["aggregate_id"]])
            )

    def _person_flag(self, disabled: int) -> Handler:
        def handle(cur: Cursor, event: Envelope) -> None:
            cur.execute(
                f"UPDATE {self._t('people')} SET disabled = %s WHERE id = %s",
                [disabled, event["aggregate_id"]],
            )

        return handle

    def _preferences(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('people')} SET off = %s WHERE id = %s",
            [json.dumps(event["data"]["off"]), event["aggregate_id"]],
        )

    # A buyer's users (role, name, email, state) come from the buyer's own events, which
    # arrive in order; a person's events (its preferences) may come before or after them,
    # so the two are joined by email when recipients are looked up.

    def _buyer(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.upsert(
            self._t("buyer_users"),
            ["buyer_id", "user_id", "role", "name", "disabled"],
            [[event["aggregate_id"], data["admin_id"], "admin", data["admin_name"], 0]],
            "buyer_id, user_id",
        )

    def _buyer_user(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        if "name" in data:
            cur.upsert(
                self._t("buyer_users"),
                ["buyer_id", "user_id", "role", "name", "disabled"],
                [[event["aggregate_id"], data["user_id"], data["role"], data["name"], 0]],
                "buyer_id, user_id",
            )
        else:
            cur.execute(
                f"UPDATE {self._t('buyer_users')} SET role = %s WHERE buyer_id = %s "
                "AND user_id = %s",
                [data["role"], event["aggregate_id"], data["user_id"]],
            )

    def _user_email(self, cur: Cursor, event: Envelope) -> None:
        cur.execute(
            f"UPDATE {self._t('buyer_users')} SET email = %s WHERE buyer_id = %s AND user_id = %s",
            [event["data"]["email"].lower(), event["aggregate_id"], event["data"]["user_id"]],
        )

    def _user_flag(self, disabled: int) -> Handler:
        def handle(cur: Cursor, event: Envelope) -> None:
            cur.execute(
                f"UPDATE {self._t('buyer_users')} SET disabled = %s WHERE buyer_id = %s "
                "AND user_id = %s",
                [disabled, event["aggregate_id"], event["data"]["user_id"]],
            )

        return handle

    def _order(self, cur: Cursor, event: Envelope) -> None:
        row = order_row(
            event["aggregate_id"], event["data"]["buyer_id"], event["data"]["placed_by"]
        )
        cur.upsert(self._t("orders"), list(row), [list(row.values())], "id")

    def _seller_order(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.upsert(
            self._t("seller_orders"),
            ["id", "order_id", "buyer_id", "seller_id"],
            [[event["aggregate_id"], data["order_id"], data["buyer_id"], data["reseller_id"]]],
            "id",
        )

    def _quote_requested(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.upsert(
            self._t("quotes"),
            ["id", "buyer_id", "seller_id", "requester_id"],
            [[event["aggregate_id"], data["buyer_id"], data["reseller_id"], data["requested_by"]]],
            "id",
        )
        quote = short(event["aggregate_id"])
        self._send(
            cur,
            event,
            Letter(
                "quote_requested",
                "quotes",
                f"Quote {quote} asked for",
                [f"A buyer asks you for a quote ({quote})."],
                f"/reseller/quotes/{event['aggregate_id']}",
                "Open the quote",
            ),
            self._seller_people(cur, data["reseller_id"], ("orders", "admin")),
        )

    # Who hears of what

    def _reset_asked(self, cur: Cursor, event: Envelope) -> None:
        if self.letters is None:
            return
        letter = Letter(
            "password_reset",
            None,
            "Reset your password",
            [
                "Someone, hopefully you, asked to reset the password of this account. The "
                "link below works once, for one hour. If it was not you, ignore this mail: "
                "your password stays as it is."
            ],
            self.letters.reset_path(event["aggregate_id"], event["data"]["nonce"]),
            "Choose a new password",
        )
        self._send(cur, event, letter, self._people_where(cur, "id = %s", [event["aggregate_id"]]))

    def _placed(self, cur: Cursor, event: Envelope) -> None:
        order = self._one(cur, "orders", event["aggregate_id"])
        if order is None:
            return
        name = short(order["id"])
        path = f"/orders/{order['id']}"
        waiting = bool(event["data"].get("needs_approval"))
        self._send(
            cur,
            event,
            Letter(
                "order_placed",
                "orders",
                f"Order {name} placed" + (", waiting for approval" if waiting else ""),
                [
                    f"Your order {name} was placed."
                    + (" It is over a spending limit and waits for approval." if waiting else "")
                ],
                path,
                "Open the order",
            ),
            self._placer(cur, order),
        )
        if waiting:
            self._send(
                cur,
                event,
                Letter(
                    "approval_needed",
                    "approvals",
                    f"Order {name} is waiting for your approval",
                    [f"Order {name} is over its placer's spending limit and needs approval."],
                    "/approvals",
                    "Open the approvals",
                ),
                self._buyer_people(cur, order["buyer_id"], ("approver", "admin")),
            )

    def _decided(self, outcome: str) -> Handler:
        def handle(cur: Cursor, event: Envelope) -> None:
            order = self._one(cur, "orders", event["aggregate_id"])
            if order is None:
                return
            name = short(order["id"])
            self._send(
                cur,
                event,
                Letter(
                    f"order_{outcome}",
                    "orders",
                    f"Order {name} {outcome}",
                    [f"Your order {name} was {outcome}."],
                    f"/orders/{order['id']}",
                    "Open the order",
                ),
                self._placer(cur, order),
            )

        return handle

    def _released(self, cur: Cursor, event: Envelope) -> None:
        found = self._one(cur, "seller_orders", event["aggregate_id"])
        if found is None:
            return
        name = short(found["id"])
        self._send(
            cur,
            event,
            Letter(
                "new_seller_order",
                "orders",
                f"New order {name}",
                [f"You have a new order, {name}, to accept or refuse."],
                f"/reseller/orders/{found['id']}",
                "Open the order",
            ),
            self._seller_people(cur, found["seller_id"], ("orders", "admin")),
        )

    def _fulfilment(self, step: str) -> Handler:
        def handle(cur: Cursor, event: Envelope) -> None:
            found = self._one(cur, "seller_orders", event["aggregate_id"])
            order = self._one(cur, "orders", found["order_id"]) if found else None
            if found is None or order is None:
                return
            name = short(found["order_id"])
            said = [f"Your order {name}: the seller {step} its part ({short(found['id'])})."]
            if step == "refused" and event["data"].get("reason"):
                said.append(f"The reason given: {event['data']['reason']}")
            if step == "shipped" and event["data"].get("tracking"):
                said.append(f"Tracking: {event['data']['tracking']}")
            self._send(
                cur,
                event,
                Letter(
                    f"seller_order_{step}",
                    "orders",
                    f"Order {name} {step}",
                    said,
                    f"/orders/{found['order_id']}",
                    "Open the order",
                ),
                self._placer(cur, order),
            )

        return handle

    def _message(self, cur: Cursor, event: Envelope) -> None:
        found = self._one(cur, "seller_orders", event["aggregate_id"])
        if found is None:
            return
        data = event["data"]
        author = data["author"]
        name = short(found["order_id"])
        said = [f"{author.get('name', '')} wrote about order {name}:", data["body"]]
        kind = author.get("kind")
        if kind != "reseller":
            self._send(
                cur,
                event,
                Letter(
                    "new_message",
                    "messages",
                    f"New message on order {short(found['id'])}",
                    said,
                    f"/reseller/orders/{found['id']}",
                    "Open the conversation",
                ),
                self._seller_people(cur, found["seller_id"], ("orders", "admin"), author.get("id")),
            )
        if kind != "buyer_user":
            order = self._one(cur, "orders", found["order_id"])
            buyer_side = self._placer(cur, order) if order else []
            self._send(
                cur,
                event,
                Letter(
                    "new_message",
                    "messages",
                    f"New message on order {name}",
                    said,
                    f"/orders/{found['order_id']}",
                    "Open the conversation",
                ),
                [p for p in buyer_side if p.person_id != author.get("id")],
            )

    def _invoice(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        number = data["number"]
        self._send(
            cur,
            event,
            Letter(
                "invoice_issued",
                "invoices",
                f"Invoice {number} for order {short(data['order_id'])}",
                [f"Invoice {number} was issued for order {short(data['order_id'])}."],
                f"/invoices/{event['aggregate_id']}.pdf",
                "Download the invoice",
                {"kind": "invoice", "id": event["aggregate_id"], "name": f"invoice-{number}.pdf"},
            ),
            self._buyer_people(cur, data["buyer_id"], ("admin",)),
        )

    def _overdue(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        self._send(
            cur,
            event,
            Letter(
                "invoice_overdue",
                "invoices",
                f"Invoice {data['number']} is overdue",
                [f"Invoice {data['number']} was due on {data['due_on']} and is not paid yet."],
                f"/invoices/{event['aggregate_id']}.pdf",
                "Download the invoice",
            ),
            self._buyer_people(cur, data["buyer_id"], ("admin",)),
        )

    def _return(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        # The seller knows its part of an order by the seller order's number.
        name = short(data["seller_order_id"])
        self._send(
            cur,
            event,
            Letter(
                "return_requested",
                "returns",
                f"Return asked for on order {name}",
                [f"A buyer asks to return lines of order {name}.", f"Reason: {data['reason']}"],
                "/reseller/returns",
                "Open the returns",
            ),
            self._seller_people(cur, data["seller_id"], ("orders", "admin")),
        )

    def _quote_offered(self, cur: Cursor, event: Envelope) -> None:
        quote = self._one(cur, "quotes", event["aggregate_id"])
        if quote is None:
            return
        name = short(quote["id"])
        self._send(
            cur,
            event,
            Letter(
                "quote_offered",
                "quotes",
                f"Quote {name} offered",
                [
                    f"The seller offered prices for your quote {name}, valid to "
                    f"{event['data'].get('valid_to')}."
                ],
                f"/quotes/{quote['id']}",
                "Open the quote",
            ),
            self._buyer_users(cur, quote["buyer_id"], "u.user_id = %s", [quote["requester_id"]]),
        )

    def _payout(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        said = [
            f"A payout was made to you in {data['currency']} for what was paid up to "
            f"{data['up_to']}."
        ]
        attachment = None
        if data.get("commission_invoice_id"):
            said.append("Its commission invoice is attached.")
            attachment = {"kind": "commission_invoice", "id": data["commission_invoice_id"]}
        self._send(
            cur,
            event,
            Letter(
                "payout_made",
                "payouts",
                f"Payout {short(event['aggregate_id'])} made",
                said,
                f"/reseller/payouts/{event['aggregate_id']}",
                "Open the payout",
                attachment,
            ),
            self._seller_people(cur, data["seller_id"], ("finance", "admin")),
        )

    def _incident_opened(self, cur: Cursor, event: Envelope) -> None:
        data = event["data"]
        cur.upsert(
            self._t("incidents"),
            ["id", "seller_order_id"],
            [[event["aggregate_id"], data["seller_order_id"]]],
            "id",
        )
        name = short(data["seller_order_id"])
        self._send(
            cur,
            event,
            Letter(
                "incident_opened",
                "messages",
                f"Incident on order {name}: {data['reason'].replace('_', ' ')}",
                [f"The buyer reports a problem with order {name}.", data["comment"]],
                f"/reseller/orders/{data['seller_order_id']}",
                "Open the order",
            ),
            self._seller_people(cur, data["seller_id"], ("orders", "admin")),
        )

    def _incident(self, status: str) -> Handler:
        def handle(cur: Cursor, event: Envelope) -> None:
            incident = event["data"]
            opened = self._one(cur, "incidents", event["aggregate_id"])
            found = self._one(cur, "seller_orders", opened["seller_order_id"]) if opened else None
            if found is None:
                return
            said = incident.get("comment") or ""
            if status == "resolved":
                name = short(found["order_id"])
                order = self._one(cur, "orders", found["order_id"])
                letter = Letter(
                    "incident_resolved",
                    "messages",
                    f"Incident on order {name} resolved",
                    [f"The seller resolved the incident on order {name}.", said],
                    f"/orders/{found['order_id']}",
                    "Open the order",
                )
                self._send(cur, event, letter, self._placer(cur, order) if order else [])
                return
            name = short(found["id"])
            letter = Letter(
                "incident_closed",
                "messages",
                f"Incident on order {name} closed",
                [f"The incident on order {name} was closed.", said],
                f"/reseller/orders/{found['id']}",
                "Open the order",
            )
            self._send(
                cur,
                event,
                letter,
                self._seller_people(cur, found["seller_id"], ("orders", "admin")),
            )

        return handle

    # Finding people

    def _one(self, cur: Cursor, table: str, some_id: str) -> dict[str, Any] | None:
        """A row this projection keeps; for another aggregate's, whose events may not have
        arrived yet (Kafka orders events per aggregate only), read from the event store."""
        cur.execute(f"SELECT * FROM {self._t(table)} WHERE id = %s", [some_id])
        row = cur.fetchone()
        if row is not None:
            return dict(row)
        loaded = self.load(table, some_id) if self.load else None
        if loaded is not None:
            cur.upsert(self._t(table), list(loaded), [list(loaded.values())], "id")
        return loaded

    def _placer(self, cur: Cursor, order: dict[str, Any]) -> list[Recipient]:
        if order["placer_kind"] == "sales_rep":
            return self._people_where(
                cur, "principal = 'sales_rep' AND account_id = %s", [order["placer_id"]]
            )
        return self._buyer_users(cur, order["buyer_id"], "u.user_id = %s", [order["placer_id"]])

    def _buyer_people(self, cur: Cursor, buyer_id: str, roles: Sequence[str]) -> list[Recipient]:
        marks = ", ".join(["%s"] * len(roles))
        return self._buyer_users(cur, buyer_id, f"u.role IN ({marks})", list(roles))

    def _buyer_users(
        self, cur: Cursor, buyer_id: str, where: str, params: list[Any]
    ) -> list[Recipient]:
        """A buyer's enabled users with an email, and their person's mail choices."""
        cur.execute(
            f"SELECT u.email, u.name, p.off, p.disabled FROM {self._t('buyer_users')} u "
            f"LEFT JOIN {self._t('people')} p ON p.email = u.email "
            f"WHERE u.buyer_id = %s AND u.disabled = 0 AND u.email IS NOT NULL AND {where} "
            "ORDER BY u.email",
            [buyer_id, *params],
        )
        return [
            Recipient(
                str(Person.create_id(r["email"])),
                r["email"],
                r["name"],
                tuple(json.loads(r["off"] or "[]")),
            )
            for r in cur.fetchall()
            if not r["disabled"]
        ]

    def _seller_people(
        self, cur: Cursor, seller_id: str, roles: Sequence[str], but: str | None = None
    ) -> list[Recipient]:
        marks = ", ".join(["%s"] * len(roles))
        found = self._people_where(
            cur,
            f"principal IN ('reseller', 'manufacturer') AND account_id = %s AND role IN ({marks})",
            [seller_id, *roles],
        )
        return [p for p in found if p.person_id != but]

    def _people_where(self, cur: Cursor, where: str, params: list[Any]) -> list[Recipient]:
        cur.execute(
            f"SELECT id, email, name, off FROM {self._t('people')} WHERE disabled = 0 AND "
            f"{where} ORDER BY email",
            params,
        )
        return [
            Recipient(r["id"], r["email"], r["name"], tuple(json.loads(r["off"])))
            for r in cur.fetchall()
        ]

    def _recent(self, event: Envelope) -> bool:
        occurred = datetime.fromisoformat(event["occurred_at"])
        return datetime.now(UTC) - occurred <= HORIZON

    def _send(self, cur: Cursor, event: Envelope, letter: Letter, to: Iterable[Recipient]) -> None:
        """Writes the letter's mail to each person who has not turned its category off."""
        if self.letters is None or not self._recent(event):
            return
        mails = [
            mail
            for person in to
            if letter.category not in person.off
            and (mail := self.letters.mail(event["event_id"], letter, person)) is not None
        ]
        if mails:
            outbox.add(cur, mails, self.letters.keep)
