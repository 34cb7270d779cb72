"""Discovery and trust cost: lookup latency cold and cached, and the trust check with a warm
revocation cache against one RSA signature verification measured in the same run.

Run: ``python bench/discovery_bench.py [--quick]``. A DNS server (SML, U-NAPTR) and a signed SMP run on
loopback in this process (the test servers); the trust is the dev PKI with an OCSP responder on
loopback. Figures:
- cold lookup: caches cleared before each (DNS query, SMP fetch, XML signature check, chain and
  OCSP check of the endpoint certificate);
- cached lookup: served from the SML and SMP caches; the servers' request counters prove that no
  query left the process;
- trust check (chain + revocation from cache) vs the floor, one RSA-2048 PKCS#1 v1.5 SHA-256
  verification of a 4 KB message. Target: ratio <= 2.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accesspoint.discovery.lookup import Discovery
from accesspoint.discovery.sml import SmlClient, naptr_name
from accesspoint.discovery.smp import SmpClient
from accesspoint.discovery.smp_documents import SmpFormat
from accesspoint.peppol.identifiers import document_type, participant, process
from accesspoint.pki.chain import issuing_cas_under
from accesspoint.pki.checker import CertificateChecker
from accesspoint.pki.devpki import create_dev_pki
from accesspoint.pki.revocation import RevocationChecker
from tests.discovery.dnsserver import DnsServer
from tests.discovery.smpserver import (
    EndpointSpec,
    ProcessSpec,
    classic_metadata,
    metadata_path,
    sign,
    start_smp_server,
)
from tests.pki.responders import Responders, serve

ZONE = "sml.bench.test"
INVOICE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _ms(samples: list[float]) -> str:
    p95 = sorted(samples)[int(len(samples) * 0.95)]
    return f"p50 {statistics.median(samples) * 1000:8.3f} ms   p95 {p95 * 1000:8.3f} ms"


async def main(rounds: int) -> int:
    pki = create_dev_pki(("POP000001", "POP000002"))
    dns = DnsServer()
    await dns.start()
    smp, runner = await start_smp_server()
    async with serve(Responders(ca=pki.ap_ca, signer=pki.ap_ca)) as responders:
        endpoint_cert = pki.issue("POP000002", ocsp_url=responders.ocsp_url).certificate
        issuers = issuing_cas_under(pki.anchors, [pki.ap_ca.certificate, pki.smp_issuer.certificate], "dev")
        checker = CertificateChecker(issuers, revocation="hard", revocation_checker=RevocationChecker())
        names = []
        for i in range(rounds):
            who = participant(f"0192:{100000000 + i}")
            body = classic_metadata(
                SmpFormat.PEPPOL, who, document_type(INVOICE),
                [ProcessSpec(process(BILLING), [EndpointSpec("https://ap.example/as4", endpoint_cert)])],
            )  # fmt: skip
            smp.serve(
                metadata_path("", who, document_type(INVOICE), SmpFormat.PEPPOL), sign(body, pki.issue_smp())
            )
            dns.add(naptr_name(who, ZONE), "NAPTR", 3600, f'100 10 "U" "Meta:SMP" "!^.*$!{smp.url()}!" .')
            names.append(str(who))
        sml = SmlClient(ZONE, dns_server=dns.address)
        discovery = Discovery(sml, SmpClient(checker.smp_trust()), checker)

        cold: list[float] = []
        for who in names:  # each participant once: nothing cached for it
            started = time.perf_counter()
            found = await discovery.lookup(who, INVOICE, BILLING)
            cold.append(time.perf_counter() - started)
            assert found.found, found.detail
        queries, fetches, ocsp = len(dns.queries), sum(smp.hits.values()), responders.ocsp_requests
        cached: list[float] = []
        for _ in range(3):
            for who in names:
                started = time.perf_counter()
                found = await discovery.lookup(who, INVOICE, BILLING)
                cached.append(time.perf_counter() - started)
                assert found.found
        network = (
            len(dns.queries) - queries,
            sum(smp.hits.values()) - fetches,
            responders.ocsp_requests - ocsp,
        )

        trust: list[float] = []
        for _ in range(rounds * 10):
            started = time.perf_counter()
            await checker.check(endpoint_cert, "ap", None)
            trust.append(time.perf_counter() - started)
        credentials = pki.ap("POP000001")
        message = b"x" * 4096
        signature = credentials.private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        public = credentials.certificate.public_key()
        floor: list[float] = []
        for _ in range(rounds * 10):
            started = time.perf_counter()
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
            floor.append(time.perf_counter() - started)
        await discovery.aclose()
        await checker.aclose()
    await runner.cleanup()
    await dns.close()

    print(f"lookup, cold   ({len(cold):4d}): {_ms(cold)}")
    print(f"lookup, cached ({len(cached):4d}): {_ms(cached)}   requests sent while cached: "
          f"DNS {network[0]}, SMP {network[1]}, OCSP {network[2]}")  # fmt: skip
    print(f"trust check, warm revocation cache ({len(trust)}): {_ms(trust)}")
    print(f"floor: one RSA-2048 signature verification ({len(floor)}): {_ms(floor)}")
    ratio = statistics.median(trust) / statistics.median(floor)
    print(f"ratio trust check / RSA verify (p50): {ratio:.2f}  (target <= 2)")
    print(f"ratio cold / cached lookup (p50): {statistics.median(cold) / statistics.median(cached):.1f}")
    return 0 if network == (0, 0, 0) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(20 if args.quick else 100)))
