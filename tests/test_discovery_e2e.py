"""Discovery end to end: `ehfgate lookup` and an `ehfgate serve` sender that finds its receiver through
a real DNS server (SML, U-NAPTR) and a real signed SMP on loopback, with no static route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from accesspoint.pki.devpki import DevPki, create_dev_pki
from tests.discovery.loopback import (
    LoopbackNetwork,
    loopback_network,
    process_env,
    sender_and_receiver,
    write_pki,
)
from tests.processes import ehfgate
from tests.test_pipeline_e2e import api, post, status_of, wait_for

SELLER, BUYER, NOBODY = "0192:123456785", "0192:987654325", "0192:810418052"


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return create_dev_pki(("POP000001", "POP000002"))


@pytest.fixture
def network(pki: DevPki) -> Iterator[LoopbackNetwork]:
    with loopback_network(pki) as running:
        yield running


@pytest.fixture(scope="module")
def invoice(corpus: Path) -> bytes:
    return (
        corpus / "supplement" / "docs" / "004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"
    ).read_bytes()


def test_lookup_command_prints_each_step(tmp_path: Path, pki: DevPki, network: LoopbackNetwork) -> None:
    files = write_pki(pki, tmp_path / "pki")
    network.publish(BUYER, "https://ap.buyer.example/as4", pki.ap("POP000002").certificate)
    env = process_env(files, "POP000001", tmp_path / "a", network)
    done = ehfgate("lookup", BUYER, "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["outcome"] == "found"
    assert report["endpoint"]["url"] == "https://ap.buyer.example/as4"
    assert report["endpoint"]["certificate_subject"].startswith("CN=POP000002")
    assert report["sml"]["registered"] and report["sml"]["form"] == "naptr"
    assert report["signature"]["trusted"]
    assert report["certificate"]["revocation"]["status"] in ("unknown", "good")

    text = ehfgate("lookup", BUYER, env=env)
    assert text.returncode == 0
    for expected in ("SML (naptr)", "SMP URL", "SMP signature  valid and trusted", "endpoint", "issuer"):
        assert expected in text.stdout

    absent = ehfgate("lookup", NOBODY, env=env)
    assert absent.returncode == 1 and "not-registered" in absent.stdout
    bad = ehfgate("lookup", "not an id", env=env)
    assert bad.returncode == 2 and "ehfgate lookup:" in bad.stderr


def test_sender_finds_the_receiver_through_sml_and_smp(
    tmp_path: Path, pki: DevPki, network: LoopbackNetwork, invoice: bytes
) -> None:
    retry_soon = {"EHFGATE_OUTBOUND_RETRY_SCHEDULE": "1,1,2"}
    with sender_and_receiver(tmp_path, pki, network, seller=SELLER, buyer=BUYER, a_env=retry_soon) as peers:
        a, key_a, b, key_b = peers.a, peers.key_a, peers.b, peers.key_b
        delivered = post(a, key_a, invoice)
        wait_for(lambda: status_of(a, key_a, delivered) == "delivered")
        assert len(api(b, "GET", "/api/v1/inbox", key_b)[1]["items"]) == 1
        attempt = next(
            e
            for e in api(a, "GET", f"/api/v1/documents/{delivered}/events", key_a)[1]["events"]
            if e["kind"] == "attempt"
        )
        assert attempt["detail"]["url"] == b.url + "/as4"

        nobody = post(a, key_a, invoice.replace(b">987654325<", b">810418052<"))
        wait_for(lambda: status_of(a, key_a, nobody) == "failed")
        details = api(a, "GET", f"/api/v1/documents/{nobody}", key_a)[1]
        assert "not-registered" in details["last_error"]
