"""Configuration: one TOML file, every key overridable as ``EHFGATE_<SECTION>_<KEY>``.

The names and defaults are part of the public contract (docs: README, "Configuration").
"""

from accesspoint.config.loader import ConfigError, load_config
from accesspoint.config.model import (
    APConfig,
    ArtifactsConfig,
    AutopostConfig,
    Config,
    DistributionConfig,
    InboundConfig,
    OutboundConfig,
    PeppolConfig,
    RoutingConfig,
    SecretsConfig,
    ServerConfig,
    SmtpConfig,
    StaticRoute,
    StoreConfig,
    TrustConfig,
    ValidationConfig,
    WebhooksConfig,
)

__all__ = [
    "APConfig",
    "ArtifactsConfig",
    "AutopostConfig",
    "Config",
    "ConfigError",
    "DistributionConfig",
    "InboundConfig",
    "OutboundConfig",
    "PeppolConfig",
    "RoutingConfig",
    "SecretsConfig",
    "ServerConfig",
    "SmtpConfig",
    "StaticRoute",
    "StoreConfig",
    "TrustConfig",
    "ValidationConfig",
    "WebhooksConfig",
    "load_config",
]
