"""Prometheus metrics of one application (a registry per app keeps tests independent)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
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

    def render(self) -> bytes:
        return generate_latest(self.registry)
