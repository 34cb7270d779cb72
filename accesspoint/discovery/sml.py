"""SML lookup: which SMP serves a participant, found in DNS.

The SML publishes one DNS name per registered participant. The current form (Peppol Policy for use of
Identifiers 4.4, SML 1.3) is a U-NAPTR record with service ``Meta:SMP`` at
``base32(sha256(lowercase(value))).scheme.zone`` whose regexp yields the SMP URL. The legacy form, a
``B-md5(lowercase(value))`` name that is itself the SMP host, stopped being published on 2025-11-01 and is
only tried when asked for.

Outcomes: :class:`SmpFound` or :class:`NotRegistered` (a definite DNS answer, both cached), or
:class:`SmlDnsError` for a technical failure, which callers retry later.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import hashlib
import ipaddress
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

import dns.asyncresolver
import dns.exception
import dns.resolver
from dns.rdtypes.IN.NAPTR import NAPTR

from accesspoint.peppol.identifiers import Identifier, participant

PRODUCTION_ZONE = "participant.sml.prod.tech.peppol.org"
TEST_ZONE = "participant.sml.test.tech.peppol.org"
ZONES = {"production": PRODUCTION_ZONE, "test": TEST_ZONE}
SMP_SERVICE = "Meta:SMP"
DNS_PORT = 53
EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size: no fragmentation; larger answers go over TCP


class Form(enum.StrEnum):
    """How the participant's DNS name is built and read."""

    NAPTR = "naptr"
    CNAME = "cname"


class Strategy(enum.StrEnum):
    """Which forms a lookup tries, in order."""

    NAPTR = "naptr"
    CNAME = "cname"
    NAPTR_THEN_CNAME = "naptr-then-cname"

    @property
    def forms(self) -> tuple[Form, ...]:
        return {
            Strategy.NAPTR: (Form.NAPTR,),
            Strategy.CNAME: (Form.CNAME,),
            Strategy.NAPTR_THEN_CNAME: (Form.NAPTR, Form.CNAME),
        }[self]


# The SML has answered NAPTR only since 2025-11-01; CNAME is kept for private networks and old zones.
DEFAULT_STRATEGY = Strategy.NAPTR


# --- DNS names (pure) -------------------------------------------------------------------------------


def zone_for(mode: str, override: str | None = None) -> str:
    """The SML DNS zone for ``peppol.mode`` (``test`` / ``production``), unless ``peppol.sml_zone`` is set.

    These are the participant DNS zones, not the SML management API hosts (``api.sml.*``).
    """
    if override:
        return override.strip().rstrip(".").lower()
    try:
        return ZONES[mode]
    except KeyError:
        raise ValueError(f"unknown peppol.mode {mode!r}; expected one of {', '.join(ZONES)}") from None


def _zone(zone: str) -> str:
    return zone.strip().rstrip(".").lower()


def naptr_name(ident: Identifier, zone: str) -> str:
    """``lowercase(base32_nopad(sha256(utf8(lowercase(value))))).lowercase(scheme).zone``."""
    digest = hashlib.sha256(ident.value.lower().encode("utf-8")).digest()
    label = base64.b32encode(digest).decode("ascii").rstrip("=").lower()
    return f"{label}.{ident.scheme.lower()}.{_zone(zone)}"


