"""The Peppol trust store from the pinned CA certificates, checked with real OpenPeppol test certificates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from accesspoint.artifacts import fetch_optional, load_manifest
from accesspoint.as4 import EbmsError
from accesspoint.config import Config
from accesspoint.config.model import ArtifactsConfig, PeppolConfig, TrustConfig
from accesspoint.pki import create_dev_pki, generate_dev_pki
from accesspoint.pki.chain import CertificateRefused, IssuingCA, Purpose
from accesspoint.pki.checker import CertificateChecker
from accesspoint.pki.credentials import load_certificates
from accesspoint.pki.peppol_ca import Mode, PeppolCAUnavailable, installed_peppol_issuers
from tests.artifacts.ca_mirror import build_ca_mirror, corpus_pki

# Inside every test certificate's validity: POP000306 G2 until 2027-02-15, G3 until 2027-08-29.
AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SEAT = "POP000306"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    base = tmp_path_factory.mktemp("peppol-ca")
    manifest = load_manifest()
    mirror = build_ca_mirror(base / "mirror", manifest, corpus)
    [outcome] = fetch_optional(manifest, base / "cache", mirror=mirror)
    assert outcome.state == "installed"
    return base / "cache"


def corpus_cert(corpus: Path, name: str) -> x509.Certificate:
    return load_certificates((corpus_pki(corpus) / name).read_bytes())[0]


def store(cache: Path, mode: Mode = "test", **options: object) -> CertificateChecker:
    issuers: list[IssuingCA] = installed_peppol_issuers(cache, mode, **options)  # type: ignore[arg-type]
    return CertificateChecker(issuers, revocation="off", at=AT)


def test_store_holds_ap_and_smp_cas_per_generation(cache: Path) -> None:
    issuers = installed_peppol_issuers(cache, "test")
    assert sorted((i.name, sorted(i.purposes)[0]) for i in issuers) == [
        ("PEPPOL ACCESS POINT TEST CA - G2", "ap"),
        ("PEPPOL ACCESS POINT TEST CA - G3", "ap"),
        ("PEPPOL SERVICE METADATA PUBLISHER TEST CA - G2", "smp"),
        ("PEPPOL SERVICE METADATA PUBLISHER TEST CA - G3", "smp"),
    ]
    assert {i.root.subject.rfc4514_string() for i in issuers} == {
        "CN=PEPPOL Root TEST CA - G2,OU=FOR TEST ONLY,O=OpenPEPPOL AISBL,C=BE",
        "CN=PEPPOL Root TEST CA - G3,OU=FOR TEST ONLY,O=OpenPEPPOL AISBL,C=BE",
    }
    production = installed_peppol_issuers(cache, "production", generations=("G3",))
    assert sorted(i.name for i in production) == [
        "PEPPOL ACCESS POINT CA - G3",
        "PEPPOL SERVICE METADATA PUBLISHER CA - G3",
    ]


@pytest.mark.parametrize(
    ("file", "issuer"),
    [
        ("test-ap_POP000306_G3_from-dump.pem", "PEPPOL ACCESS POINT TEST CA - G3"),
        ("test-ap_POP000306_G2_from-dump.pem", "PEPPOL ACCESS POINT TEST CA - G2"),
    ],
)
def test_real_test_ap_certificates_chain_to_their_ap_ca(
    cache: Path, corpus: Path, file: str, issuer: str
) -> None:
    issuing = store(cache).check_chain(corpus_cert(corpus, file), "ap", SEAT)
    assert issuing.name == issuer and issuing.origin.startswith("Peppol test")


def test_g2_can_be_left_out(cache: Path, corpus: Path) -> None:
    g3_only = store(cache, generations=("G3",))
    g3_only.check_chain(corpus_cert(corpus, "test-ap_POP000306_G3_from-dump.pem"), "ap", SEAT)
    with pytest.raises(CertificateRefused) as refused:
        g3_only.check_chain(corpus_cert(corpus, "test-ap_POP000306_G2_from-dump.pem"), "ap", SEAT)
    assert refused.value.reason == "certificate-untrusted"


@pytest.mark.parametrize(
    ("mode", "file", "purpose", "party", "reason"),
    [
        ("test", "test-ap_PP_C3_G2_expired.pem", "ap", "PP_C3", "certificate-expired"),
        ("production", "test-ap_POP000306_G3_from-dump.pem", "ap", SEAT, "certificate-untrusted"),
        ("production", "test-ap_POP000306_G2_from-dump.pem", "ap", SEAT, "certificate-untrusted"),
        ("test", "test-ap_POP000306_G3_from-dump.pem", "smp", None, "certificate-purpose"),
        ("test", "test-ap_POP000306_G3_from-dump.pem", "ap", "POP000001", "certificate-party"),
    ],
)
def test_refusals(
    cache: Path, corpus: Path, mode: Mode, file: str, purpose: Purpose, party: str | None, reason: str
) -> None:
    with pytest.raises(CertificateRefused) as refused:
        store(cache, mode).check_chain(corpus_cert(corpus, file), purpose, party)
    assert refused.value.reason == reason


def test_the_check_time_matters(cache: Path, corpus: Path) -> None:
    checker = store(cache)
    checker.at = dt.datetime(2027, 9, 1, tzinfo=dt.UTC)  # after the G3 certificate's notAfter
    with pytest.raises(CertificateRefused, match="expired on 2027-08-29"):
        checker.check_chain(corpus_cert(corpus, "test-ap_POP000306_G3_from-dump.pem"), "ap", SEAT)


def test_missing_ca_set_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PeppolCAUnavailable, match="ehfgate artifacts fetch"):
        installed_peppol_issuers(tmp_path / "empty-cache", "test")


def _config(cache: Path, anchors: tuple[Path, ...] = (), mode: Mode = "test") -> Config:
    return Config(
        artifacts=ArtifactsConfig(dir=cache),
        trust=TrustConfig(anchors=anchors, revocation="hard"),
        peppol=PeppolConfig(mode=mode),
    )


def test_from_config_trusts_peppol_and_the_dev_anchors(cache: Path, corpus: Path, tmp_path: Path) -> None:
    files = generate_dev_pki(tmp_path / "dev", ("POP000001",), smp=True)
    assert files.smp_ca_certificate is not None
    anchors = (files.root_certificate, files.ap_ca_certificate, files.smp_ca_certificate)
    checker = CertificateChecker.from_config(_config(cache, anchors))
    assert checker.revocation == "hard"
    checker.at = AT
    checker.check_chain(corpus_cert(corpus, "test-ap_POP000306_G3_from-dump.pem"), "ap", SEAT)
    checker.at = None
    dev_ap = load_certificates(files.certificates["POP000001"].read_bytes())[0]
    assert checker.check_chain(dev_ap, "ap", "POP000001").origin == "trust.anchors"
    with pytest.raises(CertificateRefused) as refused:
        checker.check_chain(dev_ap, "smp", None)
    assert refused.value.reason == "certificate-purpose"


def test_from_config_without_peppol_cas_uses_the_anchors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = generate_dev_pki(tmp_path / "dev", ("POP000001",))
    checker = CertificateChecker.from_config(_config(tmp_path / "no-cache", (files.root_certificate,)))
    assert "Peppol test CAs not loaded" in caplog.text
    dev_ap = load_certificates(files.certificates["POP000001"].read_bytes())[0]
    # The AP CA is not configured: it is accepted from the certificate chain under the open dev root.
    ap_ca = load_certificates(files.ap_ca_certificate.read_bytes())
    checker.check_chain(dev_ap, "ap", "POP000001", ap_ca)
    with pytest.raises(CertificateRefused, match="not issued by a trusted CA"):
        checker.check_chain(dev_ap, "ap", "POP000001")
    with pytest.raises(PeppolCAUnavailable, match=r"trust\.anchors is empty"):
        CertificateChecker.from_config(_config(tmp_path / "no-cache"))


def test_dev_smp_certificates_by_purpose() -> None:
    pki = create_dev_pki(("POP000001",))
    checker = CertificateChecker.from_config(
        _config(Path("/nonexistent-cache")),
        anchors=pki.anchors,
        intermediates=(pki.ap_ca.certificate, pki.smp_issuer.certificate),
    )
    smp = pki.issue_smp("PSM000001").certificate
    checker.smp_trust()(smp, ())
    with pytest.raises(CertificateRefused) as refused:
        checker.check_chain(smp, "ap", "PSM000001")
    assert refused.value.reason == "certificate-purpose"
    with pytest.raises(CertificateRefused) as refused:
        checker.smp_trust()(pki.ap("POP000001").certificate, ())
    assert refused.value.reason == "certificate-purpose"


def test_as4_adapter_raises_ebms_0101(cache: Path, corpus: Path) -> None:
    trust = store(cache).as4_trust()
    cert = corpus_cert(corpus, "test-ap_POP000306_G3_from-dump.pem")
    trust(cert, (), SEAT)
    for party, reason in ((None, "certificate-party"), ("POP000999", "certificate-party")):
        with pytest.raises(EbmsError) as refused:
            trust(cert, (), party)
        assert refused.value.code == "EBMS:0101" and refused.value.reason == reason
    with pytest.raises(EbmsError) as refused:
        trust(corpus_cert(corpus, "test-ap_PP_C3_G2_expired.pem"), (), "PP_C3")
    assert refused.value.reason == "certificate-expired"
