"""AS4 end to end on loopback: `ehfgate send` to an `ehfgate serve` process, with a dev PKI of two APs.

Covers: verified receipt, storage before acknowledgement, a retry with the same MessageId answered
with the original receipt (one copy kept), NOT_SERVICED for an unknown final recipient, a message
encrypted to the wrong key, and a receiver killed after its commit but before answering.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from accesspoint import sbdh
from accesspoint.as4 import OutboundMessage, Receipt, build_user_message, read_response
from accesspoint.config import load_config
from accesspoint.identity import APIdentity, load_identity
from accesspoint.pipeline.delivery import submission_for
from accesspoint.pki.credentials import load_certificates
from tests.processes import Server, ap_env, dev_pki, ehfgate

RECEIVER_PARTY = "0192:987654325"


@pytest.fixture(scope="module")
def invoice(corpus: Path) -> Path:
    return corpus / "supplement" / "docs" / "004b20d0-docs_billing-3.0_norway_files_ehf-3-faktura-1.xml"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    dev_pki(directory, "POP000001", "POP000002")
    return directory


@pytest.fixture
def receiver(pki: Path, tmp_path: Path) -> Iterator[Server]:
    env = ap_env(pki, "POP000002", tmp_path / "b")
    assert ehfgate("tenant", "create", "acme", env=env).returncode == 0
    added = ehfgate("participant", "add", "--tenant", "acme", RECEIVER_PARTY, env=env)
    assert added.returncode == 0, added.stderr
    server = Server(env).start()
    yield server
    server.stop()


def send(
    pki: Path, tmp_path: Path, document: Path, server: Server, *extra: str, to_cert: str = "POP000002"
) -> tuple[int, dict]:
    env = ap_env(pki, "POP000001", tmp_path / "a")
    done = ehfgate(
        "send", str(document), "--to-url", server.url + "/as4", "--to-cert", str(pki / f"{to_cert}.cert.pem"),
        "--format", "json", *extra, env=env,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def inbound_rows(server: Server) -> list[sa.Row]:
    engine = sa.create_engine(server.env["EHFGATE_STORE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT message_id, sender, receiver, status FROM inbound_documents")
        ).all()
    engine.dispose()
    return list(rows)


def test_send_gets_a_verified_receipt(pki: Path, tmp_path: Path, invoice: Path, receiver: Server) -> None:
    code, first = send(pki, tmp_path, invoice, receiver)
    assert code == 0, first
    assert first["outcome"] == "delivered"
    assert first["receipt"]["ref_to_message_id"] == first["message_id"]
    assert "POP000002" in first["receipt"]["signer"]
    rows = inbound_rows(receiver)
    assert [(r.message_id, r.receiver) for r in rows] == [
        (first["message_id"], "iso6523-actorid-upis::" + RECEIVER_PARTY)
    ]


def build_once(pki: Path, tmp_path: Path, invoice: Path) -> tuple[APIdentity, OutboundMessage]:
    """One AS4 message from AP POP000001 to POP000002, built once so that a retry resends the same bytes."""
    config = load_config(environ=ap_env(pki, "POP000001", tmp_path / "a"))
    identity = load_identity(config)
    receiver_cert = load_certificates((pki / "POP000002.cert.pem").read_bytes())[0]
    envelope = sbdh.envelope_for_ubl(invoice.read_bytes())
    submission = submission_for(identity, envelope, receiver_cert, None)
    return identity, build_user_message(
        submission, envelope, signer=identity.credentials, receiver_certificate=receiver_cert
    )


def post(server: Server, sent: OutboundMessage) -> tuple[str, bytes]:
    url, headers = server.url + "/as4", dict(sent.headers)
    request = urllib.request.Request(url, data=sent.body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return response.headers["Content-Type"], response.read()


def test_a_resent_message_gets_the_original_receipt_and_is_kept_once(
    pki: Path, tmp_path: Path, invoice: Path, receiver: Server
) -> None:
    identity, sent = build_once(pki, tmp_path, invoice)
    first = read_response(*post(receiver, sent), sent, trust=identity.trust)
    again = read_response(*post(receiver, sent), sent, trust=identity.trust)
    assert isinstance(first, Receipt) and isinstance(again, Receipt)
    assert again.message_id == first.message_id and again.envelope == first.envelope
    assert len(inbound_rows(receiver)) == 1


def test_unknown_final_recipient_is_not_serviced(
    pki: Path, tmp_path: Path, invoice: Path, receiver: Server
) -> None:
    other = tmp_path / "other.xml"
    other.write_bytes(invoice.read_bytes().replace(b">987654325<", b">810418052<"))
    code, result = send(pki, tmp_path, other, receiver)
    assert code == 1
    assert result["outcome"] == "permanent"
    assert any(e["code"] == "EBMS:0004" and e["detail"] == "PEPPOL:NOT_SERVICED" for e in result["errors"])
    assert inbound_rows(receiver) == []


def test_message_encrypted_for_another_ap_is_refused(
    pki: Path, tmp_path: Path, invoice: Path, receiver: Server
) -> None:
    code, result = send(pki, tmp_path, invoice, receiver, to_cert="POP000001")
    assert code == 1
    assert result["outcome"] == "permanent"
    assert {e["code"] for e in result["errors"]} & {"EBMS:0102", "EBMS:0010", "EBMS:0101"}
    assert inbound_rows(receiver) == []


def test_receiver_killed_after_commit_answers_the_retry_with_the_original_receipt(
    pki: Path, tmp_path: Path, invoice: Path, receiver: Server
) -> None:
    receiver.stop()
    receiver.start({"EHFGATE_FAILPOINTS": "inbound.after_commit"})
    identity, sent = build_once(pki, tmp_path, invoice)
    with pytest.raises(OSError):  # the process dies before it answers
        post(receiver, sent)
    receiver.process.wait(10)  # type: ignore[union-attr]
    assert receiver.process.returncode == 137  # type: ignore[union-attr]
    assert len(inbound_rows(receiver)) == 1  # stored before the (lost) answer
    receiver.start()
    answer = read_response(*post(receiver, sent), sent, trust=identity.trust)
    assert isinstance(answer, Receipt) and answer.ref_to_message_id == sent.message_id
    assert len(inbound_rows(receiver)) == 1


def test_two_servers_exchange_both_ways(pki: Path, tmp_path: Path, invoice: Path, receiver: Server) -> None:
    """A second `ehfgate serve` (POP000001) receives from POP000002 just as POP000002 receives from it."""
    env_a = ap_env(pki, "POP000001", tmp_path / "a")
    assert ehfgate("tenant", "create", "seller", env=env_a).returncode == 0
    assert ehfgate("participant", "add", "--tenant", "seller", "0192:123456785", env=env_a).returncode == 0
    sender_a = Server(env_a).start()
    try:
        reverse = tmp_path / "reverse.xml"
        swapped = (
            invoice.read_bytes().replace(b">123456785<", b">SWAP<").replace(b">987654325<", b">123456785<")
        )
        reverse.write_bytes(swapped.replace(b">SWAP<", b">987654325<"))
        env_b = ap_env(pki, "POP000002", tmp_path / "b-cli")
        to_cert = str(pki / "POP000001.cert.pem")
        done = ehfgate(
            "send", str(reverse), "--to-url", sender_a.url + "/as4", "--to-cert", to_cert, env=env_b
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("delivered: verified receipt")
        assert len(inbound_rows(sender_a)) == 1
        code, forward = send(pki, tmp_path, invoice, receiver)
        assert code == 0, forward
        assert len(inbound_rows(receiver)) == 1
    finally:
        sender_a.stop()


def test_serve_on_a_fresh_machine_makes_its_dev_pki(tmp_path: Path) -> None:
    data = tmp_path / "var"
    server = Server({"EHFGATE_SERVER_DATA_DIR": str(data)}).start()
    try:
        assert server.get_json("/healthz") == {"status": "ok"}
        key = data / "dev-pki" / "POP000001.key.pem"
        assert key.exists() and key.stat().st_mode & 0o077 == 0
        assert (data / "ehfgate.db").exists()
    finally:
        server.stop()
