"""Keys and certificates: credentials loading and the development PKI.

The Peppol PKI trust decision lives with the AS4 reader (``accesspoint.as4.trust``); this package
only holds the material (a key, its certificate and chain) and produces test PKIs.
"""

from accesspoint.pki.credentials import Credentials, load_credentials
from accesspoint.pki.devpki import DevPki, DevPkiFiles, create_dev_pki, generate_dev_pki

__all__ = [
    "Credentials",
    "DevPki",
    "DevPkiFiles",
    "create_dev_pki",
    "generate_dev_pki",
    "load_credentials",
]
