"""The domain: aggregates and rules (standard library and eventsourcing.domain only)."""
