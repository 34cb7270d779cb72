"""SMP answers as objects: URL shapes, parsing, signature verification and endpoint choice. No I/O.

Three formats share one model: Peppol SMP 1.x (busdox namespaces), OASIS BDXR SMP 1.0 (same REST shape,
``2016/05`` namespace) and OASIS BDXR SMP 2.0 (``bdxr-smp-2/`` path, UBL-style components, separate
ServiceGroup and ServiceMetadata documents).

Why the signature code insists on so much: an SMP answer tells us where to send an invoice and which
certificate to encrypt it for, so a forged answer is a data leak. Only an enveloped signature over the
whole document (``URI=""``) is accepted, exactly one, as a child of the root, and the document is read
from what the verifier returns as signed (``VerifyResult.signed_xml``), never from the received tree, so
no element outside the signed bytes can be used (signature wrapping).

RSA-SHA1 is refused unless ``allow_sha1`` is set: Peppol SMP 1.2.0 (mandatory since 2022-05-01) signs
with RSA-SHA256, and SHA-1 only appears in answers of retired SMPs (the G2 era), which are worth reading
as archives but never worth trusting for a live send.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidCertificate, SignXMLException
from signxml.verifier import SignatureConfiguration, XMLVerifier

from accesspoint.peppol.identifiers import Identifier
from accesspoint.xml import XMLError, XMLLimits, parse_xml

DEFAULT_TRANSPORT_PROFILE: Final = "peppol-transport-as4-v2_0"
BDXR2_PATH: Final = "bdxr-smp-2/"
SERVICES: Final = "services"

NS_BUSDOX_SMP: Final = "http://busdox.org/serviceMetadata/publishing/1.0/"
NS_BUSDOX_IDS: Final = "http://busdox.org/transport/identifiers/1.0/"
NS_WSA: Final = "http://www.w3.org/2005/08/addressing"
NS_BDXR1: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2016/05"
NS_BDXR2_SG: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceGroup"
NS_BDXR2_SM: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2/ServiceMetadata"
NS_BDXR2_CAC: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2/AggregateComponents"
NS_BDXR2_CBC: Final = "http://docs.oasis-open.org/bdxr/ns/SMP/2/BasicComponents"
NS_DS: Final = "http://www.w3.org/2000/09/xmldsig#"

_ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_C14N: Final = frozenset(m.value for m in CanonicalizationMethod)
_STRONG_SIGNATURES: Final = frozenset(
    {SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA384, SignatureMethod.RSA_SHA512}
)
_STRONG_DIGESTS: Final = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})


class SmpFormat(enum.StrEnum):
    PEPPOL = "peppol-smp-1"
    BDXR1 = "oasis-bdxr-smp-1"
    BDXR2 = "oasis-bdxr-smp-2"


class RefusalReason(enum.StrEnum):
    """Why an SMP answer was refused: stable tokens for callers, logs and tests."""

    MALFORMED = "malformed-xml"
    INVALID_DOCUMENT = "invalid-document"
    SIGNATURE_MISSING = "signature-missing"
    SIGNATURE_INVALID = "signature-invalid"
    SIGNATURE_ALGORITHM = "signature-algorithm"
    SIGNER_UNTRUSTED = "signer-untrusted"
    IDENTIFIER_MISMATCH = "identifier-mismatch"
    INVALID_ENDPOINT = "invalid-endpoint"
    OVERSIZE = "response-too-large"
    REDIRECT_LOOP = "redirect-loop"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    REDIRECT_SIGNER_MISMATCH = "redirect-signer-mismatch"
    UNEXPECTED_STATUS = "unexpected-http-status"
    INVALID_URL = "invalid-url"


class SmpError(Exception):
    """Base of SMP failures. ``steps`` (filled by the client) says what was fetched before it failed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.steps: tuple[object, ...] = ()


