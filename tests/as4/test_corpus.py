"""Real AS4 messages from phase4, Governikus, Dataport and phase4's own test files."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509

from accesspoint.as4 import AnchorTrust, EbmsError, ErrorSignal, Receipt, read_signal, read_user_message
from accesspoint.as4 import constants as c
from accesspoint.as4.envelope import parse_envelope, parse_user_message
from accesspoint.as4.profile import PEPPOL
from accesspoint.as4.reader import check_profile, split_message
from accesspoint.as4.wssec import read_security, verify_signature
from accesspoint.as4.xmldsig import canonicalize, index_ids, parse_signature, sha256
from accesspoint.pki import Credentials
from accesspoint.pki.credentials import load_certificates
from tests.as4.helpers import as4_corpus, split_http

# The receipts were captured on 2022-03-07; their G2 test certificates expired in 2022/2023.
CAPTURED = dt.datetime(2022, 3, 7, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def corpus() -> Path:
    path = as4_corpus()
    if not path.is_dir():
        pytest.skip(f"AS4 corpus not found at {path}")
    return path


def _cert(corpus: Path, name: str) -> x509.Certificate:
    return load_certificates((corpus / "pki" / name).read_bytes())[0]


@pytest.fixture(scope="module")
def g2_test_trust(corpus: Path) -> AnchorTrust:
    root = _cert(corpus, "2018_Peppol_Test_Root_CA.cer")
    ap_ca = _cert(corpus, "2018_Peppol_Test_AccessPoint_CA.cer")
    return AnchorTrust((root,), (ap_ca,), check_party=False)


def _accept_any(
    certificate: x509.Certificate, chain: Sequence[x509.Certificate], party_id: str | None
) -> None:
    """A test-only trust that only lets the signature mathematics decide."""


RECEIPTS = {
    "external_verify_helger.as4in": (
        "3b3775c9-e88d-47f9-be5a-8e045ca2bc07@phase4",
        "#phase4-msg-9cb62f4d-7132-4b52-93cf-79aa82d8c12f",
        "QqSdtJKU3B3E1EoRPoVrCfgkGhfUaGNDmKdyA4WdJ+A=",
        "2023-05-14",
    ),
    "external_verify_governikus.as4in": (
        "6b52b4c0-de6a-46b8-8286-27bac7d1a463@phase4",
        "#phase4-msg-d3361660-1069-4e19-bb10-1e99f888febc",
        "vxvx4n/wAhjNakFRSzp110Fws/NDH6+cvw5ztX8PHfI=",
        "2022-12-28",
    ),
    "external_verify_dataport1-mustunderstand.as4in": (
        "669beff6-bf89-4776-9a27-eddece68083d@phase4",
        "#phase4-msg-e87d1f6e-705d-49bf-a6de-524d66c9e394",
        "wjREvlHuhpOwKFpGkvrcZDRWmeqhIpHtS6IzPcH84OI=",
        "2022-10-03",
    ),
}


@pytest.mark.parametrize("name", sorted(RECEIPTS))
def test_real_receipts_verify_at_capture_time(name: str, corpus: Path, g2_test_trust: AnchorTrust) -> None:
    ref_to, messaging_uri, attachment_digest, _ = RECEIPTS[name]
    content_type, body = split_http((corpus / name).read_bytes())
    trust = AnchorTrust(g2_test_trust.anchors, g2_test_trust.intermediates, at=CAPTURED, check_party=False)
    receipt = read_signal(content_type, body, trust=trust)
    assert isinstance(receipt, Receipt)
    assert receipt.ref_to_message_id == ref_to
    uris = [r.uri for r in receipt.references]
    assert len(uris) == 3 and uris[0] == messaging_uri and uris[2].startswith("cid:phase4-att-")
    assert all(r.digest_method == c.SHA256 for r in receipt.references)
    assert receipt.references[2].transforms[0].algorithm == c.ATTACHMENT_CONTENT_SIGNATURE
    assert base64.b64encode(receipt.references[2].digest_value).decode() == attachment_digest
    assert receipt.signer is not None
    cn = receipt.signer.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert isinstance(cn, str) and cn.startswith("P")


@pytest.mark.parametrize("name", sorted(RECEIPTS))
def test_real_receipts_fail_only_on_expiry_today(name: str, corpus: Path, g2_test_trust: AnchorTrust) -> None:
    content_type, body = split_http((corpus / name).read_bytes())
    with pytest.raises(EbmsError) as info:
        read_signal(content_type, body, trust=g2_test_trust)
    assert (info.value.code, info.value.reason) == ("EBMS:0101", "certificate-expired")
    assert RECEIPTS[name][3] in info.value.description


def test_real_receipt_untrusted_root(corpus: Path) -> None:
    """The G3 root did not issue these G2 certificates."""
    trust = AnchorTrust((_cert(corpus, "2025_PEPPOL_Root_TEST_CA-G3.pem"),), at=CAPTURED, check_party=False)
    content_type, body = split_http((corpus / "external_verify_helger.as4in").read_bytes())
    with pytest.raises(EbmsError) as info:
        read_signal(content_type, body, trust=trust)
    assert info.value.reason == "certificate-untrusted"


def test_dataport_receipt_with_changed_prefix_fails_digest(corpus: Path) -> None:
    """This copy renamed the prefix of Messaging's mustUnderstand attribute after signing; exclusive
    C14N keeps prefixes, so the digest no longer matches."""
    content_type, body = split_http((corpus / "external_verify_dataport1.as4in").read_bytes())
    with pytest.raises(EbmsError) as info:
        read_signal(content_type, body, trust=_accept_any)
    assert (info.value.code, info.value.reason) == ("EBMS:0101", "digest")


def test_phase4_test_receipt(corpus: Path) -> None:
    body = (corpus / "testfiles_TestReceipt12.xml").read_bytes()
    receipt = read_signal("application/soap+xml", body, trust=_accept_any)
    assert isinstance(receipt, Receipt)
    assert receipt.ref_to_message_id == "035e0a83-6dc5-427b-bcee-483475c65153@phase4"
    assert len(receipt.references) == 3
    assert receipt.references[0].transforms[0].prefixes == ("S12",)


def test_soap11_receipt_refused(corpus: Path) -> None:
    body = (corpus / "testfiles_TestReceipt11.xml").read_bytes()
    with pytest.raises(EbmsError) as info:
        read_signal("application/soap+xml", body, trust=_accept_any)
    assert (info.value.code, info.value.reason) == ("EBMS:0009", "soap-version")


def test_phase4_outbound_dump(corpus: Path) -> None:
    """phase4's own request: headers parse, and the signature and XML digests verify (the attachment
    cannot be opened without the receiver's key)."""
    content_type, body = split_http((corpus / "peppol_client_dump-raw.as4out").read_bytes())
    soap, attachments = split_message(content_type, body, PEPPOL)
    assert list(attachments) == ["phase4-att-ff0f8ad5-f982-48ba-b8e2-26997600f496@cid"]
    envelope = parse_envelope(soap, PEPPOL.limits.max_soap_bytes)
    _, header = parse_user_message(envelope.messaging)
    assert header.from_party.value == "POP000306"
    assert header.action.startswith(
        "busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    )
    assert header.get_property("finalRecipient") is not None
    check_profile(header, PEPPOL)
    ids = index_ids(envelope.root)
    assert envelope.security is not None
    signature = envelope.security.find(f"{{{c.DS}}}Signature")
    assert signature is not None
    parsed = parse_signature(signature, PEPPOL.algorithms, 32)
    security = read_security(
        envelope,
        ids,
        PEPPOL.algorithms,
        PEPPOL.limits,
        attachment_ids=attachments.keys(),
        require_encryption=True,
    )
    assert security.signer.subject.rfc4514_string().startswith("CN=POP000306")
    assert security.encrypted_key is not None
    recipient = security.encrypted_key.recipient
    assert recipient is not None
    assert "PEPPOL ACCESS POINT TEST CA - G2" in recipient.issuer.rfc4514_string()
    by_cid = verify_signature(security, envelope, ids, attachments.keys())
    assert set(by_cid) == set(attachments)
    messaging_ref = parsed.references[0]
    assert (
        sha256(canonicalize(envelope.messaging, messaging_ref.transforms[0].prefixes))
        == messaging_ref.digest_value
    )


def test_phase4_dump_cannot_be_opened_without_its_key(corpus: Path, receiver: Credentials) -> None:
    content_type, body = split_http((corpus / "peppol_client_dump-raw.as4out").read_bytes())
    with pytest.raises(EbmsError) as info:
        read_user_message(content_type, body, keys=[receiver], trust=_accept_any)
    assert (info.value.code, info.value.reason) == ("EBMS:0102", "no-key")
    assert info.value.ref_to_message_id == "17a7c374-efe3-41e2-ac0d-8a8f47529e47@phase4"


@pytest.mark.parametrize(
    ("name", "code", "reason"),
    [
        ("testfiles_WrongSigningAlgorithm.xml", "EBMS:0103", "algorithm"),
        ("testfiles_WrongSigningDigestAlgorithm.xml", "EBMS:0103", "algorithm"),
        ("testfiles_TwoUserMessages.xml", "EBMS:0009", "user-message"),
        ("testfiles_UserMessageNoPartyID.xml", "EBMS:0009", "header"),
        ("testfiles_NoResponder.xml", "EBMS:0009", "header"),
        ("external_soap12test_UserMessage12.xml", None, None),
        ("unused_holodeck_from-holodeck-1.xml", None, None),
    ],
)
def test_refused_user_messages(corpus: Path, name: str, code: str | None, reason: str | None) -> None:
    body = (corpus / name).read_bytes()
    with pytest.raises(EbmsError) as info:
        read_user_message("application/soap+xml; charset=UTF-8", body, keys=[], trust=_accept_any)
    if code is not None:
        assert (info.value.code, info.value.reason) == (code, reason)


def test_wrong_compression_refused(corpus: Path) -> None:
    content_type, body = split_http((corpus / "testfiles_WrongCompression.mime").read_bytes())
    with pytest.raises(EbmsError) as info:
        read_user_message(content_type, body, keys=[], trust=_accept_any)
    assert (info.value.code, info.value.reason) == ("EBMS:0303", "compression-type")
    assert info.value.ref_to_message_id == "c42e883b-aab1-47bf-b2f4-4e89ce309591@ph-as4"


def test_pull_request_file_refused(corpus: Path) -> None:
    """(This sample is not even well-formed: a space inside a namespace URI.)"""
    body = (corpus / "external_soap12test_PullRequest12.xml").read_bytes()
    with pytest.raises(EbmsError) as info:
        read_user_message("application/soap+xml", body, keys=[], trust=_accept_any)
    assert info.value.code == "EBMS:0009"


@pytest.mark.parametrize(
    ("name", "ref", "code", "short", "detail_part"),
    [
        ("testfiles_ErrorMessage.xml", None, "EBMS:0001", "ValueNotRecognized", "well formed"),
        (
            "testfiles_ErrorMessageNoRefToMessageID.xml",
            None,
            "EBMS:0001",
            "ValueNotRecognized",
            "well formed",
        ),
        (
            "testfiles_ErrorMessageWithFault.xml",
            "1234",
            "EBMS:0103",
            "PolicyNoncompliance",
            "RuntimeException",
        ),
    ],
)
def test_error_signals(
    corpus: Path, name: str, ref: str | None, code: str, short: str, detail_part: str
) -> None:
    body = (corpus / name).read_bytes()
    signal = read_signal("application/soap+xml", body, trust=_accept_any)
    assert isinstance(signal, ErrorSignal)
    assert not signal.authenticated
    assert signal.ref_to_message_id == ref
    (error,) = signal.errors
    assert (error.code, error.short_description) == (code, short)
    assert detail_part in (error.detail or "")
    assert error.severity == "failure"


def test_error_signal_ref_in_error(corpus: Path) -> None:
    signal = read_signal(
        "application/soap+xml", (corpus / "testfiles_ErrorMessage.xml").read_bytes(), trust=_accept_any
    )
    assert isinstance(signal, ErrorSignal)
    assert signal.errors[0].ref_to_message_in_error == "ph-as4@42ec020f-9553-4b6d-ba8e-265cf1f6fd34"
    assert signal.errors[0].category == "Content"
    with_fault = read_signal(
        "application/soap+xml",
        (corpus / "testfiles_ErrorMessageWithFault.xml").read_bytes(),
        trust=_accept_any,
    )
    assert isinstance(with_fault, ErrorSignal)
    assert with_fault.errors[0].description is not None
    assert "Certificate revoked" in with_fault.errors[0].description
    assert with_fault.timestamp == dt.datetime(2025, 9, 25, 7, 54, 32, 971659, tzinfo=dt.UTC)


def test_corpus_certificates_load(corpus: Path) -> None:
    g3 = _cert(corpus, "test-ap_POP000306_G3_from-dump.pem")
    ap_ca = _cert(corpus, "2025_PEPPOL_ACCESS_POINT_TEST_CA-G3.pem")
    root = _cert(corpus, "2025_PEPPOL_Root_TEST_CA-G3.pem")
    trust = AnchorTrust((root,), (ap_ca,), at=dt.datetime(2026, 1, 29, tzinfo=dt.UTC))
    trust(g3, (), "POP000306")
    with pytest.raises(EbmsError) as info:
        trust(g3, (), "POP000001")
    assert info.value.reason == "certificate-party"
    expired = _cert(corpus, "test-ap_PP_C3_G2_expired.pem")
    g2 = AnchorTrust(
        (_cert(corpus, "2018_Peppol_Test_Root_CA.cer"),),
        (_cert(corpus, "2018_Peppol_Test_AccessPoint_CA.cer"),),
    )
    with pytest.raises(EbmsError) as info:
        g2(expired, (), "PP_C3")
    assert info.value.reason == "certificate-expired"
