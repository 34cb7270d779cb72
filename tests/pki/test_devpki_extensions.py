"""The dev PKI's SMP CA, revocation pointers and delegated OCSP responder certificates."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from accesspoint.pki import cli, create_dev_pki, generate_dev_pki
from accesspoint.pki.credentials import load_certificates
from accesspoint.pki.revocation import crl_urls, ocsp_urls


def test_revocation_pointers_only_when_asked() -> None:
    pki = create_dev_pki(("POP000001",))
    plain = pki.ap("POP000001").certificate
    assert ocsp_urls(plain) == [] and crl_urls(plain) == []
    cert = pki.issue(
        "POP000001", ocsp_url="http://127.0.0.1:1/ocsp", crl_url="http://127.0.0.1:1/ca.crl"
    ).certificate
    assert ocsp_urls(cert) == ["http://127.0.0.1:1/ocsp"] and crl_urls(cert) == ["http://127.0.0.1:1/ca.crl"]
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [d.access_method for d in aia] == [AuthorityInformationAccessOID.OCSP]


def test_smp_ca_and_certificates() -> None:
    pki = create_dev_pki(())
    smp = pki.issue_smp("PSM000042")
    assert smp.common_name == "PSM000042"
    smp.certificate.verify_directly_issued_by(pki.smp_issuer.certificate)
    pki.smp_issuer.certificate.verify_directly_issued_by(pki.root.certificate)
    assert "SERVICE METADATA PUBLISHER" in (pki.smp_issuer.common_name or "")
    assert smp.chain == (pki.smp_issuer.certificate,)


def test_ocsp_responder_is_delegated_by_the_ap_ca() -> None:
    pki = create_dev_pki(())
    responder = pki.issue_ocsp_responder()
    responder.certificate.verify_directly_issued_by(pki.ap_ca.certificate)
    eku = responder.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    responder.certificate.extensions.get_extension_for_class(x509.OCSPNoCheck)
    for_smp = pki.issue_ocsp_responder(pki.smp_issuer)
    for_smp.certificate.verify_directly_issued_by(pki.smp_issuer.certificate)


def test_smp_ca_file_is_opt_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = generate_dev_pki(tmp_path / "plain", ("POP000001",))
    assert plain.smp_ca_certificate is None and not (tmp_path / "plain" / "smp-ca.pem").exists()
    args = argparse.Namespace(
        out=str(tmp_path / "cli"), seat=None, organisation="Acme", force=False, smp=True
    )
    assert cli.run(args) == 0
    written = tmp_path / "cli" / "smp-ca.pem"
    assert "smp-ca.pem" in capsys.readouterr().out
    [smp_ca] = load_certificates(written.read_bytes())
    [root] = load_certificates((tmp_path / "cli" / "root-ca.pem").read_bytes())
    smp_ca.verify_directly_issued_by(root)
