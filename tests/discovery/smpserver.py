"""A real SMP on 127.0.0.1 for tests, and builders for signed answers in the three SMP formats.

Routes are keyed by the raw (still percent-encoded) request path, so a test also proves the client's
URL encoding. Behaviours beyond "serve these bytes" (sleep, stream forever, HTTP redirect) are small
handlers; every request is counted per path.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import methods
from signxml.signer import XMLSigner

from accesspoint.discovery.smp_documents import (
    NS_BDXR1,
    NS_BDXR2_CAC,
    NS_BDXR2_CBC,
    NS_BDXR2_SG,
    NS_BDXR2_SM,
    NS_BUSDOX_IDS,
    NS_BUSDOX_SMP,
    NS_WSA,
    SmpFormat,
    encode_identifier,
)
from accesspoint.peppol.identifiers import Identifier
from accesspoint.pki.credentials import Credentials

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    address: str
    certificate: x509.Certificate
    transport_profile: str = "peppol-transport-as4-v2_0"
    activation: dt.datetime | dt.date | None = None
    expiration: dt.datetime | dt.date | None = None
    description: str = "test endpoint"
    contact: str = "mailto:support@example.test"


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    process: Identifier
    endpoints: Sequence[EndpointSpec]


def _der64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()


def _when(value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


# --- Peppol SMP 1.x and OASIS BDXR SMP 1.0 --------------------------------------------------------------


def classic_metadata(
    fmt: SmpFormat, participant: Identifier, document_type: Identifier, processes: Sequence[ProcessSpec]
) -> etree._Element:
    """A SignedServiceMetadata (unsigned yet) in the Peppol busdox or the BDXR 1.0 namespace."""
    ns = NS_BUSDOX_SMP if fmt is SmpFormat.PEPPOL else NS_BDXR1
    ids = NS_BUSDOX_IDS if fmt is SmpFormat.PEPPOL else NS_BDXR1
    nsmap = {"smp": ns, "ids": ids, "wsa": NS_WSA} if fmt is SmpFormat.PEPPOL else {"bdxr": ns}
    root = etree.Element(f"{{{ns}}}SignedServiceMetadata", nsmap=nsmap)
    info = _sub(_sub(root, f"{{{ns}}}ServiceMetadata"), f"{{{ns}}}ServiceInformation")
    _sub(info, f"{{{ids}}}ParticipantIdentifier", participant.value, scheme=participant.scheme)
    _sub(info, f"{{{ids}}}DocumentIdentifier", document_type.value, scheme=document_type.scheme)
    plist = _sub(info, f"{{{ns}}}ProcessList")
    for spec in processes:
        process = _sub(plist, f"{{{ns}}}Process")
        _sub(process, f"{{{ids}}}ProcessIdentifier", spec.process.value, scheme=spec.process.scheme)
        elist = _sub(process, f"{{{ns}}}ServiceEndpointList")
        for ep in spec.endpoints:
            endpoint = _sub(elist, f"{{{ns}}}Endpoint", transportProfile=ep.transport_profile)
            if fmt is SmpFormat.PEPPOL:
                _sub(_sub(endpoint, f"{{{NS_WSA}}}EndpointReference"), f"{{{NS_WSA}}}Address", ep.address)
            else:
                _sub(endpoint, f"{{{ns}}}EndpointURI", ep.address)
            _sub(endpoint, f"{{{ns}}}RequireBusinessLevelSignature", "false")
            if ep.activation is not None:
                _sub(endpoint, f"{{{ns}}}ServiceActivationDate", _when(ep.activation))
            if ep.expiration is not None:
                _sub(endpoint, f"{{{ns}}}ServiceExpirationDate", _when(ep.expiration))
            _sub(endpoint, f"{{{ns}}}Certificate", _der64(ep.certificate))
            _sub(endpoint, f"{{{ns}}}ServiceDescription", ep.description)
            _sub(endpoint, f"{{{ns}}}TechnicalContactUrl", ep.contact)
    return root


def classic_redirect(fmt: SmpFormat, href: str, certificate_uid: str) -> etree._Element:
    ns = NS_BUSDOX_SMP if fmt is SmpFormat.PEPPOL else NS_BDXR1
    root = etree.Element(f"{{{ns}}}SignedServiceMetadata", nsmap={"smp": ns})
    redirect = _sub(_sub(root, f"{{{ns}}}ServiceMetadata"), f"{{{ns}}}Redirect", href=href)
    _sub(redirect, f"{{{ns}}}CertificateUID", certificate_uid)
    return root


def classic_group(fmt: SmpFormat, participant: Identifier, hrefs: Sequence[str]) -> bytes:
    ns = NS_BUSDOX_SMP if fmt is SmpFormat.PEPPOL else NS_BDXR1
    ids = NS_BUSDOX_IDS if fmt is SmpFormat.PEPPOL else NS_BDXR1
    root = etree.Element(f"{{{ns}}}ServiceGroup", nsmap={"smp": ns, "ids": ids})
    _sub(root, f"{{{ids}}}ParticipantIdentifier", participant.value, scheme=participant.scheme)
    refs = _sub(root, f"{{{ns}}}ServiceMetadataReferenceCollection")
    for href in hrefs:
        _sub(refs, f"{{{ns}}}ServiceMetadataReference", href=href)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- OASIS BDXR SMP 2.0 ---------------------------------------------------------------------------------

_B2 = {"sm": NS_BDXR2_SM, "cac": NS_BDXR2_CAC, "cbc": NS_BDXR2_CBC}


def bdxr2_metadata(
    participant: Identifier,
    document_type: Identifier,
    processes: Sequence[ProcessSpec],
    *,
    redirect: tuple[str, x509.Certificate] | None = None,
) -> etree._Element:
    cac, cbc = NS_BDXR2_CAC, NS_BDXR2_CBC
    root = etree.Element(f"{{{NS_BDXR2_SM}}}ServiceMetadata", nsmap=_B2)
    _sub(root, f"{{{cbc}}}SMPVersionID", "2.0")
    _sub(root, f"{{{cbc}}}ID", document_type.value, schemeID=document_type.scheme)
    _sub(root, f"{{{cbc}}}ParticipantID", participant.value, schemeID=participant.scheme)
    for spec in processes:
        block = _sub(root, f"{{{cac}}}ProcessMetadata")
        _sub(
            _sub(block, f"{{{cac}}}Process"), f"{{{cbc}}}ID", spec.process.value, schemeID=spec.process.scheme
        )
        for ep in spec.endpoints:
            endpoint = _sub(block, f"{{{cac}}}Endpoint")
            _sub(endpoint, f"{{{cbc}}}TransportProfileID", ep.transport_profile)
            _sub(endpoint, f"{{{cbc}}}Description", ep.description)
            _sub(endpoint, f"{{{cbc}}}Contact", ep.contact)
            _sub(endpoint, f"{{{cbc}}}AddressURI", ep.address)
            if ep.activation is not None:
                _sub(endpoint, f"{{{cbc}}}ActivationDate", _when(ep.activation))
            if ep.expiration is not None:
                _sub(endpoint, f"{{{cbc}}}ExpirationDate", _when(ep.expiration))
            cert = _sub(endpoint, f"{{{cac}}}Certificate")
            _sub(cert, f"{{{cbc}}}TypeCode", "signing-and-encryption")
            _sub(
                cert,
                f"{{{cbc}}}ContentBinaryObject",
                _der64(ep.certificate),
                mimeCode="application/pkix-cert",
            )
    if redirect is not None:
        block = _sub(root, f"{{{cac}}}ProcessMetadata")
        target = _sub(block, f"{{{cac}}}Redirect")
        _sub(target, f"{{{cbc}}}PublisherURI", redirect[0])
        cert = _sub(target, f"{{{cac}}}Certificate")
        _sub(cert, f"{{{cbc}}}ContentBinaryObject", _der64(redirect[1]), mimeCode="application/pkix-cert")
    return root


def bdxr2_group(participant: Identifier, document_types: Sequence[Identifier]) -> bytes:
    cac, cbc = NS_BDXR2_CAC, NS_BDXR2_CBC
    root = etree.Element(f"{{{NS_BDXR2_SG}}}ServiceGroup", nsmap={"sg": NS_BDXR2_SG, "cac": cac, "cbc": cbc})
    _sub(root, f"{{{cbc}}}SMPVersionID", "2.0")
    _sub(root, f"{{{cbc}}}ParticipantID", participant.value, schemeID=participant.scheme)
    for doc in document_types:
        _sub(_sub(root, f"{{{cac}}}ServiceReference"), f"{{{cbc}}}ID", doc.value, schemeID=doc.scheme)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- signing ----------------------------------------------------------------------------------------------


def sign(root: etree._Element, credentials: Credentials) -> bytes:
    """Enveloped RSA-SHA256 signature over the whole document, as SMPs produce it."""
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    )
    signed = signer.sign(root, key=credentials.private_key, cert=[credentials.certificate])
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


# --- the server -------------------------------------------------------------------------------------------


def metadata_path(prefix: str, participant: Identifier, document_type: Identifier, fmt: SmpFormat) -> str:
    base = prefix.rstrip("/") + "/" + ("bdxr-smp-2/" if fmt is SmpFormat.BDXR2 else "")
    return f"{base}{encode_identifier(participant)}/services/{encode_identifier(document_type)}"


def group_path(prefix: str, participant: Identifier, fmt: SmpFormat) -> str:
    base = prefix.rstrip("/") + "/" + ("bdxr-smp-2/" if fmt is SmpFormat.BDXR2 else "")
    return f"{base}{encode_identifier(participant)}"


@dataclass
class SmpServer:
    base: str = ""
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    streamed: int = 0

    def url(self, path: str = "") -> str:
        return self.base + path

    def serve(self, path: str, body: bytes, status: int = 200) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, status=status, content_type="application/xml")

        self.routes[path] = handler

    def status(self, path: str, status: int) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, text=f"status {status}")

        self.routes[path] = handler

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": location})

        self.routes[path] = handler

    def sleep(self, path: str, seconds: float) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(seconds)
            return web.Response(body=b"<late/>", content_type="application/xml")

        self.routes[path] = handler

    def endless(self, path: str, *, chunk: int = 64 * 1024, total: int = 64 * 1024 * 1024) -> None:
        """Stream up to ``total`` bytes without a Content-Length; counts what it managed to send."""

        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/xml"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            block = b"<a>" + b"x" * (chunk - 3)
            try:
                while self.streamed < total:
                    await response.write(block)
                    self.streamed += len(block)
            except (ConnectionResetError, ConnectionError):
                pass
            return response

        self.routes[path] = handler

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.split("?", 1)[0]
        self.hits[path] += 1
        handler = self.routes.get(path)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)


async def start_smp_server() -> tuple[SmpServer, web.AppRunner]:
    server = SmpServer()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base = f"http://127.0.0.1:{port}"
    return server, runner
