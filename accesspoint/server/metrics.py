"""Prometheus metrics of one application (a registry per app keeps tests independent).

``Metrics`` is also the pipeline's observer (``accesspoint.pipeline.observer``): the worker reports
sends and final statuses, and they are counted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from accesspoint.validation.report import Report

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
        self.send_seconds = Histogram(
            "ehfgate_send_seconds",
            "One AS4 send attempt, from request to verified answer, by outcome",
            ["outcome"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
            registry=self.registry,
        )
        self.delivery_seconds = Histogram(
            "ehfgate_delivery_seconds",
            "From an outbound document's acceptance to its final status (retries included)",
            ["status"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300, 3600, 21600, 86400),
            registry=self.registry,
        )
        self.outbound_documents = Counter(
            "ehfgate_outbound_documents",
            "Outbound documents that reached a final status",
            ["status"],
            registry=self.registry,
        )
        self.inbound_documents = Counter(
            "ehfgate_inbound_documents",
            "Received documents validated into the inbox, by status",
            ["status"],
            registry=self.registry,
        )
        self.queue_depth = Gauge("ehfgate_queue_depth", "Jobs not yet done", ["kind"], registry=self.registry)
        self.certificate_days = Gauge(
            "ehfgate_certificate_days_to_expiry",
            "Days until the AP certificate expires",
            registry=self.registry,
        )

    def validated(self, report: Report, seconds: float) -> None:
        self.validation_seconds.observe(seconds)
        self.validations.labels(verdict="valid" if report.valid else "invalid").inc()

    def transmitted(self, outcome: str, seconds: float) -> None:
        self.send_seconds.labels(outcome=outcome).observe(seconds)

    def outbound_final(self, status: str, seconds_since_submit: float) -> None:
        self.outbound_documents.labels(status=status).inc()
        self.delivery_seconds.labels(status=status).observe(max(seconds_since_submit, 0.0))

    def inbound_validated(self, status: str) -> None:
        self.inbound_documents.labels(status=status).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
