"""Is a certificate revoked? OCSP first, the CRL as fallback, answers cached until their nextUpdate.

Why both: Peppol's CAs publish an OCSP responder and a CRL; OCSP answers are small and current, the
CRL still works when the responder is down. Every answer is verified before it counts: an OCSP
response must be signed by the issuing CA or by a responder certificate that CA issued for OCSP
signing, be about the certificate asked for, and be fresh; a CRL must be signed by the issuing CA and
be current. Anything else is "unknown" with the reason, and the caller's policy decides.

Network reads are bounded in time and size; URLs come from the certificate, which the caller has
already checked to be issued by a trusted CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from accesspoint import __version__
from accesspoint.httpio import TooLarge, read_bounded
from accesspoint.pki.chain import describe, issued_by

log = logging.getLogger("ehfgate.pki.revocation")

Status = Literal["good", "revoked", "unknown", "unchecked"]
Source = Literal["ocsp", "crl", "cache", "none"]

MAX_OCSP_RESPONSE_BYTES = 64 * 1024
MAX_CRL_BYTES = 16 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
CLOCK_SKEW = dt.timedelta(minutes=5)
# An OCSP response without nextUpdate says "current at thisUpdate"; accept it for this long.
MAX_AGE_WITHOUT_NEXT_UPDATE = dt.timedelta(hours=1)
# Unknown answers are remembered briefly, so a dead responder does not delay every message.
UNKNOWN_TTL = dt.timedelta(seconds=60)
_CACHE_ENTRIES = 4096
_CRL_ENTRIES = 32


@dataclass(frozen=True, slots=True)
class RevocationResult:
    """The answer and where it came from, enough to explain a decision in logs and ``ehfgate lookup``.

    ``source`` is ``cache`` when remembered (``cached_from`` then says ocsp or crl); ``url`` is the
    responder or CRL used; ``detail`` says why the status is unknown, or which responder signed.
    """

    status: Status
    source: Source
    url: str | None = None
    this_update: dt.datetime | None = None
    next_update: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    reason: str | None = None
    detail: str = ""
    cached_from: Source | None = None

    def explain(self) -> str:
        parts: list[str] = [self.status]
        if self.status == "revoked":
            when = f" on {self.revoked_at:%Y-%m-%d %H:%M}Z" if self.revoked_at else ""
            parts.append(f"({self.reason or 'unspecified'}{when})")
        origin = f"{self.source}" + (f" of {self.cached_from}" if self.cached_from else "")
        parts.append(f"via {origin}")
        if self.url:
            parts.append(self.url)
        if self.this_update:
            parts.append(f"thisUpdate {self.this_update:%Y-%m-%dT%H:%M:%SZ}")
        if self.next_update:
            parts.append(f"nextUpdate {self.next_update:%Y-%m-%dT%H:%M:%SZ}")
        if self.detail:
            parts.append(f"- {self.detail}")
        return " ".join(parts)

    def as_json(self) -> dict[str, str | None]:
        def stamp(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "status": self.status,
            "source": self.source,
            "cached_from": self.cached_from,
            "url": self.url,
            "this_update": stamp(self.this_update),
            "next_update": stamp(self.next_update),
            "revoked_at": stamp(self.revoked_at),
            "reason": self.reason,
            "detail": self.detail,
        }


class _Unusable(Exception):
    """An answer that cannot be relied on; the message becomes the result's ``detail``."""


def ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        d.access_location.value
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
        and _http(d.access_location.value)
    ]


def crl_urls(cert: x509.Certificate) -> list[str]:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points
        for name in point.full_name or ()
        if isinstance(name, x509.UniformResourceIdentifier) and _http(name.value)
    ]


def _http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _verify_signature(
    key: object, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm | None
) -> None:
    """Raise InvalidSignature unless ``key`` signed ``data`` (RSA PKCS#1 v1.5, ECDSA or EdDSA)."""
    if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
        key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
        key.verify(signature, data, ec.ECDSA(algorithm))
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key.verify(signature, data)
    else:
        raise InvalidSignature(f"unsupported signing key {type(key).__name__}")


