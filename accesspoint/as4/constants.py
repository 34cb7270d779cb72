"""Namespace and algorithm URIs used on the wire. Names only; which ones are allowed is profile data."""

from __future__ import annotations

from typing import Final

# Namespaces
SOAP12: Final = "http://www.w3.org/2003/05/soap-envelope"
SOAP11: Final = "http://schemas.xmlsoap.org/soap/envelope/"
EB: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
EBBP: Final = "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0"
WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSSE11: Final = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
XENC: Final = "http://www.w3.org/2001/04/xmlenc#"
XENC11: Final = "http://www.w3.org/2009/xmlenc11#"
EXC_C14N_NS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"

NSMAP: Final = {
    "S12": SOAP12,
    "eb": EB,
    "ebbp": EBBP,
    "wsse": WSSE,
    "wsse11": WSSE11,
    "wsu": WSU,
    "ds": DS,
    "xenc": XENC,
    "xenc11": XENC11,
    "ec": EXC_C14N_NS,
}

WSU_ID: Final = f"{{{WSU}}}Id"

# WS-Security token profile
BST_X509V3: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BST_BASE64: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
TOKEN_ENCRYPTED_KEY: Final = "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey"  # noqa: S105 (a URI, not a secret)

# SwA profile
SWA: Final = "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1"
ATTACHMENT_CONTENT_SIGNATURE: Final = f"{SWA}#Attachment-Content-Signature-Transform"
ATTACHMENT_COMPLETE_SIGNATURE: Final = f"{SWA}#Attachment-Complete-Signature-Transform"
ATTACHMENT_CONTENT_ONLY: Final = f"{SWA}#Attachment-Content-Only"
ATTACHMENT_COMPLETE: Final = f"{SWA}#Attachment-Complete"
ATTACHMENT_CIPHERTEXT: Final = f"{SWA}#Attachment-Ciphertext-Transform"

# Algorithms (allowed and refused ones, so refusals can name what they saw)
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1: Final = "http://www.w3.org/2000/09/xmldsig#sha1"
RSA_OAEP: Final = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
RSA_OAEP_MGF1P: Final = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
RSA_1_5: Final = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
MGF1_SHA256: Final = "http://www.w3.org/2009/xmlenc11#mgf1sha256"
MGF1_SHA1: Final = "http://www.w3.org/2009/xmlenc11#mgf1sha1"
AES128_GCM: Final = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
AES128_CBC: Final = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"

# ebMS values
ROLE_INITIATOR: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"
ROLE_RESPONDER: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder"
DEFAULT_MPC: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/defaultMPC"
PING_SERVICE: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/service"
PING_ACTION: Final = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/test"

# Content types
SOAP_CONTENT_TYPE: Final = "application/soap+xml"
GZIP: Final = "application/gzip"
