"""Infrastructure: settings, the event store, SQL, Kafka, the relay, envelopes, metrics."""
