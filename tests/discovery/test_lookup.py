"""Discovery as the pipeline uses it: a real DNS server (SML) and a real signed SMP on loopback, the
dev PKI's SMP and AP CAs as the trust, and the outbound router's three answers."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from accesspoint.discovery.lookup import Discovery, DiscoveryUnavailable
from accesspoint.discovery.sml import SmlClient, naptr_name
from accesspoint.discovery.smp import SmpClient
from accesspoint.discovery.smp_documents import SmpFormat
from accesspoint.peppol.identifiers import document_type, participant, process
from accesspoint.pipeline.routing import NoRoute, Router, RouteUnavailable, StaticRouting
from accesspoint.pki.chain import issuing_cas_under
from accesspoint.pki.checker import CertificateChecker
from accesspoint.pki.devpki import DevPki, create_dev_pki
from accesspoint.pki.revocation import RevocationChecker
from tests.discovery.dnsserver import Behaviour, DnsServer
from tests.discovery.smpserver import (
    EndpointSpec,
    ProcessSpec,
    SmpServer,
    classic_group,
    classic_metadata,
    group_path,
    metadata_path,
    sign,
    start_smp_server,
)

ZONE = "sml.ehfgate.test"
BUYER = "0192:987654325"
INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
CREDIT_NOTE = INVOICE.replace("Invoice-2::Invoice", "CreditNote-2::CreditNote")
BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
AP_URL = "https://ap.buyer.example/as4"


@dataclasses.dataclass
class World:
    pki: DevPki
    dns: DnsServer
    smp: SmpServer
    discovery: Discovery


def checker_for(pki: DevPki) -> CertificateChecker:
    smp_ca = pki.smp_issuer.certificate
    issuers = issuing_cas_under(pki.anchors, [pki.ap_ca.certificate, smp_ca], "dev")
    return CertificateChecker(issuers, revocation="soft", revocation_checker=RevocationChecker())


def publish(world: World, who: str, endpoint_cert: object | None = None) -> None:
    """Register ``who`` in the SML (NAPTR) and publish a signed Peppol SMP answer for invoices."""
    ident = participant(who)
    world.dns.add(
        naptr_name(ident, ZONE), "NAPTR", 300, f'100 10 "U" "Meta:SMP" "!^.*$!{world.smp.url()}!" .'
    )
    certificate = endpoint_cert or world.pki.ap("POP000002").certificate
    body = classic_metadata(
        SmpFormat.PEPPOL,
        ident,
        document_type(INVOICE),
        [ProcessSpec(process(BILLING), [EndpointSpec(AP_URL, certificate)])],  # type: ignore[arg-type]
    )
    path = metadata_path("", ident, document_type(INVOICE), SmpFormat.PEPPOL)
    world.smp.serve(path, sign(body, world.pki.issue_smp()))
    group = classic_group(SmpFormat.PEPPOL, ident, [world.smp.url(path)])
    world.smp.serve(group_path("", ident, SmpFormat.PEPPOL), group)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    pki = create_dev_pki(("POP000001", "POP000002"))
    dns = DnsServer()
    await dns.start()
    smp, runner = await start_smp_server()
    checker = checker_for(pki)
    discovery = Discovery(
        SmlClient(ZONE, dns_server=dns.address, timeout=0.5), SmpClient(checker.smp_trust()), checker
    )
    yield World(pki, dns, smp, discovery)
    await discovery.aclose()
    await checker.aclose()
    await runner.cleanup()
    await dns.close()


async def test_found_through_sml_and_smp_with_every_step_kept(world: World) -> None:
    publish(world, BUYER)
    found = await world.discovery.lookup(BUYER, INVOICE, BILLING)
    assert found.found and found.endpoint is not None
    assert found.endpoint.url == AP_URL
    assert found.certificate is not None and "POP000002" in found.certificate.subject
    report = found.as_json()
    assert report["sml"]["dns_name"] == naptr_name(participant(BUYER), ZONE)
    assert report["signature"]["signed"] and report["signature"]["trusted"]
    assert report["endpoint"]["certificate_subject"].startswith("CN=POP000002")
    again = await world.discovery.lookup(BUYER.upper(), INVOICE, BILLING)  # cached: no new queries
    assert again.found and world.dns.count(naptr_name(participant(BUYER), ZONE)) == 1


async def test_router_answers_no_route_unavailable_or_an_endpoint(world: World) -> None:
    router = Router(StaticRouting(()), world.discovery, world.discovery.checker)
    with pytest.raises(NoRoute, match="not-registered"):
        await router.resolve("0192:810418052", INVOICE, BILLING)
    publish(world, BUYER)
    with pytest.raises(NoRoute, match="document-type-not-registered"):
        await router.resolve(
            BUYER, INVOICE.replace("Invoice-2::Invoice", "CreditNote-2::CreditNote"), BILLING
        )
    endpoint = await router.resolve(BUYER, INVOICE, BILLING)
    assert endpoint.url == AP_URL and endpoint.source == "smp"
    world.dns.behaviour = Behaviour.SILENT
    with pytest.raises(RouteUnavailable):
        await router.resolve("0192:123456785", INVOICE, BILLING)


async def test_an_endpoint_certificate_we_do_not_trust_is_no_route(world: World) -> None:
    foreign = create_dev_pki(("POP000009",))
    publish(world, BUYER, endpoint_cert=foreign.ap("POP000009").certificate)
    found = await world.discovery.lookup(BUYER, INVOICE, BILLING)
    assert found.outcome == "certificate-refused" and found.endpoint is None
    router = Router(StaticRouting(()), world.discovery, world.discovery.checker)
    with pytest.raises(NoRoute, match="certificate-refused"):
        await router.resolve(BUYER, INVOICE, BILLING)


async def test_dns_outage_is_unavailable(world: World) -> None:
    world.dns.behaviour = Behaviour.SERVFAIL
    with pytest.raises(DiscoveryUnavailable):
        await world.discovery.lookup(BUYER, INVOICE, BILLING)


async def test_smp_outage_is_unavailable(world: World) -> None:
    publish(world, BUYER)
    path = metadata_path("", participant(BUYER), document_type(INVOICE), SmpFormat.PEPPOL)
    world.smp.status(path, 503)
    with pytest.raises(DiscoveryUnavailable):
        await world.discovery.lookup(BUYER, INVOICE, BILLING)