class SmpRefused(SmpError):
    """The answer cannot be used (bad signature, untrusted signer, oversize, loops, garbage)."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.detail = message


class SmpUnavailable(SmpError):
    """A technical failure (network, timeout, HTTP 5xx): the same question may work later."""


class LookupOutcome(enum.StrEnum):
    FOUND = "found"
    PARTICIPANT_NOT_REGISTERED = "participant-not-registered"
    DOCUMENT_TYPE_NOT_REGISTERED = "document-type-not-registered"
    NO_ENDPOINT = "no-endpoint"
    SERVICE_EXPIRED = "service-expired"
    SERVICE_NOT_YET_ACTIVE = "service-not-yet-active"


# --- identifiers and URLs ---------------------------------------------------------------------------


def encode_identifier(ident: Identifier) -> str:
    """``scheme::value`` as one URL path segment: everything but unreserved characters escaped."""
    text = f"{ident.scheme}::{ident.value}" if ident.scheme else ident.value
    return quote(text, safe="")


def _base(smp_url: str, fmt: SmpFormat) -> str:
    parts = urlsplit(smp_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SmpRefused(RefusalReason.INVALID_URL, f"SMP URL {smp_url!r} is not an http(s) URL")
    base = smp_url.split("?", 1)[0].split("#", 1)[0]
    if not base.endswith("/"):
        base += "/"
    return base + (BDXR2_PATH if fmt is SmpFormat.BDXR2 else "")


def service_group_url(smp_url: str, participant: Identifier, fmt: SmpFormat = SmpFormat.PEPPOL) -> str:
    return _base(smp_url, fmt) + encode_identifier(participant)


def service_metadata_url(
    smp_url: str, participant: Identifier, document_type: Identifier, fmt: SmpFormat = SmpFormat.PEPPOL
) -> str:
    return f"{service_group_url(smp_url, participant, fmt)}/{SERVICES}/{encode_identifier(document_type)}"


def same_participant(a: Identifier, b: Identifier) -> bool:
    """Participant ids compare case-insensitively (Peppol Policy for use of Identifiers)."""
    return a.scheme.lower() == b.scheme.lower() and a.value.lower() == b.value.lower()


def same_case_sensitive_id(a: Identifier, b: Identifier) -> bool:
    """Document type and process ids: the scheme is case-insensitive, the value is not."""
    return a.scheme.lower() == b.scheme.lower() and a.value == b.value


# --- the model -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    transport_profile: str
    address: str
    certificate_base64: str
    activation: dt.datetime | None = None
    expiration: dt.datetime | None = None
    description: str | None = None
    technical_contact: str | None = None
    technical_information: str | None = None

    def load_certificate(self) -> x509.Certificate:
        try:
            der = base64.b64decode("".join(self.certificate_base64.split()), validate=True)
            return x509.load_der_x509_certificate(der)
        except (binascii.Error, ValueError) as exc:
            raise SmpRefused(
                RefusalReason.INVALID_ENDPOINT, f"endpoint certificate is not base64 DER X.509: {exc}"
            ) from None


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where the metadata really is, and who must have signed it there."""

    href: str
    certificate_uid: str | None = None
    certificates: tuple[x509.Certificate, ...] = ()

    def names(self, signer: x509.Certificate) -> bool:
        """Is ``signer`` the certificate this redirect announces?"""
        if self.certificates:
            return signer in self.certificates
        if not self.certificate_uid:
            return False
        return _normalise_dn(self.certificate_uid) in _subject_forms(signer)


@dataclass(frozen=True, slots=True)
class Process:
    """One process block. ``ids`` empty means "any process" (a BDXR 2 ProcessMetadata without Process)."""

    ids: tuple[Identifier, ...]
    endpoints: tuple[Endpoint, ...] = ()
    redirect: Redirect | None = None

    def serves(self, process: Identifier) -> bool:
        return any(same_case_sensitive_id(i, process) for i in self.ids)


