"""Typed configuration sections. Field names are the TOML keys; defaults run on one machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import platformdirs


def _default_artifacts_dir() -> Path:
    return Path(platformdirs.user_cache_dir("ehfgate")) / "artifacts"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    data_dir: Path = Path("var")
    max_body_bytes: int = 100 * 1024 * 1024

    @property
    def effective_public_url(self) -> str:
        """The /as4 URL peers use; derived from host and port unless set."""
        return self.public_url or f"http://{self.host}:{self.port}/as4"


@dataclass(frozen=True, slots=True)
class StoreConfig:
    url: str | None = None
    migrate_on_start: bool = True


@dataclass(frozen=True, slots=True)
class APConfig:
    seat_id: str | None = None
    key: Path | None = None
    cert: Path | None = None
    chain: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class TrustConfig:
    anchors: tuple[Path, ...] = ()
    revocation: Literal["hard", "soft", "off"] = "soft"


@dataclass(frozen=True, slots=True)
class PeppolConfig:
    mode: Literal["test", "production"] = "test"
    sml_zone: str | None = None
    dns_server: str | None = None


@dataclass(frozen=True, slots=True)
class StaticRoute:
    participant: str
    url: str
    cert: Path


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """``static`` routes bypass discovery; ``discovery`` off means only static routes are used."""

    static: tuple[StaticRoute, ...] = ()
    discovery: bool = True


@dataclass(frozen=True, slots=True)
class OutboundConfig:
    """Sending: retry delays in seconds (then ``failed``), lease length, concurrent sends per process."""

    retry_schedule: tuple[int, ...] = (60, 300, 900, 1800, 3600, 7200, 7200, 14400, 21600, 28800)
    lease_seconds: int = 300
    workers: int = 4
    timeout_seconds: int = 120


@dataclass(frozen=True, slots=True)
class InboundConfig:
    duplicate_retention_days: int = 30


@dataclass(frozen=True, slots=True)
class ArtifactsConfig:
    dir: Path = field(default_factory=_default_artifacts_dir)
    mirror: Path | None = None


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    max_document_bytes: int = 100 * 1024 * 1024
    jobs: int = 1


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: int = 60
    # DKIM signing of outgoing mail when all three are set (the key file is a PEM private key).
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key: Path | None = None


@dataclass(frozen=True, slots=True)
class DistributionConfig:
    """The distribution run: default From address, sender domains that authorise this gateway (a
    tenant's own address is used as From only on these; else as Reply-To), retries of a method's
    transient failures (seconds; then the run falls through), how often a pending delivery is
    asked for its status, and concurrent runs per process."""

    sender: str | None = None
    allowed_sender_domains: tuple[str, ...] = ()
    retry_schedule: tuple[int, ...] = (60, 300, 1800, 7200)
    status_poll_seconds: int = 30
    workers: int = 2
    render_processes: int | None = None  # None: one fewer than the cores, at most 4; 0: in the loop


@dataclass(frozen=True, slots=True)
class AutopostConfig:
    """The print-and-mail provider (our HTTP contract): base URL and API key; unset disables AutoPost."""

    url: str | None = None
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class WebhooksConfig:
    secret_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class SecretsConfig:
    key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    ap: APConfig = field(default_factory=APConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)
    peppol: PeppolConfig = field(default_factory=PeppolConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    outbound: OutboundConfig = field(default_factory=OutboundConfig)
    inbound: InboundConfig = field(default_factory=InboundConfig)
    artifacts: ArtifactsConfig = field(default_factory=ArtifactsConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    distribution: DistributionConfig = field(default_factory=DistributionConfig)
    autopost: AutopostConfig = field(default_factory=AutopostConfig)
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)
    secrets: SecretsConfig = field(default_factory=SecretsConfig)
    source: str = "built-in defaults"

    @property
    def store_url(self) -> str:
        """The effective store URL: configured, else an SQLite file in the data directory."""
        return self.store.url or f"sqlite:///{self.server.data_dir / 'ehfgate.db'}"
