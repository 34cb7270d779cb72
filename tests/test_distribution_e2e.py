"""The distribution run end to end, every part real: `ehfgate serve` A runs [EHF, e-mail, AutoPost];
B is a Peppol receiver found through a loopback SML (DNS) and a signed SMP; e-mail goes to an SMTP
server on loopback; AutoPost to a print provider on loopback that implements our contract.

- a customer registered in the SMP gets EHF (B's inbox has it);
- not registered -> e-mail (the SMTP server has it, with the PDF);
- not registered and no e-mail -> AutoPost (delivered when the provider dispatches);
- nothing possible -> `undeliverable` with the three reasons;
- with a status poll an hour away, an EHF invoice is still `delivered` once its receipt is in.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accesspoint.pki.devpki import DevPki, create_dev_pki
from tests.discovery.loopback import LoopbackNetwork, loopback_network, sender_and_receiver
from tests.distribution.print_provider_server import PrintProviderServer
from tests.distribution.smtp_server import SmtpServer, running_smtp_server
from tests.processes import Server
from tests.test_pipeline_e2e import api, wait_for

SELLER, BUYER = "0192:123456785", "0192:987654325"
ADDRESS = {"lines": ["Storgata 1"], "postcode": "0155", "city": "Oslo", "country": "NO"}


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return create_dev_pki(("POP000001", "POP000002"))


@pytest.fixture
def network(pki: DevPki) -> Iterator[LoopbackNetwork]:
    with loopback_network(pki) as running:
        yield running


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def printer(network: LoopbackNetwork) -> Iterator[PrintProviderServer]:
    provider = PrintProviderServer()
    asyncio.run_coroutine_threadsafe(provider.start(), network.loop).result(10)
    yield provider
    asyncio.run_coroutine_threadsafe(provider.close(), network.loop).result(10)


@pytest.fixture(scope="module")
def invoice(corpus: Path) -> str:
    path = corpus / "supplement" / "docs" / "004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"
    return path.read_text(encoding="utf-8")


def submit(a: Server, key: str, document: str, customer: dict[str, Any]) -> str:
    body = json.dumps({"document": document, "customer": customer}).encode()
    status, answer = api(a, "POST", "/api/v1/invoices", key, body, **{"Content-Type": "application/json"})
    assert status == 202, answer
    return str(answer["id"])


def set_run(a: Server, key: str, *methods: str) -> None:
    run = json.dumps({"methods": [{"method": method} for method in methods]}).encode()
    json_body = {"Content-Type": "application/json"}
    status, answer = api(a, "PUT", "/api/v1/distribution/run", key, run, **json_body)
    assert status == 200, answer


def invoice_state(a: Server, key: str, invoice_id: str) -> dict[str, Any]:
    status, answer = api(a, "GET", f"/api/v1/invoices/{invoice_id}", key)
    assert status == 200, answer
    return dict(answer)


def test_the_run_takes_the_first_method_each_customer_can_receive(
    tmp_path: Path,
    pki: DevPki,
    network: LoopbackNetwork,
    smtp: SmtpServer,
    printer: PrintProviderServer,
    invoice: str,
) -> None:
    a_env = {
        "EHFGATE_OUTBOUND_RETRY_SCHEDULE": "1,1,2",
        "EHFGATE_SMTP_HOST": smtp.host,
        "EHFGATE_SMTP_PORT": str(smtp.port),
        "EHFGATE_SMTP_SECURITY": "none",
        "EHFGATE_DISTRIBUTION_SENDER": "faktura@ehfgate.test",
        "EHFGATE_DISTRIBUTION_STATUS_POLL_SECONDS": "1",
        "EHFGATE_AUTOPOST_URL": printer.url,
        "EHFGATE_AUTOPOST_API_KEY": printer.api_key,
    }
    with sender_and_receiver(tmp_path, pki, network, seller=SELLER, buyer=BUYER, a_env=a_env) as peers:
        a, key_a, b, key_b = peers.a, peers.key_a, peers.b, peers.key_b
        set_run(a, key_a, "ehf", "email", "autopost")

        unregistered = invoice.replace(">987654325<", ">810418052<")
        by_ehf = submit(a, key_a, invoice, {"kind": "business", "name": "Buyer AS", "email": "ap@buyer.test"})
        by_email = submit(a, key_a, unregistered, {"kind": "business", "name": "Nobody AS",
                                                   "invoice_email": "faktura@nobody.test"})  # fmt: skip
        by_post = submit(
            a, key_a, unregistered, {"kind": "private", "name": "Kari Nordmann", "address": ADDRESS}
        )
        nowhere = submit(a, key_a, unregistered, {"kind": "private", "name": "Ola Uten Adresse"})

        wait_for(lambda: invoice_state(a, key_a, by_ehf)["status"] == "delivered", timeout=90)
        assert invoice_state(a, key_a, by_ehf)["method"] == "ehf"
        assert len(api(b, "GET", "/api/v1/inbox", key_b)[1]["items"]) == 1

        wait_for(lambda: invoice_state(a, key_a, by_email)["status"] == "delivered", timeout=90)
        state = invoice_state(a, key_a, by_email)
        assert state["method"] == "email"
        assert state["attempts"][0]["outcome"] == "not-eligible"  # EHF first: not registered
        mail = [m for m in smtp.messages if "faktura@nobody.test" in m.rcpt_tos]
        assert len(mail) == 1
        message = mail[0].message
        assert any(part.get_content_type() == "application/pdf" for part in message.iter_attachments())

        wait_for(lambda: len(printer.jobs) == 1, timeout=90)
        assert invoice_state(a, key_a, by_post)["status"] == "delivering"
        (job_id,) = printer.jobs
        network.loop.call_soon_threadsafe(printer.move, job_id, "dispatched")
        wait_for(lambda: invoice_state(a, key_a, by_post)["status"] == "delivered", timeout=60)
        assert invoice_state(a, key_a, by_post)["method"] == "autopost"

        wait_for(lambda: invoice_state(a, key_a, nowhere)["status"] == "undeliverable", timeout=60)
        reasons = {x["method"]: x["reason"] for x in invoice_state(a, key_a, nowhere)["attempts"]}
        assert set(reasons) == {"ehf", "email", "autopost"}
        assert all(reasons.values())
        time.sleep(1)
        assert len(smtp.messages) == 1  # nothing else was mailed


def test_an_ehf_invoice_is_delivered_when_its_receipt_is_in_not_at_the_next_poll(
    tmp_path: Path, pki: DevPki, network: LoopbackNetwork, invoice: str
) -> None:
    poll_in_an_hour = {"EHFGATE_DISTRIBUTION_STATUS_POLL_SECONDS": "3600"}  # a poll would come in an hour
    with sender_and_receiver(
        tmp_path, pki, network, seller=SELLER, buyer=BUYER, a_env=poll_in_an_hour
    ) as peers:
        a, key_a, b, key_b = peers.a, peers.key_a, peers.b, peers.key_b
        set_run(a, key_a, "ehf")
        by_ehf = submit(a, key_a, invoice, {"kind": "business", "name": "Buyer AS"})
        wait_for(lambda: invoice_state(a, key_a, by_ehf)["status"] == "delivered", timeout=60)
        assert invoice_state(a, key_a, by_ehf)["method"] == "ehf"
        assert len(api(b, "GET", "/api/v1/inbox", key_b)[1]["items"]) == 1