@dataclass(frozen=True, slots=True)
class ServiceMetadata:
    format: SmpFormat
    participant: Identifier | None
    document_type: Identifier | None
    processes: tuple[Process, ...] = ()
    redirect: Redirect | None = None

    def redirect_for(self, process: Identifier) -> Redirect | None:
        """The redirect that applies to ``process``: document-wide, then per process (BDXR 2)."""
        if self.redirect is not None:
            return self.redirect
        for entry in self.processes:
            if entry.redirect is not None and entry.serves(process):
                return entry.redirect
        if not any(entry.serves(process) for entry in self.processes):
            for entry in self.processes:
                if entry.redirect is not None and not entry.ids:
                    return entry.redirect
        return None


@dataclass(frozen=True, slots=True)
class ServiceGroup:
    format: SmpFormat
    participant: Identifier
    document_types: tuple[Identifier, ...]
    references: tuple[str, ...] = ()


SmpDocument = ServiceGroup | ServiceMetadata


@dataclass(frozen=True, slots=True)
class Signer:
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    algorithm: str

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


@dataclass(frozen=True, slots=True)
class ReadDocument:
    """A parsed answer; ``signer`` is set only when the signature verified (trust is the caller's step)."""

    document: SmpDocument
    signer: Signer | None


# --- reading ---------------------------------------------------------------------------------------


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _invalid(text: str) -> SmpRefused:
    return SmpRefused(RefusalReason.INVALID_DOCUMENT, text)


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value or None


def _identifier(element: etree._Element | None, scheme_attr: str, what: str) -> Identifier:
    value = _text(element)
    if element is None or value is None:
        raise _invalid(f"{what} is missing")
    return Identifier((element.get(scheme_attr) or "").strip(), value)


_DATE_ONLY = re.compile(r"^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$")


def parse_when(text: str | None, *, end_of_day: bool = False) -> dt.datetime | None:
    """An xs:dateTime or xs:date as an aware datetime (UTC when no zone is given).

    A bare date (BDXR 2) covers the whole day: activation at its start, expiration at its end.
    """
    if text is None:
        return None
    match = _DATE_ONLY.match(text)
    try:
        if match:
            day = dt.date.fromisoformat(match.group(1))
            zone = _zone(match.group(2))
            at = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min, zone)
        else:
            at = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if at.tzinfo is None:
                at = at.replace(tzinfo=dt.UTC)
    except ValueError:
        raise _invalid(f"{text!r} is not a date") from None
    return at


def _zone(text: str | None) -> dt.tzinfo:
    if not text or text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _classic_endpoint(element: etree._Element, ns: str) -> Endpoint:
    profile = (element.get("transportProfile") or "").strip()
    if ns == NS_BUSDOX_SMP:
        address = _text(element.find(f"{_q(NS_WSA, 'EndpointReference')}/{_q(NS_WSA, 'Address')}"))
    else:
        address = _text(element.find(_q(ns, "EndpointURI")))
    if not profile or not address:
        raise _invalid("an Endpoint lacks its transportProfile or address")
    return Endpoint(
        transport_profile=profile,
        address=address,
        certificate_base64=_text(element.find(_q(ns, "Certificate"))) or "",
        activation=parse_when(_text(element.find(_q(ns, "ServiceActivationDate")))),
        expiration=parse_when(_text(element.find(_q(ns, "ServiceExpirationDate"))), end_of_day=True),
        description=_text(element.find(_q(ns, "ServiceDescription"))),
        technical_contact=_text(element.find(_q(ns, "TechnicalContactUrl"))),
        technical_information=_text(element.find(_q(ns, "TechnicalInformationUrl"))),
    )


