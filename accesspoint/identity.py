"""This access point's keys and trust: configured PEM files, or a development PKI made on first start.

Trust is the Peppol PKI of ``peppol.mode`` (pinned CA certificates, when installed) plus
``trust.anchors``; with neither configured, the dev PKI's own root. ``checker`` adds revocation
(OCSP/CRL) for the pipeline, which runs it after the AS4 layer's synchronous chain check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from accesspoint.as4.trust import TrustPolicy
from accesspoint.config import Config
from accesspoint.pki import Credentials, generate_dev_pki, load_credentials
from accesspoint.pki.checker import CertificateChecker
from accesspoint.pki.credentials import load_certificates
from accesspoint.pki.devpki import AP_CA_FILE, DEFAULT_SEATS, ROOT_CA_FILE
from accesspoint.pki.peppol_ca import PeppolCAUnavailable

log = logging.getLogger("ehfgate.identity")


class IdentityError(RuntimeError):
    """The AP key, certificate or trust anchors cannot be used; the message names the setting."""


@dataclass(frozen=True, slots=True)
class APIdentity:
    credentials: Credentials
    seat_id: str
    trust: TrustPolicy
    checker: CertificateChecker | None = None  # chain + revocation; None in tests that need no I/O


def load_identity(config: Config) -> APIdentity:
    """Keys from ``ap.*`` (else a dev PKI made once under the data dir) and the trust that goes with them."""
    dev_anchors: list[x509.Certificate] = []
    try:
        if config.ap.key and config.ap.cert:
            credentials = load_credentials(config.ap.key, config.ap.cert, config.ap.chain)
        else:
            dev = config.server.data_dir / "dev-pki"
            seat = config.ap.seat_id or DEFAULT_SEATS[0]
            key_path, cert_path = dev / f"{seat}.key.pem", dev / f"{seat}.cert.pem"
            if not key_path.exists():
                files = generate_dev_pki(dev, (seat,))
                key_path, cert_path = files.keys[seat], files.certificates[seat]
                log.info("generated a development PKI in %s (not for production)", dev)
            credentials = load_credentials(key_path, cert_path, [dev / AP_CA_FILE])
            if not config.trust.anchors:
                dev_anchors = load_certificates(Path(dev / ROOT_CA_FILE).read_bytes())
        checker = CertificateChecker.from_config(config, anchors=dev_anchors, intermediates=credentials.chain)
    except PeppolCAUnavailable as exc:
        raise IdentityError(f"trust.anchors: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise IdentityError(f"ap.key / ap.cert / trust.anchors: {exc}") from exc
    seat_id = config.ap.seat_id or credentials.common_name
    if not seat_id:
        raise IdentityError("ap.seat_id: not set and the certificate has no CN")
    return APIdentity(credentials, seat_id, checker.as4_trust(), checker)
