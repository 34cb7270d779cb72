"""The development PKI: Peppol-shaped chain, files with safe modes, and certificates on demand."""

from __future__ import annotations

import argparse
import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accesspoint.as4 import AnchorTrust, EbmsError
from accesspoint.pki import cli, create_dev_pki, generate_dev_pki, load_credentials
from accesspoint.pki.credentials import Credentials, load_certificates


def _cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_chain_shape() -> None:
    pki = create_dev_pki(("PNO000123",), organisation="Acme AS")
    ap = pki.ap("PNO000123")
    assert _cn(ap.certificate) == "PNO000123" == ap.common_name
    subject = ap.certificate.subject
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "NO"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme AS"
    assert ap.certificate.issuer == pki.ap_ca.certificate.subject
    assert pki.ap_ca.certificate.issuer == pki.root.certificate.subject
    ap.certificate.verify_directly_issued_by(pki.ap_ca.certificate)
    pki.ap_ca.certificate.verify_directly_issued_by(pki.root.certificate)
    assert ap.chain == (pki.ap_ca.certificate,)
    key = ap.certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
    usage = ap.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    eku = ap.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    basic = pki.ap_ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca and basic.path_length == 0
    AnchorTrust(pki.anchors, pki.intermediates)(ap.certificate, (), "PNO000123")


def test_expired_and_future_certificates() -> None:
    pki = create_dev_pki(("POP000001",))
    now = dt.datetime.now(dt.UTC)
    trust = AnchorTrust(pki.anchors, pki.intermediates)
    expired = pki.issue(
        "POP000001", not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1)
    )
    future = pki.issue("POP000001", not_before=now + dt.timedelta(days=1))
    for creds, reason in ((expired, "certificate-expired"), (future, "certificate-not-yet-valid")):
        with pytest.raises(EbmsError) as info:
            trust(creds.certificate, (), "POP000001")
        assert info.value.reason == reason
    same_key = pki.issue("POP000001", key=expired.private_key)
    assert same_key.certificate.public_key() == expired.certificate.public_key()


def test_foreign_pki_is_not_trusted() -> None:
    ours, theirs = create_dev_pki(("POP000001",)), create_dev_pki(("POP000001",))
    with pytest.raises(EbmsError) as info:
        AnchorTrust(ours.anchors, ours.intermediates)(theirs.ap("POP000001").certificate, (), "POP000001")
    assert info.value.reason == "certificate-untrusted"


def test_generate_writes_files_with_private_modes(tmp_path: Path) -> None:
    out = tmp_path / "dev-pki"
    files = generate_dev_pki(out, seats=("POP000001", "POP000002"))
    assert sorted(p.name for p in out.iterdir()) == [
        "POP000001.cert.pem",
        "POP000001.key.pem",
        "POP000002.cert.pem",
        "POP000002.key.pem",
        "ap-ca.pem",
        "root-ca.pem",
    ]
    for key_path in files.keys.values():
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.root_certificate.stat().st_mode) == 0o644
    creds = load_credentials(
        files.keys["POP000001"], files.certificates["POP000001"], [files.ap_ca_certificate]
    )
    assert creds.common_name == "POP000001"
    root = load_certificates(files.root_certificate.read_bytes())
    AnchorTrust(tuple(root), creds.chain)(creds.certificate, (), "POP000001")
    with pytest.raises(FileExistsError):
        generate_dev_pki(out, seats=("POP000001",))
    generate_dev_pki(out, seats=("POP000001",), overwrite=True)
    assert stat.S_IMODE(files.keys["POP000001"].stat().st_mode) == 0o600


def test_credentials_refuse_a_foreign_key() -> None:
    a, b = create_dev_pki(("POP000001", "POP000002")).access_points.values()
    with pytest.raises(ValueError, match="does not belong"):
        Credentials(a.private_key, b.certificate)


def test_cli_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["dev-pki", "--out", str(tmp_path), "--seat", "PNO000001"])
    assert args.func(args, None) == 0
    assert (tmp_path / "PNO000001.key.pem").exists()
    assert "trust.anchors" in capsys.readouterr().out
    assert args.func(args, None) == 2
    forced = parser.parse_args(["dev-pki", "--out", str(tmp_path), "--seat", "PNO000001", "--force"])
    assert forced.func(forced, None) == 0