def _classic_metadata(root: etree._Element, ns: str, fmt: SmpFormat) -> ServiceMetadata:
    ids_ns = NS_BUSDOX_IDS if ns == NS_BUSDOX_SMP else ns
    info = root.find(_q(ns, "ServiceInformation"))
    redirect = root.find(_q(ns, "Redirect"))
    if (info is None) == (redirect is None):
        raise _invalid("ServiceMetadata must hold exactly one of ServiceInformation and Redirect")
    if redirect is not None:
        href = (redirect.get("href") or "").strip()
        if not href:
            raise _invalid("Redirect has no href")
        uid = _text(redirect.find(_q(ns, "CertificateUID")))
        return ServiceMetadata(fmt, None, None, redirect=Redirect(href, certificate_uid=uid))
    assert info is not None
    participant_id = _identifier(
        info.find(_q(ids_ns, "ParticipantIdentifier")), "scheme", "ParticipantIdentifier"
    )
    document_id = _identifier(info.find(_q(ids_ns, "DocumentIdentifier")), "scheme", "DocumentIdentifier")
    processes = []
    for process in info.iterfind(f"{_q(ns, 'ProcessList')}/{_q(ns, 'Process')}"):
        pid = _identifier(process.find(_q(ids_ns, "ProcessIdentifier")), "scheme", "ProcessIdentifier")
        endpoints = tuple(
            _classic_endpoint(e, ns)
            for e in process.iterfind(f"{_q(ns, 'ServiceEndpointList')}/{_q(ns, 'Endpoint')}")
        )
        processes.append(Process((pid,), endpoints))
    return ServiceMetadata(fmt, participant_id, document_id, tuple(processes))


def _classic_group(root: etree._Element, ns: str, fmt: SmpFormat) -> ServiceGroup:
    ids_ns = NS_BUSDOX_IDS if ns == NS_BUSDOX_SMP else ns
    participant_id = _identifier(
        root.find(_q(ids_ns, "ParticipantIdentifier")), "scheme", "ParticipantIdentifier"
    )
    hrefs = tuple(
        (ref.get("href") or "").strip()
        for ref in root.iterfind(
            f"{_q(ns, 'ServiceMetadataReferenceCollection')}/{_q(ns, 'ServiceMetadataReference')}"
        )
    )
    types = tuple(t for t in (_document_type_from_href(h) for h in hrefs) if t is not None)
    return ServiceGroup(fmt, participant_id, types, hrefs)


def _document_type_from_href(href: str) -> Identifier | None:
    """The document type at the end of ``.../{participant}/services/{doctype}``, percent-decoded."""
    path = urlsplit(href).path
    marker = f"/{SERVICES}/"
    index = path.lower().find(marker)
    if index < 0:
        return None
    text = unquote(path[index + len(marker) :])
    scheme, sep, value = text.partition("::")
    return Identifier(scheme, value) if sep and value else None


def _bdxr2_certificates(element: etree._Element) -> tuple[str, ...]:
    return tuple(
        text
        for cert in element.iterfind(_q(NS_BDXR2_CAC, "Certificate"))
        if (text := _text(cert.find(_q(NS_BDXR2_CBC, "ContentBinaryObject")))) is not None
    )


def _bdxr2_metadata(root: etree._Element) -> ServiceMetadata:
    cbc, cac = NS_BDXR2_CBC, NS_BDXR2_CAC
    document_id = _identifier(root.find(_q(cbc, "ID")), "schemeID", "ID")
    participant_id = _identifier(root.find(_q(cbc, "ParticipantID")), "schemeID", "ParticipantID")
    processes = []
    for block in root.iterfind(_q(cac, "ProcessMetadata")):
        ids = tuple(
            _identifier(p.find(_q(cbc, "ID")), "schemeID", "Process/ID")
            for p in block.iterfind(_q(cac, "Process"))
        )
        endpoints = []
        for e in block.iterfind(_q(cac, "Endpoint")):
            profile, address = (
                _text(e.find(_q(cbc, "TransportProfileID"))),
                _text(e.find(_q(cbc, "AddressURI"))),
            )
            if not profile or not address:
                raise _invalid("an Endpoint lacks its TransportProfileID or AddressURI")
            certificates = _bdxr2_certificates(e)
            endpoints.append(
                Endpoint(
                    transport_profile=profile,
                    address=address,
                    certificate_base64=certificates[0] if certificates else "",
                    activation=parse_when(_text(e.find(_q(cbc, "ActivationDate")))),
                    expiration=parse_when(_text(e.find(_q(cbc, "ExpirationDate"))), end_of_day=True),
                    description=_text(e.find(_q(cbc, "Description"))),
                    technical_contact=_text(e.find(_q(cbc, "Contact"))),
                )
            )
        redirect = None
        redirect_element = block.find(_q(cac, "Redirect"))
        if redirect_element is not None:
            href = _text(redirect_element.find(_q(cbc, "PublisherURI")))
            if not href:
                raise _invalid("Redirect has no PublisherURI")
            certs = tuple(
                Endpoint("", "", text).load_certificate() for text in _bdxr2_certificates(redirect_element)
            )
            redirect = Redirect(href, certificates=certs)
        if redirect is not None and endpoints:
            raise _invalid("a ProcessMetadata holds both endpoints and a Redirect")
        processes.append(Process(ids, tuple(endpoints), redirect))
    return ServiceMetadata(SmpFormat.BDXR2, participant_id, document_id, tuple(processes))