def cname_name(ident: Identifier, zone: str) -> str:
    """``B-hex(md5(lowercase(value))).lowercase(scheme).zone`` (the pre-2025-11 form)."""
    digest = hashlib.md5(ident.value.lower().encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"B-{digest}.{ident.scheme.lower()}.{_zone(zone)}"


def dns_name(ident: Identifier, zone: str, form: Form) -> str:
    return naptr_name(ident, zone) if form is Form.NAPTR else cname_name(ident, zone)


def parse_dns_server(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` (IPv6 as ``[addr]:port`` or a bare address) as host and port."""
    text = text.strip()
    if not text:
        raise ValueError("empty DNS server")
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"DNS server {text!r}: expected [IPv6]:PORT")
        port_text = rest[1:] if rest else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""  # a hostname, an IPv4 address or a bare IPv6 address
    if not host:
        raise ValueError(f"DNS server {text!r} has no host")
    if not port_text:
        return host, DNS_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"DNS server {text!r}: port must be 1-65535")
    return host, int(port_text)


# --- U-NAPTR regexp (RFC 3402 substitution expression) ----------------------------------------------


def _split_delimited(expression: str) -> tuple[str, str, str]:
    if len(expression) < 3:
        raise ValueError(f"NAPTR regexp {expression!r} is too short")
    delim = expression[0]
    if delim.isdigit() or delim in "\\i":
        raise ValueError(f"NAPTR regexp {expression!r}: {delim!r} cannot be the delimiter")
    fields: list[str] = []
    current: list[str] = []
    escaped = False
    for char in expression[1:]:
        if escaped:
            current.append(char if char == delim else "\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == delim:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped or len(fields) != 2:
        raise ValueError(f"NAPTR regexp {expression!r} is not delim-ere-delim-replacement-delim-flags")
    return fields[0], fields[1], "".join(current)


def apply_regexp(expression: str, subject: str) -> str | None:
    """The result of a NAPTR substitution expression (``!^.*$!https://smp.example.com!``) on ``subject``.

    None when the expression does not match. Backreferences ``\\1``..``\\9`` are honoured.
    """
    ere, replacement, flags = _split_delimited(expression)
    if flags not in ("", "i"):
        raise ValueError(f"NAPTR regexp {expression!r}: unknown flags {flags!r}")
    try:
        pattern = re.compile(ere, re.IGNORECASE if flags else 0)
    except re.error as exc:
        raise ValueError(f"NAPTR regexp {expression!r}: {exc}") from None

    def expand(match: re.Match[str]) -> str:
        out: list[str] = []
        chars = iter(replacement)
        for char in chars:
            if char != "\\":
                out.append(char)
                continue
            following = next(chars, "")
            if following.isdigit() and following != "0":
                out.append(match.group(int(following)) or "")
            else:
                out.append(following)
        return "".join(out)

    result, count = pattern.subn(expand, subject, count=1)
    return result if count else None


# --- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmpFound:
    """The participant is registered; its SMP is at ``smp_url``."""

    participant: Identifier
    smp_url: str
    form: Form
    dns_name: str
    record: str  # the DNS record(s) the answer rests on, in zone-file text
    ttl: int
    from_cache: bool = False

    registered: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Miss:
    """One form's definite negative answer."""

    form: Form
    dns_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class NotRegistered:
    """The SML has no SMP for the participant (NXDOMAIN, or no usable record) in any form tried."""

    participant: Identifier
    misses: tuple[Miss, ...]
    from_cache: bool = False

    registered: ClassVar[bool] = False

    def __str__(self) -> str:
        tried = "; ".join(f"{m.form} {m.dns_name}: {m.reason}" for m in self.misses)
        return f"{self.participant} is not registered in the SML ({tried})"


SmlResult = SmpFound | NotRegistered


class SmlDnsError(Exception):
    """The SML could not be asked (timeout, SERVFAIL, no nameserver): try again later."""

    retryable: ClassVar[bool] = True

    def __init__(self, message: str, *, dns_name: str | None = None, form: Form | None = None) -> None:
        super().__init__(message)
        self.dns_name = dns_name
        self.form = form


# --- the client -------------------------------------------------------------------------------------

_FormAnswer = SmpFound | Miss
_CacheKey = tuple[str, str, Form]


class SmlClient:
    """Looks participants up in one SML zone, caching answers by their TTL.

    ``dns_server`` (``HOST[:PORT]``) picks the resolver to ask; without it the system resolver is used.
    """

    def __init__(
        self,
        zone: str,
        *,
        dns_server: str | None = None,
        timeout: float = 5.0,
        strategy: Strategy = DEFAULT_STRATEGY,
        negative_ttl: float = 60.0,
        max_ttl: float = 86400.0,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.zone = _zone(zone)
        self.server = parse_dns_server(dns_server) if dns_server else None
        self.timeout = timeout
        self.strategy = strategy
        self.negative_ttl = negative_ttl
        self.max_ttl = max_ttl
        self.cache_size = cache_size
        self._clock = clock
        self._cache: OrderedDict[_CacheKey, tuple[float, _FormAnswer]] = OrderedDict()
        self._resolver: dns.asyncresolver.Resolver | None = None

    @classmethod
    def for_mode(
        cls,
        mode: str,
        *,
        sml_zone: str | None = None,
        dns_server: str | None = None,
        timeout: float = 5.0,
        strategy: Strategy = DEFAULT_STRATEGY,
        negative_ttl: float = 60.0,
    ) -> SmlClient:
        """A client from the ``peppol`` settings: mode, optional zone override and resolver."""
        return cls(
            zone_for(mode, sml_zone),
            dns_server=dns_server,
            timeout=timeout,
            strategy=strategy,
            negative_ttl=negative_ttl,
        )

    async def lookup(self, ident: Identifier | str, strategy: Strategy | None = None) -> SmlResult:
        """The SMP of ``ident``, or why there is none. Raises :class:`SmlDnsError` on DNS failure."""
        parsed = ident if isinstance(ident, Identifier) else participant(ident)
        misses: list[Miss] = []
        all_cached = True
        for form in (strategy or self.strategy).forms:
            answer, cached = await self._answer(parsed, form)
            if isinstance(answer, SmpFound):
                return replace(answer, participant=parsed, from_cache=cached)
            misses.append(answer)
            all_cached = all_cached and cached
        return NotRegistered(parsed, tuple(misses), from_cache=all_cached)

    def clear_cache(self) -> None:
        self._cache.clear()

    async def _answer(self, ident: Identifier, form: Form) -> tuple[_FormAnswer, bool]:
        """One form's answer, and whether it came from the cache."""
        name = dns_name(ident, self.zone, form)
        key = (self.zone, name.lower(), form)
        cached = self._cached(key)
        if cached is not None:
            return cached, True
        answer = await (self._naptr(ident, name) if form is Form.NAPTR else self._cname(ident, name))
        if isinstance(answer, SmpFound):
            self._store(key, answer, min(float(answer.ttl), self.max_ttl))
        else:
            self._store(key, answer, self.negative_ttl)
        return answer, False

    def _cached(self, key: _CacheKey) -> _FormAnswer | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        expires, answer = entry
        if self._clock() >= expires:
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return answer

    def _store(self, key: _CacheKey, answer: _FormAnswer, seconds: float) -> None:
        if seconds <= 0 or self.cache_size <= 0:
            return
        self._cache[key] = (self._clock() + seconds, answer)
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def _resolve(self, name: str, rdtype: str, form: Form) -> dns.resolver.Answer | None:
        """The answer for ``name``, None for NXDOMAIN; technical failures become SmlDnsError."""
        resolver = await self._get_resolver()
        try:
            return await resolver.resolve(name + ".", rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return None
        except dns.exception.Timeout:
            raise SmlDnsError(
                f"DNS {rdtype} query for {name} timed out after {self.timeout:g} s", dns_name=name, form=form
            ) from None
        except dns.resolver.NoNameservers as exc:
            raise SmlDnsError(
                f"DNS {rdtype} query for {name} failed at every nameserver (e.g. SERVFAIL): {exc}",
                dns_name=name,
                form=form,
            ) from None
        except (dns.exception.DNSException, OSError) as exc:
            raise SmlDnsError(
                f"DNS {rdtype} query for {name} failed: {exc}", dns_name=name, form=form
            ) from exc

    async def _naptr(self, ident: Identifier, name: str) -> _FormAnswer:
        answer = await self._resolve(name, "NAPTR", Form.NAPTR)
        if answer is None:
            return Miss(Form.NAPTR, name, "NXDOMAIN")
        if answer.rrset is None:
            return Miss(Form.NAPTR, name, "no NAPTR records")
        candidates = sorted(
            (r for r in answer.rrset if isinstance(r, NAPTR) and _is_smp_record(r)),
            key=lambda r: (r.order, r.preference),
        )
        for record in candidates:
            url = _smp_url(record, name)
            if url is not None:
                text = f"{answer.rrset.name} {answer.rrset.ttl} IN NAPTR {record.to_text()}"
                return SmpFound(ident, url, Form.NAPTR, name, text, answer.rrset.ttl)
        services = sorted(
            {r.service.decode("ascii", "replace") for r in answer.rrset if isinstance(r, NAPTR)}
        )
        if candidates:
            return Miss(Form.NAPTR, name, f"no {SMP_SERVICE} record yields an http(s) URL")
        return Miss(
            Form.NAPTR, name, f"no U-NAPTR record for {SMP_SERVICE} (services: {', '.join(services)})"
        )

    async def _cname(self, ident: Identifier, name: str) -> _FormAnswer:
        answer = await self._resolve(name, "A", Form.CNAME)
        if answer is None:
            return Miss(Form.CNAME, name, "NXDOMAIN")
        rrsets = answer.response.answer
        if not rrsets:
            return Miss(Form.CNAME, name, "no A or CNAME record")
        text = "\n".join(rrset.to_text() for rrset in rrsets)
        ttl = min(rrset.ttl for rrset in rrsets)
        return SmpFound(ident, f"http://{name}", Form.CNAME, name, text, ttl)

    async def _get_resolver(self) -> dns.asyncresolver.Resolver:
        if self._resolver is not None:
            return self._resolver
        if self.server is None:
            try:
                resolver = dns.asyncresolver.Resolver()
            except dns.resolver.NoResolverConfiguration as exc:
                raise SmlDnsError(f"no system DNS resolver is configured: {exc}") from None
        else:
            host, port = self.server
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [await self._address(host, port)]
            resolver.port = port
        resolver.timeout = self.timeout
        resolver.lifetime = self.timeout
        resolver.cache = None  # answers are cached here, per form and with a bounded negative time
        resolver.use_edns(0, 0, EDNS_PAYLOAD)
        self._resolver = resolver
        return resolver

    async def _address(self, host: str, port: int) -> str:
        """The IP address of the configured DNS server (a hostname is resolved once, by the system)."""
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            pass
        try:
            async with asyncio.timeout(self.timeout):
                infos = await asyncio.get_running_loop().getaddrinfo(host, port)
        except (OSError, TimeoutError) as exc:
            raise SmlDnsError(f"cannot resolve the DNS server name {host!r}: {exc}") from None
        return str(infos[0][4][0])


def _is_smp_record(record: NAPTR) -> bool:
    return record.flags.upper() == b"U" and record.service.lower() == SMP_SERVICE.lower().encode()


def _smp_url(record: NAPTR, name: str) -> str | None:
    try:
        url = apply_regexp(record.regexp.decode("utf-8"), name)
    except (ValueError, UnicodeDecodeError):
        return None
    if url is None or not url.lower().startswith(("https://", "http://")) or len(url) > 2048:
        return None
    return url
