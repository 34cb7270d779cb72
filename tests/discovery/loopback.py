"""SML (DNS) and SMP servers on loopback in a background thread, for tests that run `ehfgate` processes.

The servers are the same as the in-process tests use; the thread owns their event loop, and
``publish`` registers a participant from the test's own thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from accesspoint.discovery.sml import naptr_name
from accesspoint.discovery.smp_documents import SmpFormat
from accesspoint.peppol.identifiers import document_type, participant, process
from accesspoint.pki.devpki import DevPki
from tests.discovery.dnsserver import DnsServer
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
from tests.processes import Server, tenant_with_key

ZONE = "sml.ehfgate.test"
INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


class LoopbackNetwork:
    def __init__(self, pki: DevPki) -> None:
        self.pki = pki
        self.loop = asyncio.new_event_loop()
        self.dns = DnsServer()
        self.smp: SmpServer | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.dns.start(), self.loop).result(10)
        self.smp, self._runner = asyncio.run_coroutine_threadsafe(start_smp_server(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        asyncio.run_coroutine_threadsafe(self.dns.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def publish(self, who: str, url: str, certificate: x509.Certificate) -> None:
        """``who`` receives Peppol BIS Billing invoices at ``url`` (signed SMP answer, NAPTR record)."""
        assert self.smp is not None
        smp = self.smp
        ident, doc = participant(who), document_type(INVOICE)
        body = classic_metadata(
            SmpFormat.PEPPOL, ident, doc, [ProcessSpec(process(BILLING), [EndpointSpec(url, certificate)])]
        )
        path = metadata_path("", ident, doc, SmpFormat.PEPPOL)
        signed = sign(body, self.pki.issue_smp())

        def register() -> None:
            smp.serve(path, signed)
            smp.serve(
                group_path("", ident, SmpFormat.PEPPOL),
                classic_group(SmpFormat.PEPPOL, ident, [smp.url(path)]),
            )
            self.dns.add(
                naptr_name(ident, ZONE), "NAPTR", 60, f'100 10 "U" "Meta:SMP" "!^.*$!{smp.url()}!" .'
            )

        self.loop.call_soon_threadsafe(register)


def write_pki(pki: DevPki, directory: Path) -> dict[str, Path]:
    """The PEM files a process needs: each AP's key and certificate, the AP and SMP CAs, the root."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "root": directory / "root-ca.pem",
        "ap-ca": directory / "ap-ca.pem",
        "smp-ca": directory / "smp-ca.pem",
    }
    pem = serialization.Encoding.PEM
    files["root"].write_bytes(pki.root.certificate.public_bytes(pem))
    files["ap-ca"].write_bytes(pki.ap_ca.certificate.public_bytes(pem))
    files["smp-ca"].write_bytes(pki.smp_issuer.certificate.public_bytes(pem))
    for seat, credentials in pki.access_points.items():
        key = credentials.private_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (directory / f"{seat}.key.pem").write_bytes(key)
        (directory / f"{seat}.cert.pem").write_bytes(credentials.certificate.public_bytes(pem))
    return files


def process_env(
    files: dict[str, Path], seat: str, data_dir: Path, network: LoopbackNetwork
) -> dict[str, str]:
    directory = files["root"].parent
    return {
        "EHFGATE_AP_KEY": str(directory / f"{seat}.key.pem"),
        "EHFGATE_AP_CERT": str(directory / f"{seat}.cert.pem"),
        "EHFGATE_AP_CHAIN": str(files["ap-ca"]),
        "EHFGATE_TRUST_ANCHORS": f"{files['root']},{files['ap-ca']},{files['smp-ca']}",
        "EHFGATE_SERVER_DATA_DIR": str(data_dir),
        "EHFGATE_STORE_URL": f"sqlite:///{data_dir / 'ehfgate.db'}",
        "EHFGATE_PEPPOL_SML_ZONE": ZONE,
        "EHFGATE_PEPPOL_DNS_SERVER": network.dns.address,
    }


@contextmanager
def loopback_network(pki: DevPki) -> Iterator[LoopbackNetwork]:
    network = LoopbackNetwork(pki)
    network.start()
    try:
        yield network
    finally:
        network.stop()


@dataclass(frozen=True)
class Peers:
    """A sender A and a receiver B, each an `ehfgate serve` process, with their tenants' API keys."""

    a: Server
    key_a: str
    b: Server
    key_b: str


@contextmanager
def sender_and_receiver(
    directory: Path,
    pki: DevPki,
    network: LoopbackNetwork,
    *,
    seller: str,
    buyer: str,
    a_env: Mapping[str, str] | None = None,
) -> Iterator[Peers]:
    """B serves ``buyer`` and is published in the SML and SMP; A (with ``a_env`` on top) serves ``seller``.

    A finds B only through discovery, as a sender on the Peppol network would. Both stop on leaving."""
    files = write_pki(pki, directory / "pki")
    env_b = process_env(files, "POP000002", directory / "b", network)
    key_b = tenant_with_key(env_b, "buyer", buyer)
    b = Server(env_b).start(ready=True)
    try:
        env_a = {**process_env(files, "POP000001", directory / "a", network), **(a_env or {})}
        key_a = tenant_with_key(env_a, "seller", seller)
        a = Server(env_a).start(ready=True)
        try:
            network.publish(buyer, b.url + "/as4", pki.ap("POP000002").certificate)
            yield Peers(a, key_a, b, key_b)
        finally:
            a.stop()
    finally:
        b.stop()