def _key_hash(cert: x509.Certificate) -> bytes:
    """SHA-1 of the subjectPublicKey bits: the ResponderID byKey and the CertID issuerKeyHash form."""
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


@dataclass(frozen=True, slots=True)
class _Cached:
    result: RevocationResult
    until: dt.datetime


@dataclass(frozen=True, slots=True)
class _Crl:
    crl: x509.CertificateRevocationList
    until: dt.datetime


class RevocationChecker:
    """Checks one certificate at a time against its issuer's OCSP responder and CRL.

    ``hash_algorithm`` is the CertID hash: SHA-1 is what every responder understands (RFC 5019), and
    what the Peppol CAs' responders expect; SHA-256 is accepted by newer ones. ``nonce`` adds an
    OCSP nonce (many CA responders serve pre-signed answers and ignore it; when echoed it must match).
    ``clock`` returns the current time (tests pin it).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_ocsp_bytes: int = MAX_OCSP_RESPONSE_BYTES,
        max_crl_bytes: int = MAX_CRL_BYTES,
        hash_algorithm: hashes.HashAlgorithm | None = None,
        nonce: bool = False,
        clock_skew: dt.timedelta = CLOCK_SKEW,
        max_age: dt.timedelta = MAX_AGE_WITHOUT_NEXT_UPDATE,
        unknown_ttl: dt.timedelta = UNKNOWN_TTL,
        clock: Callable[[], dt.datetime] | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_ocsp_bytes = max_ocsp_bytes
        self.max_crl_bytes = max_crl_bytes
        self.hash_algorithm = hash_algorithm or hashes.SHA1()  # noqa: S303 - CertID, not a signature
        self.nonce = nonce
        self.clock_skew = clock_skew
        self.max_age = max_age
        self.unknown_ttl = unknown_ttl
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._session = session
        self._own_session = session is None
        self._results: OrderedDict[tuple[bytes, int], _Cached] = OrderedDict()
        self._crls: OrderedDict[str, _Crl] = OrderedDict()
        self._crl_locks: dict[str, asyncio.Lock] = {}
        self.requests = 0  # network requests made (OCSP and CRL): visible to tests and metrics

    async def aclose(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    async def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> RevocationResult:
        """The revocation status of ``cert``, issued by ``issuer`` (already verified by the caller)."""
        now = self._clock()
        key = (_key_hash(issuer), cert.serial_number)
        cached = self._results.get(key)
        if cached is not None and now < cached.until:
            self._results.move_to_end(key)
            return replace(cached.result, source="cache", cached_from=cached.result.source)
        result = await self._check(cert, issuer, now)
        self._remember(key, result, now)
        return result

    async def _check(
        self, cert: x509.Certificate, issuer: x509.Certificate, now: dt.datetime
    ) -> RevocationResult:
        problems: list[str] = []
        for url in ocsp_urls(cert):
            try:
                return await self._ocsp(cert, issuer, url, now)
            except _Unusable as exc:
                problems.append(f"OCSP {url}: {exc}")
        for url in crl_urls(cert):
            try:
                return await self._crl(cert, issuer, url, now)
            except _Unusable as exc:
                problems.append(f"CRL {url}: {exc}")
        if not problems:
            problems.append(f"{describe(cert)} names no OCSP responder and no CRL distribution point")
        detail = "; ".join(problems)
        log.info("revocation status of %s unknown: %s", describe(cert), detail)
        return RevocationResult("unknown", "none", detail=detail)

    def _remember(self, key: tuple[bytes, int], result: RevocationResult, now: dt.datetime) -> None:
        if result.status == "unknown":
            until = now + self.unknown_ttl
        elif result.next_update is not None:
            until = result.next_update
        else:
            until = now + self.max_age
        if until <= now:
            return
        self._results[key] = _Cached(result, until)
        self._results.move_to_end(key)
        while len(self._results) > _CACHE_ENTRIES:
            self._results.popitem(last=False)

    # OCSP

    async def _ocsp(
        self, cert: x509.Certificate, issuer: x509.Certificate, url: str, now: dt.datetime
    ) -> RevocationResult:
        builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, self.hash_algorithm)
        nonce = os.urandom(16) if self.nonce else None
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        request = builder.build()
        headers = {"Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"}
        body = await self._post(url, request.public_bytes(serialization.Encoding.DER), headers)
        try:
            response = ocsp.load_der_ocsp_response(body)
        except ValueError as exc:
            raise _Unusable(f"not an OCSP response ({exc})") from None
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise _Unusable(f"responder answered {response.response_status.name.lower()}")
        signer = self._ocsp_signer(response, issuer, now)
        if nonce is not None:
            self._check_nonce(response, nonce)
        single = self._matching(response, request)
        this_update = single.this_update_utc
        next_update = single.next_update_utc
        self._check_fresh(this_update, next_update, now)
        detail = f"signed by {describe(signer)}"
        if single.certificate_status == ocsp.OCSPCertStatus.GOOD:
            return RevocationResult("good", "ocsp", url, this_update, next_update, detail=detail)
        if single.certificate_status == ocsp.OCSPCertStatus.REVOKED:
            reason = single.revocation_reason.name if single.revocation_reason else None
            return RevocationResult(
                "revoked", "ocsp", url, this_update, next_update, single.revocation_time_utc, reason, detail
            )
        raise _Unusable("the responder does not know the certificate (status unknown)")

    def _ocsp_signer(
        self, response: ocsp.OCSPResponse, issuer: x509.Certificate, now: dt.datetime
    ) -> x509.Certificate:
        """The certificate whose key signed the response: the issuer, or a responder it delegated to."""
        if self._responder_is(response, issuer):
            signer = issuer
        else:
            delegated = [c for c in response.certificates if self._responder_is(response, c)]
            if not delegated:
                raise _Unusable("signed by a responder that is neither the issuing CA nor sent along")
            signer = delegated[0]
            if not issued_by(signer, issuer):
                raise _Unusable(f"responder certificate {describe(signer)} is not issued by the issuing CA")
            try:
                eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except x509.ExtensionNotFound:
                eku = None
            if eku is None or ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                raise _Unusable(f"responder certificate {describe(signer)} is not for OCSP signing")
            if not signer.not_valid_before_utc - self.clock_skew <= now <= signer.not_valid_after_utc:
                raise _Unusable(f"responder certificate {describe(signer)} is not valid now")
        try:
            _verify_signature(
                signer.public_key(),
                response.signature,
                response.tbs_response_bytes,
                response.signature_hash_algorithm,
            )
        except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
            raise _Unusable("the response signature does not verify") from None
        return signer

    @staticmethod
    def _responder_is(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
        if response.responder_key_hash is not None:
            return response.responder_key_hash == _key_hash(cert)
        return response.responder_name == cert.subject

    @staticmethod
    def _check_nonce(response: ocsp.OCSPResponse, nonce: bytes) -> None:
        try:
            echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            return  # pre-signed answers carry none; freshness comes from thisUpdate then
        if echoed != nonce:
            raise _Unusable("the response nonce is not the one sent")

    @staticmethod
    def _matching(response: ocsp.OCSPResponse, request: ocsp.OCSPRequest) -> ocsp.OCSPSingleResponse:
        """The SingleResponse whose CertID is the one asked about (hash algorithm, hashes, serial)."""
        for single in response.responses:
            if (
                single.serial_number == request.serial_number
                and single.issuer_key_hash == request.issuer_key_hash
                and single.issuer_name_hash == request.issuer_name_hash
                and single.hash_algorithm.name == request.hash_algorithm.name
            ):
                return single
        raise _Unusable("the response is not about the certificate asked for")

    def _check_fresh(
        self, this_update: dt.datetime, next_update: dt.datetime | None, now: dt.datetime
    ) -> None:
        if this_update > now + self.clock_skew:
            raise _Unusable(f"thisUpdate {this_update:%Y-%m-%dT%H:%M:%SZ} is in the future")
        if next_update is not None:
            if next_update < now - self.clock_skew:
                raise _Unusable(f"stale: nextUpdate {next_update:%Y-%m-%dT%H:%M:%SZ} has passed")
        elif this_update + self.max_age < now - self.clock_skew:
            raise _Unusable(f"stale: thisUpdate {this_update:%Y-%m-%dT%H:%M:%SZ} without nextUpdate")

    # CRL

    async def _crl(
        self, cert: x509.Certificate, issuer: x509.Certificate, url: str, now: dt.datetime
    ) -> RevocationResult:
        crl = await self._current_crl(url, issuer, now)
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        this_update, next_update = crl.last_update_utc, crl.next_update_utc
        if entry is None:
            return RevocationResult("good", "crl", url, this_update, next_update, detail="not on the CRL")
        reason: str | None = None
        with contextlib.suppress(x509.ExtensionNotFound):
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
        return RevocationResult(
            "revoked", "crl", url, this_update, next_update, entry.revocation_date_utc, reason, "on the CRL"
        )

    async def _current_crl(
        self, url: str, issuer: x509.Certificate, now: dt.datetime
    ) -> x509.CertificateRevocationList:
        """A verified, current CRL from the cache or freshly downloaded (one download per URL at a time)."""
        lock = self._crl_locks.setdefault(url, asyncio.Lock())
        async with lock:
            cached = self._crls.get(url)
            if cached is not None and now < cached.until and cached.crl.issuer == issuer.subject:
                self._crls.move_to_end(url)
                return cached.crl
            data = await self._get(url, self.max_crl_bytes)
            crl = self._parse_crl(data, issuer, now)
            until = crl.next_update_utc or (now + self.max_age)
            self._crls[url] = _Crl(crl, until)
            self._crls.move_to_end(url)
            while len(self._crls) > _CRL_ENTRIES:
                self._crls.popitem(last=False)
            return crl

    def _parse_crl(
        self, data: bytes, issuer: x509.Certificate, now: dt.datetime
    ) -> x509.CertificateRevocationList:
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                crl = x509.load_pem_x509_crl(data)
            else:
                crl = x509.load_der_x509_crl(data)
        except ValueError as exc:
            raise _Unusable(f"not a CRL ({exc})") from None
        if crl.issuer != issuer.subject:
            raise _Unusable(f"the CRL is issued by {crl.issuer.rfc4514_string()}, not the issuing CA")
        try:
            valid = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
        except (TypeError, ValueError, UnsupportedAlgorithm):
            valid = False
        if not valid:
            raise _Unusable("the CRL signature does not verify with the issuing CA's key")
        if crl.last_update_utc > now + self.clock_skew:
            raise _Unusable("the CRL's thisUpdate is in the future")
        next_update = crl.next_update_utc
        if next_update is not None and next_update < now - self.clock_skew:
            raise _Unusable(f"stale: the CRL's nextUpdate {next_update:%Y-%m-%dT%H:%M:%SZ} has passed")
        return crl

    # HTTP

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers={"User-Agent": f"ehfgate/{__version__}"})
            self._own_session = True
        return self._session

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> bytes:
        return await self._request("POST", url, self.max_ocsp_bytes, body, headers)

    async def _get(self, url: str, limit: int) -> bytes:
        return await self._request("GET", url, limit, None, {})

    async def _request(
        self, method: str, url: str, limit: int, body: bytes | None, headers: dict[str, str]
    ) -> bytes:
        self.requests += 1
        timeout = aiohttp.ClientTimeout(total=self.timeout, connect=min(self.timeout, 5.0))
        try:
            async with self._client().request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=method == "GET",
                max_redirects=3,
            ) as response:
                if response.status != 200:
                    raise _Unusable(f"HTTP {response.status}")
                return await read_bounded(response, limit)
        except TooLarge as exc:
            raise _Unusable(str(exc)) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _Unusable(f"unreachable: {exc or type(exc).__name__}") from None


def unchecked(detail: str) -> RevocationResult:
    """The result when policy switches revocation checking off."""
    return RevocationResult("unchecked", "none", detail=detail)