def _bdxr2_group(root: etree._Element) -> ServiceGroup:
    cbc, cac = NS_BDXR2_CBC, NS_BDXR2_CAC
    participant_id = _identifier(root.find(_q(cbc, "ParticipantID")), "schemeID", "ParticipantID")
    types = tuple(
        _identifier(ref.find(_q(cbc, "ID")), "schemeID", "ServiceReference/ID")
        for ref in root.iterfind(_q(cac, "ServiceReference"))
    )
    return ServiceGroup(SmpFormat.BDXR2, participant_id, types)


def document_from_element(root: etree._Element) -> SmpDocument:
    """The model of an (already trusted or deliberately unchecked) SMP document element."""
    tag = etree.QName(root)
    ns, name = tag.namespace or "", tag.localname
    classic = {NS_BUSDOX_SMP: SmpFormat.PEPPOL, NS_BDXR1: SmpFormat.BDXR1}
    if ns in classic:
        fmt = classic[ns]
        if name == "ServiceGroup":
            return _classic_group(root, ns, fmt)
        if name == "SignedServiceMetadata":
            inner = root.find(_q(ns, "ServiceMetadata"))
            if inner is None or len(root.findall(_q(ns, "ServiceMetadata"))) != 1:
                raise _invalid("SignedServiceMetadata must hold exactly one ServiceMetadata")
            return _classic_metadata(inner, ns, fmt)
        if name == "ServiceMetadata":
            return _classic_metadata(root, ns, fmt)
    elif ns == NS_BDXR2_SM and name == "ServiceMetadata":
        return _bdxr2_metadata(root)
    elif ns == NS_BDXR2_SG and name == "ServiceGroup":
        return _bdxr2_group(root)
    raise _invalid(f"{tag.text} is not an SMP document")


# --- signatures ------------------------------------------------------------------------------------


def _signature_policy(signature: etree._Element, allow_sha1: bool) -> str:
    """Refuse, before any cryptography, every signature shape other than one enveloped whole-document one."""
    ds = NS_DS
    signed_info = signature.find(_q(ds, "SignedInfo"))
    if signed_info is None:
        raise SmpRefused(RefusalReason.SIGNATURE_INVALID, "Signature has no SignedInfo")
    references = signed_info.findall(_q(ds, "Reference"))
    if len(references) != 1 or references[0].get("URI") != "":
        raise SmpRefused(
            RefusalReason.SIGNATURE_INVALID, 'the signature must have exactly one Reference, with URI=""'
        )
    transforms = [
        t.get("Algorithm") for t in references[0].iterfind(f"{_q(ds, 'Transforms')}/{_q(ds, 'Transform')}")
    ]
    if _ENVELOPED not in transforms or any(t != _ENVELOPED and t not in _C14N for t in transforms):
        raise SmpRefused(
            RefusalReason.SIGNATURE_INVALID,
            "only the enveloped-signature transform (and canonicalisation) is accepted",
        )
    method = signed_info.find(_q(ds, "SignatureMethod"))
    algorithm = (method.get("Algorithm") if method is not None else None) or ""
    allowed = {m.value for m in _signature_methods(allow_sha1)}
    if algorithm not in allowed:
        raise SmpRefused(
            RefusalReason.SIGNATURE_ALGORITHM, f"signature algorithm {algorithm!r} is not accepted"
        )
    return algorithm


