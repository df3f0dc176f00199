"""Prometheus metrics, served at /metrics by every process."""

from prometheus_client import Counter, Gauge

EVENTS_PUBLISHED = Counter(
    "marketplace_events_published", "Events the relay published to Kafka", ["context"]
)
EVENTS_PROJECTED = Counter(
    "marketplace_events_projected", "Events delivered to a projection", ["projection"]
)
POISON_EVENTS = Counter(
    "marketplace_poison_events", "Events a projection could not apply", ["projection"]
)
PROJECTION_LAG = Gauge(
    "marketplace_projection_lag_events", "Events stored but not yet in the view", ["projection"]
)
RELAY_LAG = Gauge(
    "marketplace_relay_lag_events", "Events stored but not yet published", ["context"]
)
REBUILDS = Counter("marketplace_rebuilds", "Completed projection rebuilds", ["projection"])
PROJECTION_STALLED = Gauge(
    "marketplace_projection_stalled",
    "1 while a projection's watermark stays behind its logs without progress",
    ["projection"],
)
PROJECTION_STALLS = Counter(
    "marketplace_projection_stalls", "Times a projection was found stalled", ["projection"]
)
CONSUMER_RESTARTS = Counter(
    "marketplace_consumer_restarts",
    "Kafka consumers replaced after a call into the client library did not return",
    ["projection"],
)
