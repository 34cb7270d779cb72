"""The XMLDSig subset WS-Security needs: exclusive C14N, SHA-256 references, RSA-SHA256 SignedInfo.

Deliberately small. Why not signxml: it has no SwA attachment references and resolves Ids its own
way; here every reference is resolved once through :func:`index_ids`, the caller gets the exact
element objects that were digested, and nothing is looked up again after verification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from accesspoint.as4 import constants as c
from accesspoint.as4.errors import FAILED_AUTHENTICATION, INVALID_HEADER, POLICY_NONCOMPLIANCE, EbmsError
from accesspoint.as4.model import SignedReference, Transform
from accesspoint.as4.profile import AlgorithmSuite

Element = etree._Element

# Attributes that act as Ids for "#..." references. All count for the duplicate check, so an attacker
# cannot plant a second element that some other implementation would resolve instead.
ID_ATTRIBUTES = (c.WSU_ID, "Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id")
MIN_RSA_BITS = 2048
_SHA256_BYTES = 32


def ds(local: str) -> str:
    return f"{{{c.DS}}}{local}"


def _auth(text: str, reason: str) -> EbmsError:
    return EbmsError(FAILED_AUTHENTICATION, text, reason=reason)


def _policy(text: str, reason: str = "policy") -> EbmsError:
    return EbmsError(POLICY_NONCOMPLIANCE, text, reason=reason)


def _header(text: str) -> EbmsError:
    return EbmsError(INVALID_HEADER, text, reason="header")


_ID_XPATH = etree.XPath(
    "//@wsu:Id | //@Id | //@ID | //@id | //@xml:id", namespaces={"wsu": c.WSU}, smart_strings=True
)


def index_ids(root: Element) -> dict[str, Element]:
    """Map every Id value in the document to its element; any value used twice is refused."""
    found: dict[str, Element] = {}
    attributes = _ID_XPATH(root)
    for attribute in attributes if isinstance(attributes, list) else ():
        parent = attribute.getparent() if isinstance(attribute, etree._ElementUnicodeResult) else None
        if parent is None:
            continue
        value = str(attribute)
        if value in found:
            raise _auth(f"Id {value!r} is used more than once", "duplicate-id")
        found[value] = parent
    return found


def canonicalize(element: Element, prefixes: Sequence[str] | None = None) -> bytes:
    """Exclusive C14N without comments; ``prefixes`` is an InclusiveNamespaces PrefixList."""
    inclusive = [p for p in prefixes if p != "#default"] if prefixes else None
    try:
        return etree.tostring(
            element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=inclusive
        )
    except (etree.Error, ValueError):  # e.g. relative namespace URIs, which C14N cannot express
        raise _auth("the signed XML cannot be canonicalized", "c14n") from None


def sha256(data: bytes | memoryview) -> bytes:
    return hashlib.sha256(data).digest()


def decode_base64(text: str | None, what: str) -> bytes:
    """Strict base64 (whitespace allowed between lines, nothing else)."""
    compact = "".join((text or "").split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise _header(f"{what} is not valid base64") from None


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, slots=True)
class ParsedReference:
    """A ds:Reference as found in SignedInfo, already checked against the allow-list."""

    uri: str
    transforms: tuple[Transform, ...]
    digest_method: str
    digest_value: bytes

    @property
    def is_attachment(self) -> bool:
        return self.uri.startswith("cid:")

    def as_signed(self) -> SignedReference:
        return SignedReference(self.uri, self.digest_method, self.digest_value, self.transforms)


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    element: Element
    signed_info: Element
    c14n_prefixes: tuple[str, ...] | None
    signature_value: bytes
    references: tuple[ParsedReference, ...]
    key_info: Element | None


def _children(element: Element) -> list[Element]:
    return list(element.iterchildren(etree.Element))


def _prefix_list(method: Element) -> tuple[str, ...] | None:
    extra = _children(method)
    if not extra:
        return None
    if len(extra) != 1 or extra[0].tag != f"{{{c.EXC_C14N_NS}}}InclusiveNamespaces":
        raise _policy("unexpected content in a canonicalization or transform method", "algorithm")
    return tuple(extra[0].get("PrefixList", "").split())


def _parse_transforms(ref: Element, uri: str, suite: AlgorithmSuite) -> tuple[Transform, ...]:
    holder = ref.find(ds("Transforms"))
    transforms = [] if holder is None else _children(holder)
    if len(transforms) != 1 or transforms[0].tag != ds("Transform"):
        raise _policy(f"reference {uri!r} must have exactly one transform", "algorithm")
    algorithm = transforms[0].get("Algorithm", "")
    wanted = c.ATTACHMENT_CONTENT_SIGNATURE if uri.startswith("cid:") else suite.canonicalization
    if algorithm != wanted:
        raise _policy(f"transform {algorithm!r} is not allowed for reference {uri!r}", "algorithm")
    prefixes = _prefix_list(transforms[0]) if algorithm == c.EXC_C14N else None
    if algorithm != c.EXC_C14N and _children(transforms[0]):
        raise _policy("unexpected transform parameters", "algorithm")
    return (Transform(algorithm, prefixes),)


def parse_signature(signature: Element, suite: AlgorithmSuite, max_references: int) -> ParsedSignature:
    """Read a ds:Signature; refuse (EBMS:0103) any algorithm outside ``suite`` before crypto runs."""
    parts = _children(signature)
    tags = [p.tag for p in parts]
    # No ds:Object: nothing in WS-Security needs it, and it is a classic hiding place for wrapping.
    if tags != [ds("SignedInfo"), ds("SignatureValue"), ds("KeyInfo")]:
        raise _policy(
            "ds:Signature must hold exactly SignedInfo, SignatureValue and KeyInfo", "signature-shape"
        )
    signed_info, value_el = parts[0], parts[1]
    key_infos = [parts[2]]
    info_parts = _children(signed_info)
    if len(info_parts) < 3:
        raise _header("ds:SignedInfo is incomplete")
    c14n_el, method_el, refs = info_parts[0], info_parts[1], info_parts[2:]
    if c14n_el.tag != ds("CanonicalizationMethod") or method_el.tag != ds("SignatureMethod"):
        raise _header("ds:SignedInfo must start with CanonicalizationMethod and SignatureMethod")
    if c14n_el.get("Algorithm") != suite.canonicalization:
        raise _policy(f"canonicalization {c14n_el.get('Algorithm')!r} is not allowed", "algorithm")
    if method_el.get("Algorithm") != suite.signature:
        raise _policy(f"signature algorithm {method_el.get('Algorithm')!r} is not allowed", "algorithm")
    if _children(method_el):
        raise _policy("signature method parameters are not allowed", "algorithm")
    if len(refs) > max_references:
        raise _policy(f"more than {max_references} signed references", "references")
    references = []
    for ref in refs:
        if ref.tag != ds("Reference"):
            raise _header("ds:SignedInfo holds something other than ds:Reference")
        references.append(parse_reference(ref, suite))
    return ParsedSignature(
        element=signature,
        signed_info=signed_info,
        c14n_prefixes=_prefix_list(c14n_el),
        signature_value=decode_base64(value_el.text, "ds:SignatureValue"),
        references=tuple(references),
        key_info=key_infos[0] if len(key_infos) == 1 else None,
    )


def parse_reference(ref: Element, suite: AlgorithmSuite) -> ParsedReference:
    """One ds:Reference (in SignedInfo or echoed in a receipt)."""
    uri = ref.get("URI")
    if uri is None:
        raise _auth("a ds:Reference has no URI", "reference-uri")
    method = ref.find(ds("DigestMethod"))
    algorithm = None if method is None else method.get("Algorithm")
    if algorithm != suite.digest:
        raise _policy(f"digest algorithm {algorithm!r} is not allowed", "algorithm")
    value = decode_base64(ref.findtext(ds("DigestValue")), "ds:DigestValue")
    if len(value) != _SHA256_BYTES:
        raise _header("ds:DigestValue has the wrong length")
    return ParsedReference(uri, _parse_transforms(ref, uri, suite), algorithm, value)


def check_key(public_key: object) -> rsa.RSAPublicKey:
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise _policy("the signing key is not an RSA key", "algorithm")
    if public_key.key_size < MIN_RSA_BITS:
        raise _policy(f"RSA keys below {MIN_RSA_BITS} bits are refused", "algorithm")
    return public_key


def verify_signed_info(parsed: ParsedSignature, public_key: rsa.RSAPublicKey) -> None:
    """RSA-SHA256 over the canonical SignedInfo (EBMS:0101 if it does not hold)."""
    data = canonicalize(parsed.signed_info, parsed.c14n_prefixes)
    try:
        public_key.verify(parsed.signature_value, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise _auth("the signature value does not verify", "signature") from None


def resolve_same_document(uri: str, ids: dict[str, Element]) -> Element:
    """``#id`` to exactly one element of this envelope; every other URI form is refused."""
    if not uri.startswith("#") or len(uri) < 2 or uri.startswith("#xpointer("):
        raise _auth(f"reference URI {uri!r} does not name an element of this envelope", "reference-uri")
    element = ids.get(uri[1:])
    if element is None:
        raise _auth(f"reference {uri!r} does not resolve inside this envelope", "reference-uri")
    return element


