"""SML lookup: the DNS names against published vectors, and lookups against a real DNS server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from accesspoint.discovery.sml import (
    DEFAULT_STRATEGY,
    PRODUCTION_ZONE,
    TEST_ZONE,
    Form,
    NotRegistered,
    SmlClient,
    SmlDnsError,
    SmpFound,
    Strategy,
    apply_regexp,
    cname_name,
    naptr_name,
    parse_dns_server,
    zone_for,
)
from accesspoint.peppol.identifiers import participant
from tests.discovery.dnsserver import Behaviour, DnsServer

ZONE = "sml.example.test"
PID = "0192:810418052"
SMP_RECORD = '10 10 "U" "Meta:SMP" "!^.*$!https://smp.example.com!" .'


# --- names ------------------------------------------------------------------------------------------

# peppol-commons PeppolNaptrURLProviderTest (the POLICY 7 example of the Policy for use of Identifiers
# and the SML specification example among them).
NAPTR_VECTORS = [
    ("0088:123abc", "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq"),
    ("0088:123ABC", "y7dzfxaf3d4cjz4kcgrxtec6twvcga4ky7zwa5boif6mswd4tdrq"),
    ("0088:1234567890123", "sjsyvccmqyjxk3weuapffq4x3umcrf4qryherj4vovhmonh7gccq"),
    ("9915:test", "eh5boavaktmbgzyh2a63dz4qov33fvp5nsdvqklucfraayoodw6a"),
    ("0010:5798000000001", "xukhfqabqziki3ykvr2fhr4snfa3pf5vpq6k4tonv3lmvsy5arvq"),
]


@pytest.mark.parametrize(("pid", "label"), NAPTR_VECTORS)
def test_naptr_name_matches_published_vectors(pid: str, label: str) -> None:
    assert naptr_name(participant(pid), TEST_ZONE) == f"{label}.iso6523-actorid-upis.{TEST_ZONE}"


# peppol-commons PeppolURLProviderTest and vefa-peppol BusdoxLocatorTest.
CNAME_VECTORS = [
    ("0088:123abc", PRODUCTION_ZONE, "B-f5e78500450d37de5aabe6648ac3bb70"),
    ("0088:123ABC", PRODUCTION_ZONE, "B-f5e78500450d37de5aabe6648ac3bb70"),
    ("9915:test", TEST_ZONE, "B-85008b8279e07ab0392da75fa55856a2"),
    ("0192:991825827", "edelivery.tech.ec.europa.eu", "B-9823154777831486f5f30f7f41385a2a"),
    ("9908:991825827", "edelivery.tech.ec.europa.eu", "B-770c6f5843e9e302de47ae4026307076"),
]


@pytest.mark.parametrize(("pid", "zone", "label"), CNAME_VECTORS)
def test_cname_name_matches_published_vectors(pid: str, zone: str, label: str) -> None:
    assert cname_name(participant(pid), zone) == f"{label}.iso6523-actorid-upis.{zone}"


def test_names_ignore_case_and_the_trailing_dot_of_the_zone() -> None:
    upper = participant("ISO6523-ACTORID-UPIS::0088:123ABC")
    assert naptr_name(upper, TEST_ZONE.upper() + ".") == naptr_name(participant("0088:123abc"), TEST_ZONE)


def test_zones_by_mode_and_override() -> None:
    assert zone_for("test") == "participant.sml.test.tech.peppol.org"
    assert zone_for("production") == "participant.sml.prod.tech.peppol.org"
    assert zone_for("production", "Acc.Edelivery.Tech.Ec.Europa.Eu.") == "acc.edelivery.tech.ec.europa.eu"
    with pytest.raises(ValueError, match=r"peppol\.mode"):
        zone_for("staging")
    assert SmlClient.for_mode("test").zone == TEST_ZONE
    assert SmlClient.for_mode("test", sml_zone=ZONE).zone == ZONE


def test_naptr_is_the_default_form() -> None:
    assert DEFAULT_STRATEGY is Strategy.NAPTR
    assert Strategy.NAPTR_THEN_CNAME.forms == (Form.NAPTR, Form.CNAME)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("dns.example:53", ("dns.example", 53)),
        ("[::1]:5300", ("::1", 5300)),
        ("::1", ("::1", 53)),
    ],
)
def test_dns_server_setting(text: str, expected: tuple[str, int]) -> None:
    assert parse_dns_server(text) == expected


@pytest.mark.parametrize("text", ["", "127.0.0.1:0", "127.0.0.1:x", "[::1", ":53"])
def test_bad_dns_server_setting(text: str) -> None:
    with pytest.raises(ValueError):
        parse_dns_server(text)


def test_naptr_regexp() -> None:
    assert apply_regexp("!^.*$!https://smp.example.com!", "x.zone") == "https://smp.example.com"
    assert (
        apply_regexp(r"!^([a-z0-9]+)\..*$!https://\1.smp.example!", "abc.zone") == "https://abc.smp.example"
    )
    assert apply_regexp("#^.*$#https://a!b#", "x") == "https://a!b"
    assert apply_regexp("!^nomatch$!https://x!", "x.zone") is None
    with pytest.raises(ValueError):
        apply_regexp("!^.*$!https://x", "x")


# --- lookups against a DNS server -------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[DnsServer]:
    dns = DnsServer()
    await dns.start()
    yield dns
    await dns.close()


def client(server: DnsServer, **kwargs: object) -> SmlClient:
    return SmlClient(ZONE, dns_server=server.address, timeout=1.0, **kwargs)  # type: ignore[arg-type]


def naptr(pid: str) -> str:
    return naptr_name(participant(pid), ZONE)


async def test_naptr_lookup_yields_the_smp_url(server: DnsServer) -> None:
    server.add(naptr(PID), "NAPTR", 300, SMP_RECORD)
    result = await client(server).lookup(PID)
    assert isinstance(result, SmpFound)
    assert result.smp_url == "https://smp.example.com"
    assert result.form is Form.NAPTR
    assert result.dns_name == naptr(PID)
    assert result.ttl == 300
    assert "Meta:SMP" in result.record and result.record.startswith(naptr(PID) + ". 300 IN NAPTR")
    assert str(result.participant) == f"iso6523-actorid-upis::{PID}"
    assert server.count(naptr(PID), "NAPTR") == 1


async def test_lowest_order_then_preference_wins(server: DnsServer) -> None:
    name = naptr(PID)
    server.add(name, "NAPTR", 300, '20 1 "U" "Meta:SMP" "!^.*$!https://later.example!" .')
    server.add(name, "NAPTR", 300, '10 50 "U" "Meta:SMP" "!^.*$!https://second.example!" .')
    server.add(name, "NAPTR", 300, '10 5 "U" "Meta:SMP" "!^.*$!https://first.example!" .')
    result = await client(server).lookup(PID)
    assert isinstance(result, SmpFound) and result.smp_url == "https://first.example"


async def test_unusable_smp_record_is_skipped(server: DnsServer) -> None:
    name = naptr(PID)
    server.add(name, "NAPTR", 300, '1 1 "U" "Meta:SMP" "!^.*$!ftp://smp.example!" .')
    server.add(name, "NAPTR", 300, '2 1 "U" "Meta:SMP" "!^.*$!https://smp.example!" .')
    result = await client(server).lookup(PID)
    assert isinstance(result, SmpFound) and result.smp_url == "https://smp.example"


async def test_participant_absent_is_a_result(server: DnsServer) -> None:
    result = await client(server).lookup(PID)
    assert isinstance(result, NotRegistered)
    assert not result.registered
    assert [(m.form, m.dns_name, m.reason) for m in result.misses] == [(Form.NAPTR, naptr(PID), "NXDOMAIN")]
    assert PID in str(result)


async def test_other_naptr_services_only_is_not_registered(server: DnsServer) -> None:
    server.add(naptr(PID), "NAPTR", 300, '10 10 "U" "Meta:SMP2" "!^.*$!https://smp2.example!" .')
    server.add(naptr(PID), "NAPTR", 300, '10 10 "S" "Meta:SMP" "" _smp._tcp.example.')
    result = await client(server).lookup(PID)
    assert isinstance(result, NotRegistered)
    assert "no U-NAPTR record for Meta:SMP" in result.misses[0].reason


async def test_name_without_naptr_records_is_not_registered(server: DnsServer) -> None:
    server.add(naptr(PID), "TXT", 300, '"hello"')
    result = await client(server).lookup(PID)
    assert isinstance(result, NotRegistered) and result.misses[0].reason == "no NAPTR records"


async def test_cname_lookup(server: DnsServer) -> None:
    name = cname_name(participant(PID), ZONE)
    server.add(name, "CNAME", 120, "smp.example.")
    server.add("smp.example", "A", 600, "192.0.2.7")
    result = await client(server, strategy=Strategy.CNAME).lookup(PID)
    assert isinstance(result, SmpFound)
    assert result.form is Form.CNAME
    assert result.smp_url == f"http://{name}"
    assert result.ttl == 120
    assert "CNAME smp.example." in result.record and "192.0.2.7" in result.record
    assert server.count(naptr(PID)) == 0


async def test_naptr_then_cname_falls_back(server: DnsServer) -> None:
    name = cname_name(participant(PID), ZONE)
    server.add(name, "A", 60, "192.0.2.8")
    assert isinstance(await client(server).lookup(PID), NotRegistered)  # the default asks NAPTR only
    assert server.count(name) == 0
    result = await client(server).lookup(PID, Strategy.NAPTR_THEN_CNAME)
    assert isinstance(result, SmpFound) and result.form is Form.CNAME
    assert server.count(naptr(PID), "NAPTR") == 2 and server.count(name, "A") == 1


async def test_naptr_then_cname_both_absent_lists_both(server: DnsServer) -> None:
    result = await client(server, strategy=Strategy.NAPTR_THEN_CNAME).lookup(PID)
    assert isinstance(result, NotRegistered)
    assert [m.form for m in result.misses] == [Form.NAPTR, Form.CNAME]


async def test_timeout_is_a_retryable_error_within_the_timeout(server: DnsServer) -> None:
    server.behaviour = Behaviour.SILENT
    sml = SmlClient(ZONE, dns_server=server.address, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(SmlDnsError, match="timed out") as caught:
        await sml.lookup(PID)
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 1.5
    assert caught.value.retryable and caught.value.dns_name == naptr(PID)
    assert server.count(naptr(PID)) >= 1


async def test_servfail_is_a_retryable_error(server: DnsServer) -> None:
    server.behaviour = Behaviour.SERVFAIL
    started = time.monotonic()
    with pytest.raises(SmlDnsError, match="SERVFAIL") as caught:
        await client(server).lookup(PID)
    assert caught.value.retryable
    assert time.monotonic() - started < 1.0
    server.behaviour = Behaviour.ANSWER  # failures are not cached: the next lookup asks again
    server.add(naptr(PID), "NAPTR", 300, SMP_RECORD)
    assert isinstance(await client(server).lookup(PID), SmpFound)


async def test_no_nameserver_listening_is_a_retryable_error(server: DnsServer) -> None:
    port = server.port
    await server.close()
    with pytest.raises(SmlDnsError):
        await SmlClient(ZONE, dns_server=f"127.0.0.1:{port}", timeout=0.5).lookup(PID)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_answers_are_cached_for_their_ttl(server: DnsServer) -> None:
    server.add(naptr(PID), "NAPTR", 300, SMP_RECORD)
    clock = Clock()
    sml = client(server, clock=clock)
    first = await sml.lookup(PID)
    second = await sml.lookup(PID)
    assert isinstance(first, SmpFound) and isinstance(second, SmpFound)
    assert not first.from_cache and second.from_cache
    assert second.smp_url == first.smp_url
    assert server.count(naptr(PID)) == 1
    clock.now += 299
    await sml.lookup(PID)
    assert server.count(naptr(PID)) == 1
    clock.now += 2
    third = await sml.lookup(PID)
    assert not third.from_cache
    assert server.count(naptr(PID)) == 2


async def test_negative_answers_are_cached_briefly(server: DnsServer) -> None:
    clock = Clock()
    sml = client(server, clock=clock, negative_ttl=60.0)
    assert isinstance(await sml.lookup(PID), NotRegistered)
    cached = await sml.lookup(PID)
    assert isinstance(cached, NotRegistered) and cached.from_cache
    assert server.count(naptr(PID)) == 1
    server.add(naptr(PID), "NAPTR", 300, SMP_RECORD)  # registered meanwhile
    clock.now += 61
    result = await sml.lookup(PID)
    assert isinstance(result, SmpFound)
    assert server.count(naptr(PID)) == 2


async def test_cache_is_bounded(server: DnsServer) -> None:
    sml = client(server, cache_size=2)
    for pid in ("0192:810418052", "0192:991825827", "0192:123456785"):
        await sml.lookup(pid)
    await sml.lookup("0192:810418052")  # evicted as the oldest: asked again
    assert server.count(naptr("0192:810418052")) == 2
    await sml.lookup("0192:123456785")  # still cached
    assert server.count(naptr("0192:123456785")) == 1


async def test_upper_case_input_queries_the_same_name(server: DnsServer) -> None:
    server.add(naptr("0088:123abc"), "NAPTR", 300, SMP_RECORD)
    sml = client(server, negative_ttl=0)
    lower = await sml.lookup("iso6523-actorid-upis::0088:123abc")
    sml.clear_cache()
    upper = await sml.lookup("ISO6523-ACTORID-UPIS::0088:123ABC")
    assert isinstance(lower, SmpFound) and isinstance(upper, SmpFound)
    assert lower.dns_name == upper.dns_name
    assert server.count(naptr("0088:123abc")) == 2
    assert {q.name for q in server.queries} == {naptr("0088:123abc")}


async def test_large_answer_is_fetched_over_tcp(server: DnsServer) -> None:
    name = naptr(PID)
    for n in range(40):
        server.add(name, "NAPTR", 300, f'{n + 10} 1 "U" "Meta:SMP" "!^.*$!https://smp{n:02d}.example.com!" .')
    server.add(name, "NAPTR", 300, '1 1 "U" "Meta:SMP" "!^.*$!https://best.example.com!" .')
    result = await client(server).lookup(PID)
    assert isinstance(result, SmpFound) and result.smp_url == "https://best.example.com"
    assert [q.transport for q in server.queries] == ["udp", "tcp"]