def _signature_methods(allow_sha1: bool) -> frozenset[SignatureMethod]:
    return _STRONG_SIGNATURES | {SignatureMethod.RSA_SHA1} if allow_sha1 else _STRONG_SIGNATURES


def _digests(allow_sha1: bool) -> frozenset[DigestAlgorithm]:
    return _STRONG_DIGESTS | {DigestAlgorithm.SHA1} if allow_sha1 else _STRONG_DIGESTS


def _key_info_certificates(signature: etree._Element) -> tuple[x509.Certificate, ...]:
    path = f"{_q(NS_DS, 'KeyInfo')}/{_q(NS_DS, 'X509Data')}/{_q(NS_DS, 'X509Certificate')}"
    certificates = []
    for element in signature.iterfind(path):
        try:
            der = base64.b64decode("".join((element.text or "").split()), validate=True)
            certificates.append(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError):
            raise SmpRefused(
                RefusalReason.SIGNATURE_INVALID, "KeyInfo holds an unreadable certificate"
            ) from None
    if not certificates:
        raise SmpRefused(RefusalReason.SIGNATURE_INVALID, "the signature carries no X509Certificate")
    return tuple(certificates)


def read_document(
    data: bytes,
    *,
    require_signature: bool = True,
    allow_sha1: bool = False,
    at: dt.datetime | None = None,
    limits: XMLLimits | None = None,
) -> ReadDocument:
    """Parse an SMP answer and verify its signature if it has one (required unless told otherwise).

    ``at`` is when the signer certificate must be valid (default now); chain trust is the caller's
    step, with :attr:`ReadDocument.signer`.
    """
    try:
        tree = parse_xml(data, limits=limits) if limits else parse_xml(data)
    except XMLError as exc:
        raise SmpRefused(RefusalReason.MALFORMED, str(exc)) from None
    root = tree.getroot()
    signatures = root.findall(f".//{_q(NS_DS, 'Signature')}")
    if not signatures:
        if require_signature:
            raise SmpRefused(RefusalReason.SIGNATURE_MISSING, "the SMP answer is not signed")
        return ReadDocument(document_from_element(root), None)
    if len(signatures) != 1 or signatures[0].getparent() is not root:
        raise SmpRefused(
            RefusalReason.SIGNATURE_INVALID,
            "exactly one Signature is allowed, as a child of the root element",
        )
    signature = signatures[0]
    algorithm = _signature_policy(signature, allow_sha1)
    certificates = _key_info_certificates(signature)
    signed_root = _verify(root, certificates[0], allow_sha1, at or dt.datetime.now(dt.UTC))
    if signed_root.tag != root.tag:
        raise SmpRefused(RefusalReason.SIGNATURE_INVALID, "the signed content is not the document")
    return ReadDocument(
        document_from_element(signed_root), Signer(certificates[0], certificates[1:], algorithm)
    )


