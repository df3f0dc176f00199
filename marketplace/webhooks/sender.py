"""Delivers webhooks from their table: at least once, in order per aggregate for each
subscription, several endpoints at a time. A failed attempt waits longer each time (from
`webhook_retry_s`, doubling to an hour) and the delivery is given up after
`webhook_give_up_after_s` (a day and more); a subscription failing for
`webhook_disable_after_s` (five days) is disabled and its account's admins get a mail."""

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from marketplace.adapters.polling import Poller
from marketplace.adapters.settings import Settings
from marketplace.webhooks.post import Answer, post
from marketplace.webhooks.store import Delivery, Subscription, Webhooks
from marketplace.webhooks.urls import parse

log = logging.getLogger(__name__)
BATCH = 200
MAX_DELAY_S = 3600.0
# (the subscription disabled) -> None: tells its account's admins.
Disabled = Callable[[Subscription], None]


class WebhookSender:
    def __init__(self, settings: Settings, webhooks: Webhooks, disabled: Disabled) -> None:
        self.settings = settings
        self.webhooks = webhooks
        self.disabled = disabled
        self.claim = uuid.uuid4().hex
        self._pool = ThreadPoolExecutor(settings.webhook_workers, thread_name_prefix="webhook")
        self.poller = Poller("webhook-sender", self.send_due, settings.webhook_poll_s)

    def start(self) -> None:
        self.poller.start()

    def nudge(self) -> None:
        self.poller.nudge()

    def stop(self) -> None:
        self.poller.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def send_due(self) -> int:
        """Attempts one batch of due deliveries; returns how many it claimed."""
        batch = self.webhooks.claim(self.claim, self.settings.webhook_lease_s, BATCH)
        if not batch:
            return 0
        subscriptions: dict[str, Subscription] = {}
        for delivery in batch:
            if delivery.webhook_id not in subscriptions:
                subscriptions[delivery.webhook_id] = self.webhooks.by_id(delivery.webhook_id)
        answers = list(self._pool.map(lambda d: self._post(d, subscriptions[d.webhook_id]), batch))
        # What went through is recorded in one transaction; each failure on its own.
        self.webhooks.delivered(
            [(d, a.status or 0) for d, a in zip(batch, answers, strict=True) if a.delivered],
            self.claim,
        )
        for delivery, answer in zip(batch, answers, strict=True):
            if not answer.delivered:
                self._failed(delivery, subscriptions[delivery.webhook_id], answer)
        return len(batch)

    def _post(self, delivery: Delivery, subscription: Subscription) -> Answer:
        allow = self.settings.webhooks_allow_private
        try:
            return post(
                parse(subscription.url, allow),
                subscription.secret,
                delivery.event_id,
                delivery.body,
                allow,
            )
        except Exception as error:
            return Answer(None, str(getattr(error, "detail", error))[:300])

    def _failed(self, delivery: Delivery, subscription: Subscription, answer: Answer) -> None:
        age = time.time() - delivery.queued_at
        retry_in: float | None = min(
            self.settings.webhook_retry_s * 2 ** min(delivery.attempts, 30), MAX_DELAY_S
        )
        if age >= self.settings.webhook_give_up_after_s:
            retry_in = None
        failing_since = self.webhooks.attempt_failed(
            delivery, self.claim, answer.status, answer.error, retry_in
        )
        failing_for = time.time() - failing_since
        if failing_for >= self.settings.webhook_disable_after_s and self.webhooks.disable(
            subscription.id
        ):
            log.warning(
                "webhook %s disabled after failing for %.0f s", subscription.id, failing_for
            )
            self.disabled(subscription)
