"""This access point's keys and trust: configured PEM files, or a development PKI made on first start."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from accesspoint.as4 import AnchorTrust
from accesspoint.config import Config
from accesspoint.pki import Credentials, generate_dev_pki, load_credentials
from accesspoint.pki.credentials import load_certificates
from accesspoint.pki.devpki import AP_CA_FILE, DEFAULT_SEATS, ROOT_CA_FILE

log = logging.getLogger("ehfgate.identity")


class IdentityError(RuntimeError):
    """The AP key, certificate or trust anchors cannot be used; the message names the setting."""


@dataclass(frozen=True, slots=True)
class APIdentity:
    credentials: Credentials
    seat_id: str
    trust: AnchorTrust


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def load_identity(config: Config) -> APIdentity:
    """Keys from ``ap.*`` (else a dev PKI made once under the data dir); trust from ``trust.anchors``."""
    anchors_files = list(config.trust.anchors)
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
            chain = [dev / AP_CA_FILE]
            credentials = load_credentials(key_path, cert_path, chain)
            if not anchors_files:
                anchors_files = [dev / ROOT_CA_FILE]
        certificates = [c for path in anchors_files for c in load_certificates(Path(path).read_bytes())]
    except (OSError, ValueError) as exc:
        raise IdentityError(f"ap.key / ap.cert / trust.anchors: {exc}") from exc
    roots = tuple(c for c in certificates if _self_signed(c))
    if not roots:
        raise IdentityError("trust.anchors: no root CA certificate configured")
    intermediates = tuple(c for c in certificates if not _self_signed(c)) + tuple(credentials.chain)
    seat_id = config.ap.seat_id or credentials.common_name
    if not seat_id:
        raise IdentityError("ap.seat_id: not set and the certificate has no CN")
    return APIdentity(credentials, seat_id, AnchorTrust(anchors=roots, intermediates=intermediates))
