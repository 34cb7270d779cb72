"""WS-Security 1.1.1 for AS4: sign-then-encrypt on the way out; policy check, key unwrap and signature
verification on the way in.

Incoming processing is split so the reader can order it: :func:`read_security` checks structure and
the algorithm allow-list without any cryptography (EBMS:0103/0009); :func:`verify_signature` proves
the exact ``eb:Messaging``, ``Body`` and attachment set were signed; :func:`unwrap_session_key`
finds our key by the recipient certificate (several keys allowed, for certificate rollover).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from accesspoint.as4 import constants as c
from accesspoint.as4 import payloadcrypto
from accesspoint.as4.envelope import Envelope, children, invalid
from accesspoint.as4.errors import FAILED_AUTHENTICATION, FAILED_DECRYPTION, POLICY_NONCOMPLIANCE, EbmsError
from accesspoint.as4.mime import Attachment
from accesspoint.as4.model import SignedReference
from accesspoint.as4.profile import AlgorithmSuite, Limits
from accesspoint.as4.xmldsig import (
    Element,
    ParsedReference,
    ParsedSignature,
    ToSign,
    append_signature,
    check_element_digest,
    check_key,
    decode_base64,
    ds,
    encode_base64,
    parse_signature,
    resolve_same_document,
    verify_signed_info,
)
from accesspoint.pki.credentials import Credentials

_BST = f"{{{c.WSSE}}}BinarySecurityToken"
_STR = f"{{{c.WSSE}}}SecurityTokenReference"
_WSSE_REF = f"{{{c.WSSE}}}Reference"


def xenc(local: str) -> str:
    return f"{{{c.XENC}}}{local}"


def _policy(text: str, reason: str = "policy") -> EbmsError:
    return EbmsError(POLICY_NONCOMPLIANCE, text, reason=reason)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"


# -- outgoing ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutgoingPart:
    """A (compressed) attachment to sign and encrypt. ``mime_type`` is its type before encryption."""

    content_id: str
    mime_type: str
    data: bytes


def _add_token(security: Element, cert: x509.Certificate) -> str:
    token_id = new_id("X509")
    token = etree.SubElement(security, _BST, EncodingType=c.BST_BASE64, ValueType=c.BST_X509V3)
    token.set(c.WSU_ID, token_id)
    token.text = encode_base64(cert.public_bytes(Encoding.DER))
    return token_id


def _add_token_reference(parent: Element, token_id: str) -> None:
    key_info = etree.SubElement(parent, ds("KeyInfo"), nsmap={"ds": c.DS})
    str_el = etree.SubElement(key_info, _STR)
    etree.SubElement(str_el, _WSSE_REF, URI=f"#{token_id}", ValueType=c.BST_X509V3)


def _encrypt_parts(
    security: Element, parts: Sequence[OutgoingPart], recipient: x509.Certificate
) -> list[Attachment]:
    public = recipient.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the receiver certificate has no RSA key")
    token_id = _add_token(security, recipient)
    key = payloadcrypto.new_session_key()
    key_id = new_id("EK")
    nsmap = {"xenc": c.XENC}
    encrypted_key = etree.SubElement(security, xenc("EncryptedKey"), Id=key_id, nsmap=nsmap)
    method = etree.SubElement(encrypted_key, xenc("EncryptionMethod"), Algorithm=c.RSA_OAEP)
    etree.SubElement(method, ds("DigestMethod"), Algorithm=c.SHA256, nsmap={"ds": c.DS})
    etree.SubElement(method, f"{{{c.XENC11}}}MGF", Algorithm=c.MGF1_SHA256, nsmap={"xenc11": c.XENC11})
    _add_token_reference(encrypted_key, token_id)
    cipher = etree.SubElement(encrypted_key, xenc("CipherData"))
    etree.SubElement(cipher, xenc("CipherValue")).text = encode_base64(payloadcrypto.wrap_key(key, public))
    reference_list = etree.SubElement(encrypted_key, xenc("ReferenceList"))
    sealed: list[Attachment] = []
    for part in parts:
        data_id = new_id("ED")
        etree.SubElement(reference_list, xenc("DataReference"), URI=f"#{data_id}")
        encrypted = etree.SubElement(
            security,
            xenc("EncryptedData"),
            Id=data_id,
            MimeType=part.mime_type,
            Type=c.ATTACHMENT_CONTENT_ONLY,
            nsmap=nsmap,
        )
        etree.SubElement(encrypted, xenc("EncryptionMethod"), Algorithm=c.AES128_GCM)
        key_info = etree.SubElement(encrypted, ds("KeyInfo"), nsmap={"ds": c.DS})
        str_el = etree.SubElement(key_info, _STR, nsmap={"wsse11": c.WSSE11})
        str_el.set(f"{{{c.WSSE11}}}TokenType", c.TOKEN_ENCRYPTED_KEY)
        etree.SubElement(str_el, _WSSE_REF, URI=f"#{key_id}")
        cipher_data = etree.SubElement(encrypted, xenc("CipherData"))
        cipher_ref = etree.SubElement(cipher_data, xenc("CipherReference"), URI=f"cid:{part.content_id}")
        transforms = etree.SubElement(cipher_ref, xenc("Transforms"))
        etree.SubElement(transforms, ds("Transform"), Algorithm=c.ATTACHMENT_CIPHERTEXT, nsmap={"ds": c.DS})
        sealed.append(
            Attachment(part.content_id, "application/octet-stream", payloadcrypto.encrypt(key, part.data))
        )
    return sealed


def secure(
    envelope: Envelope,
    signer: Credentials,
    parts: Sequence[OutgoingPart] = (),
    recipient: x509.Certificate | None = None,
) -> tuple[tuple[SignedReference, ...], list[Attachment]]:
    """Sign Messaging, Body and each part; then encrypt the parts for ``recipient`` (if given).

    Returns the signed references (for receipt checking) and the MIME attachments to send.
    """
    security = envelope.security
    if security is None:
        raise ValueError("the envelope needs a wsse:Security header")
    attachments = (
        _encrypt_parts(security, parts, recipient)
        if recipient is not None
        else [Attachment(p.content_id, p.mime_type, p.data) for p in parts]
    )
    token_id = _add_token(security, signer.certificate)
    items = [
        ToSign(f"#{envelope.messaging.get(c.WSU_ID)}", element=envelope.messaging),
        ToSign(f"#{envelope.body.get(c.WSU_ID)}", element=envelope.body),
        *(ToSign(f"cid:{p.content_id}", content=p.data) for p in parts),
    ]
    references = append_signature(security, items, signer.private_key, token_id, new_id("SIG"))
    return references, attachments


# -- incoming ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EncryptedKeyInfo:
    """The EncryptedKey; ``recipient_der`` is the certificate it names (compared, not parsed)."""

    element: Element
    recipient_der: bytes
    wrapped_key: bytes

    @property
    def recipient(self) -> x509.Certificate | None:
        try:
            return x509.load_der_x509_certificate(self.recipient_der)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class SecurityHeader:
    """What the policy check found; no cryptographic claim has been verified yet."""

    signature: ParsedSignature
    signer: x509.Certificate
    encrypted_key: EncryptedKeyInfo | None
    encrypted_parts: frozenset[str]


def _check_token_type(token: Element) -> None:
    if token.get("ValueType") != c.BST_X509V3:
        raise _policy("the security token is not an X.509 v3 certificate", "token")
    if token.get("EncodingType", c.BST_BASE64) != c.BST_BASE64:
        raise _policy("the security token is not base64 encoded", "token")


def _certificate_from_token(token: Element) -> x509.Certificate:
    _check_token_type(token)
    der = decode_base64(token.text, "wsse:BinarySecurityToken")
    try:
        cert = x509.load_der_x509_certificate(der)
        # Touch what later checks read, so a malformed certificate fails here, as one error.
        cert.public_key()
        _ = cert.extensions
    except (ValueError, UnsupportedAlgorithm):
        raise EbmsError(
            FAILED_AUTHENTICATION, "the security token is not a usable certificate", reason="token"
        ) from None
    return cert


def _resolve_token(key_info: Element | None, ids: dict[str, Element], security: Element) -> Element:
    """KeyInfo -> the BinarySecurityToken it references directly (anything else is EBMS:0103)."""
    if key_info is None:
        raise _policy("a KeyInfo is missing", "token")
    refs = children(key_info)
    if len(refs) != 1 or refs[0].tag != _STR:
        raise _policy("the key must be a wsse:SecurityTokenReference", "token")
    direct = children(refs[0])
    if len(direct) != 1 or direct[0].tag != _WSSE_REF:
        raise _policy("the certificate must be a BinarySecurityToken referenced directly", "token")
    target = resolve_same_document(direct[0].get("URI", ""), ids)
    if target.tag != _BST or target.getparent() is not security:
        raise _policy("the key reference does not name a BinarySecurityToken of this header", "token")
    return target


def _read_encrypted_key(
    element: Element, ids: dict[str, Element], security: Element, suite: AlgorithmSuite
) -> tuple[EncryptedKeyInfo, set[str]]:
    method = element.find(xenc("EncryptionMethod"))
    algorithm = None if method is None else method.get("Algorithm")
    if method is None or algorithm != suite.key_transport:
        raise _policy(f"key transport {algorithm!r} is not allowed", "algorithm")
    digest = method.find(ds("DigestMethod"))
    if digest is None or digest.get("Algorithm") != suite.key_transport_digest:
        raise _policy("key transport digest must be SHA-256", "algorithm")
    mgf = method.find(f"{{{c.XENC11}}}MGF")
    if mgf is None or mgf.get("Algorithm") != suite.key_transport_mgf:
        raise _policy("key transport MGF must be MGF1 with SHA-256", "algorithm")
    token = _resolve_token(element.find(ds("KeyInfo")), ids, security)
    value = element.find(f"{xenc('CipherData')}/{xenc('CipherValue')}")
    if value is None:
        raise invalid("xenc:EncryptedKey has no CipherValue")
    data_refs = set()
    for ref in element.iterfind(f"{xenc('ReferenceList')}/{xenc('DataReference')}"):
        data_refs.add(ref.get("URI", ""))
    _check_token_type(token)
    recipient = decode_base64(token.text, "wsse:BinarySecurityToken")
    info = EncryptedKeyInfo(element, recipient, decode_base64(value.text, "CipherValue"))
    return info, data_refs


def _read_encrypted_data(
    element: Element, ids: dict[str, Element], key: Element | None, suite: AlgorithmSuite
) -> str:
    """Check one xenc:EncryptedData for an attachment; return the Content-ID it covers."""
    if element.get("Type") != c.ATTACHMENT_CONTENT_ONLY:
        raise _policy(f"encrypted data of type {element.get('Type')!r} is not supported", "encryption")
    method = element.find(xenc("EncryptionMethod"))
    algorithm = None if method is None else method.get("Algorithm")
    if algorithm != suite.data_encryption:
        raise _policy(f"data encryption {algorithm!r} is not allowed", "algorithm")
    key_info = element.find(ds("KeyInfo"))
    if key_info is not None:
        refs = key_info.findall(f"{_STR}/{_WSSE_REF}")
        if len(refs) != 1 or resolve_same_document(refs[0].get("URI", ""), ids) is not key:
            raise _policy("encrypted data names a key other than the message's EncryptedKey", "encryption")
    cipher_refs = element.findall(f"{xenc('CipherData')}/{xenc('CipherReference')}")
    if len(cipher_refs) != 1:
        raise _policy("encrypted data must reference its attachment", "encryption")
    uri = cipher_refs[0].get("URI", "")
    transforms = cipher_refs[0].findall(f"{xenc('Transforms')}/{ds('Transform')}")
    if [t.get("Algorithm") for t in transforms] != [c.ATTACHMENT_CIPHERTEXT]:
        raise _policy("encrypted attachment needs the Attachment-Ciphertext-Transform", "encryption")
    if not uri.startswith("cid:") or len(uri) < 5:
        raise _policy(f"encrypted data reference {uri!r} is not an attachment", "encryption")
    return unquote(uri[4:])


def read_security(
    envelope: Envelope,
    ids: dict[str, Element],
    suite: AlgorithmSuite,
    limits: Limits,
    *,
    attachment_ids: Collection[str],
    require_encryption: bool,
) -> SecurityHeader:
    """Policy and structure of wsse:Security, before any cryptography."""
    security = envelope.security
    if security is None:
        raise _policy("the message is not signed (no wsse:Security header)", "unsigned")
    signatures = children(security, ds("Signature"))
    if len(signatures) != 1:
        raise _policy(f"expected one ds:Signature, found {len(signatures)}", "unsigned")
    signature = parse_signature(signatures[0], suite, limits.max_references)
    signer = _certificate_from_token(_resolve_token(signature.key_info, ids, security))
    keys = children(security, xenc("EncryptedKey"))
    datas = children(security, xenc("EncryptedData"))
    if not attachment_ids and not keys and not datas:
        return SecurityHeader(signature, signer, None, frozenset())
    if len(keys) != 1:
        raise _policy(f"expected one xenc:EncryptedKey, found {len(keys)}", "unencrypted")
    key_info, data_refs = _read_encrypted_key(keys[0], ids, security, suite)
    covered: set[str] = set()
    for data in datas:
        if f"#{data.get('Id', '')}" not in data_refs:
            raise _policy("encrypted data is not listed by the EncryptedKey", "encryption")
        cid = _read_encrypted_data(data, ids, keys[0], suite)
        if cid in covered or cid not in attachment_ids:
            raise _policy(f"encrypted data for an unexpected attachment {cid!r}", "encryption")
        covered.add(cid)
    if len(data_refs) != len(datas):
        raise _policy("the EncryptedKey lists data that is not in the header", "encryption")
    missing = set(attachment_ids) - covered
    if require_encryption and missing:
        raise _policy(f"attachment {sorted(missing)[0]!r} is not encrypted", "unencrypted")
    return SecurityHeader(signature, signer, key_info, frozenset(covered))


def verify_signature(
    header: SecurityHeader, envelope: Envelope, ids: dict[str, Element], attachment_ids: Collection[str]
) -> dict[str, ParsedReference]:
    """Verify SignedInfo and every XML digest; require Messaging, Body and all attachments covered.

    Returns the attachment references by Content-ID (their digests are checked while decrypting).
    """
    signature = header.signature
    verify_signed_info(signature, check_key(header.signer.public_key()))
    covered: list[Element] = []
    by_cid: dict[str, ParsedReference] = {}
    for ref in signature.references:
        if ref.is_attachment:
            cid = unquote(ref.uri[4:])
            if cid in by_cid or cid not in attachment_ids:
                raise EbmsError(
                    FAILED_AUTHENTICATION,
                    f"reference {ref.uri!r} names no attachment",
                    reason="reference-uri",
                )
            by_cid[cid] = ref
            continue
        element = resolve_same_document(ref.uri, ids)
        if any(element is seen for seen in covered):
            raise EbmsError(
                FAILED_AUTHENTICATION, f"element {ref.uri!r} is referenced twice", reason="reference-uri"
            )
        check_element_digest(ref, element)
        covered.append(element)
    if not any(element is envelope.messaging for element in covered):
        raise _policy("eb:Messaging is not covered by the signature", "unsigned-part")
    if not any(element is envelope.body for element in covered):
        raise _policy("the SOAP Body is not covered by the signature", "unsigned-part")
    unsigned = set(attachment_ids) - set(by_cid)
    if unsigned:
        raise _policy(f"attachment {sorted(unsigned)[0]!r} is not signed", "unsigned-part")
    return by_cid


def unwrap_session_key(header: SecurityHeader, keys: Sequence[Credentials]) -> bytes:
    """Decrypt the session key with whichever of our keys matches the recipient certificate."""
    info = header.encrypted_key
    if info is None:
        raise EbmsError(FAILED_DECRYPTION, "the message carries no encrypted key", reason="no-key")
    for creds in keys:
        if creds.certificate.public_bytes(Encoding.DER) == info.recipient_der:
            return payloadcrypto.unwrap_key(info.wrapped_key, creds.private_key)
    named = info.recipient
    try:
        who = named.subject.rfc4514_string() if named is not None else "an unreadable certificate"
    except ValueError:
        who = "a certificate with an unreadable subject"
    raise EbmsError(
        FAILED_DECRYPTION, f"the message is encrypted for {who}, not for a key of ours", reason="no-key"
    )
