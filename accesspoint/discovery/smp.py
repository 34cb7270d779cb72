"""SMP client: fetch, verify and read a participant's service metadata, and pick the endpoint to send to.

Fetching goes straight to the document type URL (one request in the common case); the ServiceGroup is
read only to list document types, when asked, or to tell "participant unknown" from "document type
unknown" after a 404. Every answer is bounded in size and time, verified (signature, then the
caller's ``smp_trust``, e.g. a chain to the Peppol SMP CA), checked to be about what was asked, and
only then cached.

Outcomes: :class:`SmpLookup` for answers that will not change by retrying (found, not registered, no
endpoint, expired), :class:`SmpUnavailable` for technical failures worth retrying, :class:`SmpRefused`
(with a :class:`RefusalReason`) for answers that must not be used. Each carries the steps taken.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509
from yarl import URL

from accesspoint.discovery.smp_documents import (
    DEFAULT_TRANSPORT_PROFILE,
    LookupOutcome,
    ReadDocument,
    RefusalReason,
    ServiceGroup,
    ServiceMetadata,
    SmpError,
    SmpFormat,
    SmpRefused,
    SmpUnavailable,
    check_identifiers,
    choose_endpoint,
    read_document,
    same_case_sensitive_id,
    same_participant,
    service_group_url,
    service_metadata_url,
)
from accesspoint.peppol.identifiers import Identifier
from accesspoint.xml import XMLLimits

__all__ = [
    "DEFAULT_TRANSPORT_PROFILE",
    "FetchStep",
    "FoundEndpoint",
    "LookupOutcome",
    "RefusalReason",
    "SignatureVerdict",
    "SmpClient",
    "SmpClientConfig",
    "SmpError",
    "SmpFormat",
    "SmpLookup",
    "SmpRefused",
    "SmpTrust",
    "SmpUnavailable",
]

SmpTrust = Callable[[x509.Certificate, Sequence[x509.Certificate]], None]
"""Raises (anything) unless the SMP signing certificate may publish metadata; gets the KeyInfo chain."""

_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_NOT_FOUND: Final = frozenset({404, 410})
_RETRYABLE: Final = frozenset({408, 425, 429})
_CHUNK: Final = 64 * 1024
_CACHE_ENTRIES: Final = 4096


@dataclass(frozen=True, slots=True)
class SmpClientConfig:
    max_response_bytes: int = 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    cache_seconds: float = 15 * 60
    not_found_cache_seconds: float = 60.0
    max_http_redirects: int = 3
    require_signature: bool = True
    allow_sha1: bool = False


@dataclass(frozen=True, slots=True)
class FetchStep:
    """One request (or cache hit), for ``ehfgate lookup`` and logs."""

    url: str
    status: int | None
    bytes: int
    verdict: str
    seconds: float = 0.0

    def __str__(self) -> str:
        status = self.status if self.status is not None else "-"
        return f"GET {self.url} -> {status} ({self.bytes} bytes, {self.seconds * 1000:.0f} ms) {self.verdict}"


@dataclass(frozen=True, slots=True)
class SignatureVerdict:
    signed: bool
    trusted: bool
    signer_subject: str | None = None
    algorithm: str | None = None


@dataclass(frozen=True, slots=True)
class FoundEndpoint:
    url: str
    transport_profile: str
    certificate: x509.Certificate
    process: Identifier
    activation: dt.datetime | None
    expiration: dt.datetime | None
    description: str | None
    technical_contact: str | None


@dataclass(frozen=True, slots=True)
class SmpLookup:
    """A definite answer. ``endpoint`` is set only when ``outcome`` is FOUND; the rest are permanent."""

    outcome: LookupOutcome
    detail: str
    smp_url: str
    steps: tuple[FetchStep, ...]
    endpoint: FoundEndpoint | None = None
    signature: SignatureVerdict | None = None

    @property
    def found(self) -> bool:
        return self.outcome is LookupOutcome.FOUND


@dataclass(frozen=True, slots=True)
class _Verified:
    read: ReadDocument
    verdict: SignatureVerdict


@dataclass(frozen=True, slots=True)
class _CacheEntry:
    expires: float
    value: _Verified | None  # None: the SMP said 404


def _verdict(read: ReadDocument) -> SignatureVerdict:
    if read.signer is None:
        return SignatureVerdict(signed=False, trusted=False)
    return SignatureVerdict(True, True, read.signer.subject, read.signer.algorithm)


class SmpClient:
    """Reads SMPs. Pass ``session`` to share a connection pool; otherwise one is made and closed here."""

    def __init__(
        self,
        smp_trust: SmpTrust,
        config: SmpClientConfig | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._trust = smp_trust
        self.config = config or SmpClientConfig()
        self._session = session
        self._own_session = session is None
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._cache: OrderedDict[str, _CacheEntry] = OrderedDict()

    async def __aenter__(self) -> SmpClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def clear_cache(self) -> None:
        self._cache.clear()

    # --- public questions ---------------------------------------------------------------------------

    async def lookup(
        self,
        smp_url: str,
        participant: Identifier,
        document_type: Identifier,
        process: Identifier,
        *,
        transport_profile: str = DEFAULT_TRANSPORT_PROFILE,
        fmt: SmpFormat = SmpFormat.PEPPOL,
        via_service_group: bool = False,
    ) -> SmpLookup:
        """Where to send ``document_type`` in ``process`` to ``participant``, according to its SMP."""
        steps: list[FetchStep] = []
        try:
            return await self._lookup(
                steps, smp_url, participant, document_type, process, transport_profile, fmt, via_service_group
            )
        except SmpError as exc:
            exc.steps = tuple(steps)
            raise

    async def list_document_types(
        self, smp_url: str, participant: Identifier, *, fmt: SmpFormat = SmpFormat.PEPPOL
    ) -> tuple[Identifier, ...] | None:
        """The document types the participant's ServiceGroup lists; None when the SMP does not know it."""
        steps: list[FetchStep] = []
        try:
            group = await self._service_group(steps, smp_url, participant, fmt)
        except SmpError as exc:
            exc.steps = tuple(steps)
            raise
        return None if group is None else group.document_types

    # --- the flow -----------------------------------------------------------------------------------

    async def _lookup(
        self,
        steps: list[FetchStep],
        smp_url: str,
        participant: Identifier,
        document_type: Identifier,
        process: Identifier,
        transport_profile: str,
        fmt: SmpFormat,
        via_service_group: bool,
    ) -> SmpLookup:
        url = service_metadata_url(smp_url, participant, document_type, fmt)

        def answer(
            outcome: LookupOutcome,
            detail: str,
            used: str = url,
            endpoint: FoundEndpoint | None = None,
            signature: SignatureVerdict | None = None,
        ) -> SmpLookup:
            return SmpLookup(outcome, detail, used, tuple(steps), endpoint, signature)

        if via_service_group:
            group = await self._service_group(steps, smp_url, participant, fmt)
            if group is None:
                return answer(
                    LookupOutcome.PARTICIPANT_NOT_REGISTERED, f"the SMP does not know {participant}"
                )
            if not any(same_case_sensitive_id(d, document_type) for d in group.document_types):
                return answer(
                    LookupOutcome.DOCUMENT_TYPE_NOT_REGISTERED,
                    f"{participant} does not list document type {document_type}",
                )
        verified = await self._verified(steps, url, require_signature=self.config.require_signature)
        if verified is None:
            group = await self._service_group(steps, smp_url, participant, fmt)
            if group is None:
                return answer(
                    LookupOutcome.PARTICIPANT_NOT_REGISTERED, f"the SMP does not know {participant}"
                )
            return answer(
                LookupOutcome.DOCUMENT_TYPE_NOT_REGISTERED,
                f"{participant} has no metadata for document type {document_type}",
            )
        metadata = self._metadata(verified)
        check_identifiers(metadata, participant, document_type)
        redirect = metadata.redirect_for(process)
        if redirect is not None:
            target = redirect.href
            if target == url:
                raise SmpRefused(RefusalReason.REDIRECT_LOOP, f"SMP Redirect to itself ({target})")
            verified = await self._verified(steps, target, require_signature=True)
            if verified is None:
                return answer(
                    LookupOutcome.DOCUMENT_TYPE_NOT_REGISTERED,
                    f"the SMP Redirect target has no metadata for {document_type}",
                    target,
                )
            signer = verified.read.signer
            if signer is None or not redirect.names(signer.certificate):
                raise SmpRefused(
                    RefusalReason.REDIRECT_SIGNER_MISMATCH,
                    "the redirected answer is not signed by the certificate the Redirect names",
                )
            metadata = self._metadata(verified)
            next_hop = metadata.redirect_for(process)
            if next_hop is not None:
                reason = (
                    RefusalReason.REDIRECT_LOOP
                    if next_hop.href in (url, target)
                    else RefusalReason.TOO_MANY_REDIRECTS
                )
                raise SmpRefused(
                    reason, f"SMP Redirect from {target} to {next_hop.href}: only one hop is followed"
                )
            check_identifiers(metadata, participant, document_type)
            url = target
        choice = choose_endpoint(metadata, process, transport_profile, at=self._clock())
        if choice.outcome is not LookupOutcome.FOUND or choice.endpoint is None:
            return answer(choice.outcome, choice.detail, url, signature=verified.verdict)
        endpoint = choice.endpoint
        if urlsplit(endpoint.address).scheme not in ("http", "https"):
            raise SmpRefused(
                RefusalReason.INVALID_ENDPOINT, f"endpoint address {endpoint.address!r} is not http(s)"
            )
        found = FoundEndpoint(
            url=endpoint.address,
            transport_profile=endpoint.transport_profile,
            certificate=endpoint.load_certificate(),
            process=process,
            activation=endpoint.activation,
            expiration=endpoint.expiration,
            description=endpoint.description,
            technical_contact=endpoint.technical_contact,
        )
        return answer(LookupOutcome.FOUND, choice.detail, url, endpoint=found, signature=verified.verdict)

    @staticmethod
    def _metadata(verified: _Verified) -> ServiceMetadata:
        document = verified.read.document
        if not isinstance(document, ServiceMetadata):
            raise SmpRefused(RefusalReason.INVALID_DOCUMENT, "expected ServiceMetadata, got a ServiceGroup")
        return document

    async def _service_group(
        self, steps: list[FetchStep], smp_url: str, participant: Identifier, fmt: SmpFormat
    ) -> ServiceGroup | None:
        url = service_group_url(smp_url, participant, fmt)
        # Peppol ServiceGroups are unsigned; a signed one (BDXR 2 may sign) is verified all the same.
        verified = await self._verified(steps, url, require_signature=False)
        if verified is None:
            return None
        group = verified.read.document
        if not isinstance(group, ServiceGroup):
            raise SmpRefused(RefusalReason.INVALID_DOCUMENT, "expected a ServiceGroup")
        if not same_participant(group.participant, participant):
            raise SmpRefused(
                RefusalReason.IDENTIFIER_MISMATCH,
                f"asked for participant {participant}, the SMP answered for {group.participant}",
            )
        return group

    # --- fetching, verifying, caching -------------------------------------------------------------------

    async def _verified(
        self, steps: list[FetchStep], url: str, *, require_signature: bool
    ) -> _Verified | None:
        now = time.monotonic()
        entry = self._cache.get(url)
        if entry is not None:
            if entry.expires > now:
                self._cache.move_to_end(url)
                status = 404 if entry.value is None else 200
                verdict = "not registered (cached)" if entry.value is None else "cached"
                steps.append(FetchStep(url, status, 0, verdict))
                return entry.value
            del self._cache[url]
        status, body, final_url, started = await self._fetch(steps, url)
        elapsed = time.monotonic() - started
        if body is None:
            steps.append(FetchStep(final_url, status, 0, "not registered", elapsed))
            self._remember(url, None, self.config.not_found_cache_seconds)
            return None
        try:
            read = read_document(
                body,
                require_signature=require_signature,
                allow_sha1=self.config.allow_sha1,
                at=self._clock(),
                limits=XMLLimits(max_bytes=self.config.max_response_bytes),
            )
            if read.signer is not None:
                try:
                    self._trust(read.signer.certificate, read.signer.chain)
                except Exception as exc:
                    reason = getattr(exc, "reason", None)
                    text = f"{exc}" + (f" ({reason})" if reason else "")
                    raise SmpRefused(
                        RefusalReason.SIGNER_UNTRUSTED,
                        f"SMP signer {read.signer.subject} is not trusted: {text}",
                    ) from None
        except SmpRefused as exc:
            steps.append(FetchStep(final_url, status, len(body), f"refused: {exc.reason}", elapsed))
            raise
        verified = _Verified(read, _verdict(read))
        verdict = f"signature ok, signer {read.signer.subject}" if read.signer else "unsigned"
        steps.append(FetchStep(final_url, status, len(body), verdict, elapsed))
        self._remember(url, verified, self.config.cache_seconds)
        return verified

    def _remember(self, url: str, value: _Verified | None, seconds: float) -> None:
        if seconds <= 0:
            return
        self._cache[url] = _CacheEntry(time.monotonic() + seconds, value)
        self._cache.move_to_end(url)
        while len(self._cache) > _CACHE_ENTRIES:
            self._cache.popitem(last=False)

    def _session_for_use(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def _fetch(self, steps: list[FetchStep], url: str) -> tuple[int, bytes | None, str, float]:
        """(status, body or None for not-found, final URL, start time), following a few HTTP redirects."""
        config = self.config
        timeout = aiohttp.ClientTimeout(
            total=config.total_timeout, sock_connect=config.connect_timeout, sock_read=config.read_timeout
        )
        session = self._session_for_use()
        seen = {url}
        current = url
        for _ in range(config.max_http_redirects + 1):
            if urlsplit(current).scheme not in ("http", "https"):
                raise SmpRefused(RefusalReason.INVALID_URL, f"{current!r} is not an http(s) URL")
            started = time.monotonic()
            try:
                async with session.get(
                    URL(current, encoded=True),
                    allow_redirects=False,
                    timeout=timeout,
                    headers={"Accept": "application/xml, text/xml;q=0.9"},
                ) as response:
                    status = response.status
                    if status in _REDIRECT_STATUSES:
                        location = response.headers.get("Location")
                        steps.append(
                            FetchStep(
                                current, status, 0, f"HTTP redirect to {location}", time.monotonic() - started
                            )
                        )
                        if not location:
                            raise SmpRefused(
                                RefusalReason.UNEXPECTED_STATUS, f"HTTP {status} without Location"
                            )
                        target = str(response.url.join(URL(location, encoded=True)))
                        if target in seen:
                            raise SmpRefused(
                                RefusalReason.REDIRECT_LOOP, f"HTTP redirects loop back to {target}"
                            )
                        seen.add(target)
                        current = target
                        continue
                    if status in _NOT_FOUND:
                        return status, None, current, started
                    if status >= 500 or status in _RETRYABLE:
                        steps.append(
                            FetchStep(current, status, 0, "server error", time.monotonic() - started)
                        )
                        raise SmpUnavailable(f"SMP answered HTTP {status} for {current}")
                    if status != 200:
                        steps.append(
                            FetchStep(current, status, 0, "unexpected status", time.monotonic() - started)
                        )
                        raise SmpRefused(
                            RefusalReason.UNEXPECTED_STATUS, f"SMP answered HTTP {status} for {current}"
                        )
                    body = await self._read_bounded(response, steps, current, started)
                    return status, body, current, started
            except TimeoutError:
                steps.append(FetchStep(current, None, 0, "timeout", time.monotonic() - started))
                raise SmpUnavailable(f"SMP did not answer in time: {current}") from None
            except aiohttp.ClientError as exc:
                steps.append(FetchStep(current, None, 0, f"network error: {exc}", time.monotonic() - started))
                raise SmpUnavailable(f"SMP unreachable: {current}: {exc}") from None
        raise SmpRefused(
            RefusalReason.TOO_MANY_REDIRECTS,
            f"more than {config.max_http_redirects} HTTP redirects from {url}",
        )

    async def _read_bounded(
        self, response: aiohttp.ClientResponse, steps: list[FetchStep], url: str, started: float
    ) -> bytes:
        limit = self.config.max_response_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            response.close()
            steps.append(
                FetchStep(
                    url, response.status, 0, f"refused: declared {declared} bytes", time.monotonic() - started
                )
            )
            raise SmpRefused(
                RefusalReason.OVERSIZE, f"the SMP answer declares {declared} bytes; the limit is {limit}"
            )
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > limit:
                response.close()
                steps.append(
                    FetchStep(
                        url,
                        response.status,
                        len(body),
                        "refused: over the size limit",
                        time.monotonic() - started,
                    )
                )
                raise SmpRefused(RefusalReason.OVERSIZE, f"the SMP answer exceeds {limit} bytes")
        return bytes(body)