def check_element_digest(ref: ParsedReference, element: Element) -> None:
    prefixes = ref.transforms[0].prefixes if ref.transforms else None
    if not hmac.compare_digest(sha256(canonicalize(element, prefixes)), ref.digest_value):
        raise _auth(f"digest of {ref.uri!r} does not match", "digest")


# -- signing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToSign:
    """A reference to create: an element (by its wsu:Id) or an attachment's content bytes."""

    uri: str
    element: Element | None = None
    content: bytes | None = None


def _append_reference(signed_info: Element, item: ToSign) -> SignedReference:
    ref = etree.SubElement(signed_info, ds("Reference"), URI=item.uri)
    transforms = etree.SubElement(ref, ds("Transforms"))
    if item.element is not None:
        algorithm, digest = c.EXC_C14N, sha256(canonicalize(item.element))
    elif item.content is not None:
        algorithm, digest = c.ATTACHMENT_CONTENT_SIGNATURE, sha256(item.content)
    else:
        raise ValueError("nothing to sign")
    etree.SubElement(transforms, ds("Transform"), Algorithm=algorithm)
    etree.SubElement(ref, ds("DigestMethod"), Algorithm=c.SHA256)
    etree.SubElement(ref, ds("DigestValue")).text = encode_base64(digest)
    return SignedReference(item.uri, c.SHA256, digest, (Transform(algorithm),))