def _verify(
    root: etree._Element, certificate: x509.Certificate, allow_sha1: bool, at: dt.datetime
) -> etree._Element:
    config = SignatureConfiguration(
        require_x509=True,
        location="./",
        expect_references=1,
        signature_methods=_signature_methods(allow_sha1),
        digest_algorithms=_digests(allow_sha1),
        verification_time=at,
        # A Reference with only the enveloped transform is canonicalised with C14N 1.0 (XMLDSig §4.3.3.2).
        default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    try:
        result = XMLVerifier().verify(root, x509_cert=certificate, expect_config=config)
    except InvalidCertificate as exc:
        raise SmpRefused(RefusalReason.SIGNER_UNTRUSTED, f"signer certificate: {exc}") from None
    except (SignXMLException, ValueError) as exc:
        raise SmpRefused(RefusalReason.SIGNATURE_INVALID, f"signature does not verify: {exc}") from None
    signed = getattr(result, "signed_xml", None)
    if not isinstance(signed, etree._Element):
        raise SmpRefused(RefusalReason.SIGNATURE_INVALID, "the signature does not cover an XML document")
    return signed


# --- certificate names for Redirect/CertificateUID ----------------------------------------------------


def _normalise_dn(text: str) -> str:
    parts = [p.strip() for p in re.split(r"(?<!\\)[,;]", text) if p.strip()]
    return ",".join(_normalise_rdn(p) for p in parts).lower()


def _normalise_rdn(part: str) -> str:
    key, _, value = part.partition("=")
    return f"{key.strip()}={value.strip()}" if _ else part


def _subject_forms(certificate: x509.Certificate) -> set[str]:
    """The spellings a CertificateUID may use for a subject: the DN either way round, or the CN alone."""
    rfc = certificate.subject.rfc4514_string()
    forward = _normalise_dn(rfc)
    backward = ",".join(reversed(forward.split(",")))
    forms = {forward, backward}
    forms.update(
        str(a.value).lower() for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )
    return forms


# --- endpoint choice ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    outcome: LookupOutcome
    detail: str
    endpoint: Endpoint | None = None
    process: Identifier | None = None


def choose_endpoint(
    metadata: ServiceMetadata,
    process: Identifier,
    transport_profile: str = DEFAULT_TRANSPORT_PROFILE,
    *,
    at: dt.datetime,
) -> Choice:
    """The endpoint for ``process`` over ``transport_profile`` that is active at ``at``, or why none is."""
    serving = [p for p in metadata.processes if p.serves(process)]
    if not serving:
        return Choice(LookupOutcome.NO_ENDPOINT, f"the document type is not registered for process {process}")
    candidates = [e for p in serving for e in p.endpoints if e.transport_profile == transport_profile]
    if not candidates:
        offered = sorted({e.transport_profile for p in serving for e in p.endpoints})
        return Choice(
            LookupOutcome.NO_ENDPOINT,
            f"no endpoint with transport profile {transport_profile} for process {process}"
            + (f" (offered: {', '.join(offered)})" if offered else ""),
        )
    for endpoint in candidates:
        if _active(endpoint, at):
            return Choice(LookupOutcome.FOUND, "active endpoint found", endpoint, process)
    pending = [e for e in candidates if e.activation is not None and at < e.activation]
    if pending:
        first = min(e.activation for e in pending if e.activation is not None)
        return Choice(
            LookupOutcome.SERVICE_NOT_YET_ACTIVE,
            f"the service for process {process} becomes active on {first.isoformat()}",
            pending[0],
            process,
        )
    last = max((e.expiration for e in candidates if e.expiration is not None), default=None)
    return Choice(
        LookupOutcome.SERVICE_EXPIRED,
        f"the service for process {process} expired"
        + (f" on {last.isoformat()}" if last is not None else ""),
        candidates[0],
        process,
    )


def _active(endpoint: Endpoint, at: dt.datetime) -> bool:
    if endpoint.activation is not None and at < endpoint.activation:
        return False
    return not (endpoint.expiration is not None and at > endpoint.expiration)


def check_identifiers(metadata: ServiceMetadata, participant: Identifier, document_type: Identifier) -> None:
    """The answer must be about what was asked (a valid signature over someone else's metadata is no use)."""
    if metadata.participant is not None and not same_participant(metadata.participant, participant):
        raise SmpRefused(
            RefusalReason.IDENTIFIER_MISMATCH,
            f"asked for participant {participant}, the SMP answered for {metadata.participant}",
        )
    if metadata.document_type is not None and not same_case_sensitive_id(
        metadata.document_type, document_type
    ):
        raise SmpRefused(
            RefusalReason.IDENTIFIER_MISMATCH,
            f"asked for document type {document_type}, the SMP answered for {metadata.document_type}",
        )
