"""Keys and certificates: credentials, the development PKI, and the trust decision on peers' certificates.

:class:`CertificateChecker` (``accesspoint.pki.checker``) is the one entry point: chain by purpose to
the Peppol CAs of ``peppol.mode`` (pinned artifacts) or to ``trust.anchors``, then revocation (OCSP,
CRL fallback) per ``trust.revocation``. The AS4 core uses its synchronous adapter.
"""

from accesspoint.pki.chain import CertificateRefused, Purpose
from accesspoint.pki.checker import CertificateChecker, TrustVerdict
from accesspoint.pki.credentials import Credentials, load_credentials
from accesspoint.pki.devpki import DevPki, DevPkiFiles, create_dev_pki, generate_dev_pki
from accesspoint.pki.revocation import RevocationChecker, RevocationResult

__all__ = [
    "CertificateChecker",
    "CertificateRefused",
    "Credentials",
    "DevPki",
    "DevPkiFiles",
    "Purpose",
    "RevocationChecker",
    "RevocationResult",
    "TrustVerdict",
    "create_dev_pki",
    "generate_dev_pki",
    "load_credentials",
]
