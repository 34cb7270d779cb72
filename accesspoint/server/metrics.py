"""Prometheus metrics of one application (a registry per app keeps tests independent)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


def _registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        self.http_requests = Counter(
            "ehfgate_http_requests", "HTTP requests answered", ["route", "status"], registry=self.registry
        )
        self.as4_messages = Counter(
            "ehfgate_as4_messages",
            "AS4 messages by direction and outcome",
            ["direction", "outcome"],
            registry=self.registry,
        )
        self.validations = Counter(
            "ehfgate_validations", "Documents validated, by verdict", ["verdict"], registry=self.registry
        )
        self.validation_seconds = Histogram(
            "ehfgate_validation_seconds",
            "Time to validate one document",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )

        self.queue_depth = Gauge("ehfgate_queue_depth", "Jobs not yet done", ["kind"], registry=self.registry)
        self.certificate_days = Gauge(
            "ehfgate_certificate_days_to_expiry",
            "Days until the AP certificate expires",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
