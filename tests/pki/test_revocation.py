"""Revocation against real OCSP and CRL endpoints on loopback, signed with the dev PKI's keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from accesspoint.pki import DevPki, create_dev_pki
from accesspoint.pki.chain import CertificateRefused, issuing_cas_under
from accesspoint.pki.checker import CertificateChecker, RevocationPolicy
from accesspoint.pki.credentials import Credentials
from accesspoint.pki.revocation import RevocationChecker
from tests.pki.responders import Responders, closed_port_url, serve

SEAT = "POP000001"


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return create_dev_pki((SEAT,))


@pytest.fixture
async def responders(pki: DevPki) -> AsyncIterator[Responders]:
    async with serve(Responders(ca=pki.ap_ca, signer=pki.ap_ca)) as running:
        yield running


def checker(pki: DevPki, policy: RevocationPolicy = "hard", **options: object) -> CertificateChecker:
    issuers = issuing_cas_under(pki.anchors, [pki.ap_ca.certificate, pki.smp_issuer.certificate], "dev")
    revocation = RevocationChecker(unknown_ttl=dt.timedelta(0), timeout=5, **options)  # type: ignore[arg-type]
    return CertificateChecker(issuers, revocation=policy, revocation_checker=revocation)


def ap(pki: DevPki, *, ocsp_url: str | None = None, crl_url: str | None = None) -> Credentials:
    return pki.issue(SEAT, ocsp_url=ocsp_url, crl_url=crl_url)


async def test_good_from_the_issuing_ca(pki: DevPki, responders: Responders) -> None:
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki)
    try:
        verdict = await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    revocation = verdict.revocation
    assert (revocation.status, revocation.source, revocation.url) == ("good", "ocsp", responders.ocsp_url)
    assert revocation.this_update is not None and revocation.next_update is not None
    assert (
        verdict.warnings == ()
        and verdict.party_id == SEAT
        and verdict.issuing_ca.endswith("ACCESS POINT TEST CA")
    )
    assert "good via ocsp" in verdict.explain() and responders.ocsp_requests == 1


async def test_good_from_a_delegated_responder(pki: DevPki, responders: Responders) -> None:
    responders.signer = pki.issue_ocsp_responder()
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki)
    try:
        verdict = await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert verdict.revocation.status == "good"
    assert "OCSP responder" in verdict.revocation.detail


@pytest.mark.parametrize("policy", ["soft", "hard"])
async def test_revoked_is_refused(pki: DevPki, responders: Responders, policy: RevocationPolicy) -> None:
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    responders.revoke(cert)
    check = checker(pki, policy)
    try:
        with pytest.raises(CertificateRefused) as refused:
            await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert refused.value.reason == "certificate-revoked"
    assert "key_compromise" in str(refused.value) and responders.ocsp_url in str(refused.value)


async def test_responder_down_per_policy(pki: DevPki) -> None:
    cert = ap(pki, ocsp_url=closed_port_url("/ocsp")).certificate
    soft, hard, off = checker(pki, "soft"), checker(pki, "hard"), checker(pki, "off")
    try:
        accepted = await soft.check(cert, "ap", SEAT)
        assert accepted.revocation.status == "unknown" and "unreachable" in accepted.revocation.detail
        assert accepted.warnings and "trust.revocation = soft" in accepted.warnings[0]
        with pytest.raises(CertificateRefused) as refused:
            await hard.check(cert, "ap", SEAT)
        assert refused.value.reason == "certificate-revocation-unknown"
        skipped = await off.check(cert, "ap", SEAT)
        assert skipped.revocation.status == "unchecked" and off.revocation_checker.requests == 0
    finally:
        for one in (soft, hard, off):
            await one.aclose()


async def test_crl_decides_when_ocsp_is_down(pki: DevPki, responders: Responders) -> None:
    fine = ap(pki, ocsp_url=closed_port_url("/ocsp"), crl_url=responders.crl_url).certificate
    bad = ap(pki, ocsp_url=closed_port_url("/ocsp"), crl_url=responders.crl_url).certificate
    responders.revoke(bad, x509.ReasonFlags.superseded)
    check = checker(pki)
    try:
        verdict = await check.check(fine, "ap", SEAT)
        assert (verdict.revocation.status, verdict.revocation.source) == ("good", "crl")
        assert verdict.revocation.url == responders.crl_url
        with pytest.raises(CertificateRefused, match="superseded") as refused:
            await check.check(bad, "ap", SEAT)
        assert refused.value.reason == "certificate-revoked"
    finally:
        await check.aclose()
    assert responders.crl_requests == 1  # the CRL itself is cached until its nextUpdate


async def test_pem_crl_is_read(pki: DevPki, responders: Responders) -> None:
    responders.crl_pem = True
    cert = ap(pki, crl_url=responders.crl_url).certificate
    responders.revoke(cert)
    check = checker(pki)
    try:
        result = await check.revocation_checker.check(cert, pki.ap_ca.certificate)
    finally:
        await check.aclose()
    assert (result.status, result.source, result.reason) == ("revoked", "crl", "key_compromise")


async def test_stale_response_is_unknown(pki: DevPki, responders: Responders) -> None:
    responders.this_update_offset = -dt.timedelta(hours=3)
    responders.next_update_offset = -dt.timedelta(hours=2)
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki)
    try:
        with pytest.raises(CertificateRefused, match="stale") as refused:
            await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert refused.value.reason == "certificate-revocation-unknown"


async def test_response_without_next_update_ages_out(pki: DevPki, responders: Responders) -> None:
    responders.next_update_offset = None
    responders.this_update_offset = -dt.timedelta(hours=2)
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki, "soft", max_age=dt.timedelta(hours=1))
    try:
        verdict = await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert verdict.revocation.status == "unknown" and "without nextUpdate" in verdict.revocation.detail


async def test_future_this_update_is_unknown(pki: DevPki, responders: Responders) -> None:
    responders.this_update_offset = dt.timedelta(hours=1)
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki, "soft")
    try:
        verdict = await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert verdict.revocation.status == "unknown" and "in the future" in verdict.revocation.detail


async def test_forged_signature_is_never_good(pki: DevPki, responders: Responders) -> None:
    """Another CA with the very same name signs, naming itself (by name) as the responder."""
    responders.signer = create_dev_pki(()).ap_ca
    responders.responder_by_name = True
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    soft, hard = checker(pki, "soft"), checker(pki, "hard")
    try:
        verdict = await soft.check(cert, "ap", SEAT)
        assert verdict.revocation.status == "unknown" and "does not verify" in verdict.revocation.detail
        with pytest.raises(CertificateRefused):
            await hard.check(cert, "ap", SEAT)
    finally:
        await soft.aclose()
        await hard.aclose()


async def test_responder_of_a_foreign_ca_is_refused(pki: DevPki, responders: Responders) -> None:
    responders.signer = create_dev_pki(()).issue_ocsp_responder()
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki, "soft")
    try:
        result = await check.revocation_checker.check(cert, pki.ap_ca.certificate)
    finally:
        await check.aclose()
    assert result.status == "unknown" and "not issued by the issuing CA" in result.detail


async def test_delegate_without_ocsp_signing_purpose_is_refused(pki: DevPki, responders: Responders) -> None:
    responders.signer = pki.issue("POP000009")  # issued by the CA, but an AP certificate
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki, "soft")
    try:
        result = await check.revocation_checker.check(cert, pki.ap_ca.certificate)
    finally:
        await check.aclose()
    assert result.status == "unknown" and "not for OCSP signing" in result.detail


async def test_answer_about_another_certificate_is_refused(pki: DevPki, responders: Responders) -> None:
    responders.ocsp_behaviour = "wrong-serial"
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki, "soft")
    try:
        result = await check.revocation_checker.check(cert, pki.ap_ca.certificate)
    finally:
        await check.aclose()
    assert result.status == "unknown" and "not about the certificate" in result.detail


async def test_cached_until_next_update(pki: DevPki, responders: Responders) -> None:
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki)
    try:
        first = await check.check(cert, "ap", SEAT)
        second = await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert responders.ocsp_requests == 1 and check.revocation_checker.requests == 1
    assert first.revocation.source == "ocsp"
    assert (second.revocation.source, second.revocation.cached_from) == ("cache", "ocsp")
    assert second.revocation.next_update == first.revocation.next_update
    assert "via cache of ocsp" in second.revocation.explain()


async def test_cache_expires_at_next_update(pki: DevPki, responders: Responders) -> None:
    now = [dt.datetime.now(dt.UTC)]
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki, clock=lambda: now[0])
    try:
        await check.check(cert, "ap", SEAT)
        now[0] += dt.timedelta(minutes=30)
        await check.check(cert, "ap", SEAT)
        assert responders.ocsp_requests == 1
        now[0] += dt.timedelta(minutes=31)  # past the response's nextUpdate (one hour)
        await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert responders.ocsp_requests == 2


@pytest.mark.parametrize(
    ("behaviour", "detail"),
    [("oversized", "exceeds the limit"), ("http-error", "HTTP 503"), ("garbage", "not an OCSP response")],
)
async def test_bad_responses_are_unknown(
    pki: DevPki, responders: Responders, behaviour: str, detail: str
) -> None:
    responders.ocsp_behaviour = behaviour  # type: ignore[assignment]
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki, "soft", max_ocsp_bytes=64 * 1024)
    try:
        result = await check.revocation_checker.check(cert, pki.ap_ca.certificate)
    finally:
        await check.aclose()
    assert result.status == "unknown" and detail in result.detail


async def test_sha256_cert_id_and_nonce(pki: DevPki, responders: Responders) -> None:
    cert = ap(pki, ocsp_url=responders.ocsp_url).certificate
    check = checker(pki, hash_algorithm=hashes.SHA256(), nonce=True)
    try:
        verdict = await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert verdict.revocation.status == "good"


async def test_crl_signed_by_another_ca_is_refused(pki: DevPki, responders: Responders) -> None:
    responders.ca = create_dev_pki(()).ap_ca  # same CA name, different key
    cert = ap(pki, crl_url=responders.crl_url).certificate
    check = checker(pki, "soft")
    try:
        result = await check.revocation_checker.check(cert, pki.ap_ca.certificate)
    finally:
        await check.aclose()
    assert result.status == "unknown" and "CRL signature does not verify" in result.detail


async def test_no_pointers_is_unknown(pki: DevPki) -> None:
    cert = ap(pki).certificate
    check = checker(pki, "soft")
    try:
        verdict = await check.check(cert, "ap", SEAT)
    finally:
        await check.aclose()
    assert verdict.revocation.status == "unknown"
    assert (
        "no OCSP responder and no CRL" in verdict.revocation.detail and check.revocation_checker.requests == 0
    )