def append_signature(
    parent: Element, items: Iterable[ToSign], private_key: rsa.RSAPrivateKey, token_id: str, signature_id: str
) -> tuple[SignedReference, ...]:
    """Sign ``items`` into a ds:Signature appended to ``parent``; KeyInfo points at the BST ``token_id``.

    Elements must already sit where they will be sent: their digests are taken now.
    """
    signature = etree.SubElement(parent, ds("Signature"), Id=signature_id, nsmap={"ds": c.DS})
    signed_info = etree.SubElement(signature, ds("SignedInfo"))
    etree.SubElement(signed_info, ds("CanonicalizationMethod"), Algorithm=c.EXC_C14N)
    etree.SubElement(signed_info, ds("SignatureMethod"), Algorithm=c.RSA_SHA256)
    references = tuple(_append_reference(signed_info, item) for item in items)
    value = private_key.sign(canonicalize(signed_info), padding.PKCS1v15(), hashes.SHA256())
    etree.SubElement(signature, ds("SignatureValue")).text = encode_base64(value)
    key_info = etree.SubElement(signature, ds("KeyInfo"))
    str_el = etree.SubElement(key_info, f"{{{c.WSSE}}}SecurityTokenReference")
    etree.SubElement(str_el, f"{{{c.WSSE}}}Reference", URI=f"#{token_id}", ValueType=c.BST_X509V3)
    return references


def append_reference_copy(parent: Element, ref: SignedReference) -> None:
    """Write a ds:Reference as signed (for ebbp:MessagePartNRInformation in receipts)."""
    el = etree.SubElement(parent, ds("Reference"), URI=ref.uri)
    transforms = etree.SubElement(el, ds("Transforms"))
    for transform in ref.transforms:
        t_el = etree.SubElement(transforms, ds("Transform"), Algorithm=transform.algorithm)
        if transform.prefixes is not None:
            etree.SubElement(
                t_el,
                f"{{{c.EXC_C14N_NS}}}InclusiveNamespaces",
                PrefixList=" ".join(transform.prefixes),
                nsmap={"ec": c.EXC_C14N_NS},
            )
    etree.SubElement(el, ds("DigestMethod"), Algorithm=ref.digest_method)
    etree.SubElement(el, ds("DigestValue")).text = encode_base64(ref.digest_value)
