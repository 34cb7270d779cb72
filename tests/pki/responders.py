"""A real OCSP responder and CRL endpoint on 127.0.0.1, signing with a dev PKI key, for revocation tests.

Tests change :class:`Responders` fields to make it answer badly (stale, foreign signer, oversized,
HTTP errors) and count the requests it served.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from accesspoint.pki.credentials import Credentials

Behaviour = Literal["normal", "http-error", "oversized", "garbage", "wrong-serial"]


@dataclass
class Responders:
    """State of the fake CA endpoints. ``signer`` signs OCSP answers (the CA itself or a delegate),
    named by key hash or, with ``responder_by_name``, by subject name; ``ca`` signs the CRL."""

    ca: Credentials
    signer: Credentials
    responder_by_name: bool = False
    revoked: dict[int, tuple[dt.datetime, x509.ReasonFlags]] = field(default_factory=dict)
    this_update_offset: dt.timedelta = dt.timedelta(minutes=-1)
    next_update_offset: dt.timedelta | None = dt.timedelta(hours=1)
    crl_next_update_offset: dt.timedelta = dt.timedelta(hours=6)
    crl_pem: bool = False
    ocsp_behaviour: Behaviour = "normal"
    ocsp_requests: int = 0
    crl_requests: int = 0
    base_url: str = ""

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"

    @property
    def crl_url(self) -> str:
        return f"{self.base_url}/ca.crl"

    def revoke(
        self, cert: x509.Certificate, reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise
    ) -> None:
        self.revoked[cert.serial_number] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), reason)

    async def ocsp(self, request: web.Request) -> web.Response:
        self.ocsp_requests += 1
        if self.ocsp_behaviour == "http-error":
            return web.Response(status=503)
        if self.ocsp_behaviour == "oversized":
            return web.Response(body=b"\x30" * (256 * 1024), content_type="application/ocsp-response")
        if self.ocsp_behaviour == "garbage":
            return web.Response(body=b"not DER", content_type="application/ocsp-response")
        asked = ocsp.load_der_ocsp_request(await request.read())
        serial = asked.serial_number + (1 if self.ocsp_behaviour == "wrong-serial" else 0)
        now = dt.datetime.now(dt.UTC)
        status, revoked_at, reason = ocsp.OCSPCertStatus.GOOD, None, None
        if serial in self.revoked:
            status = ocsp.OCSPCertStatus.REVOKED
            revoked_at, reason = self.revoked[serial]
        next_update = now + self.next_update_offset if self.next_update_offset is not None else None
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=asked.issuer_name_hash,
                issuer_key_hash=asked.issuer_key_hash,
                serial_number=serial,
                algorithm=asked.hash_algorithm,
                cert_status=status,
                this_update=now + self.this_update_offset,
                next_update=next_update,
                revocation_time=revoked_at,
                revocation_reason=reason,
            )
            .responder_id(
                ocsp.OCSPResponderEncoding.NAME
                if self.responder_by_name
                else ocsp.OCSPResponderEncoding.HASH,
                self.signer.certificate,
            )
        )
        if self.signer.certificate != self.ca.certificate:
            builder = builder.certificates([self.signer.certificate])
        with contextlib.suppress(x509.ExtensionNotFound):
            nonce = asked.extensions.get_extension_for_class(x509.OCSPNonce).value
            builder = builder.add_extension(nonce, critical=False)
        answer = builder.sign(self.signer.private_key, hashes.SHA256())
        return web.Response(
            body=answer.public_bytes(serialization.Encoding.DER), content_type="application/ocsp-response"
        )

    async def crl(self, request: web.Request) -> web.Response:
        self.crl_requests += 1
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.ca.certificate.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + self.crl_next_update_offset)
        )
        for serial, (when, reason) in self.revoked.items():
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(when)
                .add_extension(x509.CRLReason(reason), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        crl = builder.sign(self.ca.private_key, hashes.SHA256())
        encoding = serialization.Encoding.PEM if self.crl_pem else serialization.Encoding.DER
        return web.Response(body=crl.public_bytes(encoding), content_type="application/pkix-crl")


@contextlib.asynccontextmanager
async def serve(responders: Responders) -> AsyncIterator[Responders]:
    """Run the endpoints on an ephemeral loopback port; ``responders.base_url`` is set meanwhile."""
    app = web.Application()
    app.router.add_post("/ocsp", responders.ocsp)
    app.router.add_get("/ca.crl", responders.crl)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    responders.base_url = f"http://127.0.0.1:{port}"
    try:
        yield responders
    finally:
        await runner.cleanup()


def closed_port_url(path: str) -> str:
    """A loopback URL nobody listens on: connections are refused (a responder that is down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
