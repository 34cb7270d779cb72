"""SMP client against a real SMP on 127.0.0.1 with real signatures, and against real SMP answers."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from accesspoint.as4.trust import AnchorTrust
from accesspoint.discovery.smp import (
    LookupOutcome,
    RefusalReason,
    SmpClient,
    SmpClientConfig,
    SmpFormat,
    SmpRefused,
    SmpUnavailable,
)
from accesspoint.discovery.smp_documents import (
    ServiceMetadata,
    choose_endpoint,
    encode_identifier,
    read_document,
    service_group_url,
    service_metadata_url,
)
from accesspoint.peppol.identifiers import Identifier, document_type, participant, process
from accesspoint.pki.credentials import Credentials, load_certificates
from tests.discovery.smp_pki import SmpPki, create_smp_pki
from tests.discovery.smpserver import (
    EndpointSpec,
    ProcessSpec,
    SmpServer,
    bdxr2_group,
    bdxr2_metadata,
    classic_group,
    classic_metadata,
    classic_redirect,
    group_path,
    metadata_path,
    sign,
    start_smp_server,
)

PARTICIPANT = participant("0192:810418052")
DOCTYPE = document_type(
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017"
    "#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = process("urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
AP_URL = "https://ap.example.test/as4"
PREFIX = "/smp"
FORMATS = [SmpFormat.PEPPOL, SmpFormat.BDXR1, SmpFormat.BDXR2]
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pki() -> SmpPki:
    return create_smp_pki()


@pytest.fixture
async def smp() -> AsyncIterator[SmpServer]:
    server, runner = await start_smp_server()
    try:
        yield server
    finally:
        await runner.cleanup()


def _config(**changes: object) -> SmpClientConfig:
    values: dict[str, object] = {"read_timeout": 0.5, "total_timeout": 3.0, "connect_timeout": 2.0}
    values.update(changes)
    return SmpClientConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def client(pki: SmpPki) -> AsyncIterator[SmpClient]:
    async with SmpClient(pki.smp_trust(), _config()) as smp_client:
        yield smp_client


def _endpoint(pki: SmpPki, **changes: object) -> EndpointSpec:
    values: dict[str, object] = {"address": AP_URL, "certificate": pki.dev.ap("POP000001").certificate}
    values.update(changes)
    return EndpointSpec(**values)  # type: ignore[arg-type]


def _metadata(fmt: SmpFormat, endpoints: list[EndpointSpec], **kw: object) -> etree._Element:
    processes = [ProcessSpec(PROCESS, endpoints)]
    if fmt is SmpFormat.BDXR2:
        return bdxr2_metadata(PARTICIPANT, DOCTYPE, processes, **kw)  # type: ignore[arg-type]
    return classic_metadata(fmt, PARTICIPANT, DOCTYPE, processes)


def _publish(
    smp: SmpServer,
    pki: SmpPki,
    fmt: SmpFormat = SmpFormat.PEPPOL,
    *,
    endpoints: list[EndpointSpec] | None = None,
    signer: Credentials | None = None,
) -> str:
    path = metadata_path(PREFIX, PARTICIPANT, DOCTYPE, fmt)
    body = sign(_metadata(fmt, endpoints or [_endpoint(pki)]), signer or pki.smp)
    smp.serve(path, body)
    return path


async def _lookup(client: SmpClient, smp: SmpServer, fmt: SmpFormat = SmpFormat.PEPPOL, **kw: object):  # type: ignore[no-untyped-def]
    return await client.lookup(smp.url(PREFIX), PARTICIPANT, DOCTYPE, PROCESS, fmt=fmt, **kw)  # type: ignore[arg-type]


# --- URLs -----------------------------------------------------------------------------------------


def test_urls_percent_encode_each_identifier_and_keep_the_base_path() -> None:
    doc = Identifier("busdox-docid-qns", "urn:x::Invoice##urn:y#z::2.1")
    assert encode_identifier(PARTICIPANT) == "iso6523-actorid-upis%3A%3A0192%3A810418052"
    assert service_metadata_url("https://smp.example/base", PARTICIPANT, doc) == (
        "https://smp.example/base/iso6523-actorid-upis%3A%3A0192%3A810418052/services/"
        "busdox-docid-qns%3A%3Aurn%3Ax%3A%3AInvoice%23%23urn%3Ay%23z%3A%3A2.1"
    )
    assert service_group_url("http://smp.example/", PARTICIPANT, SmpFormat.BDXR2) == (
        "http://smp.example/bdxr-smp-2/iso6523-actorid-upis%3A%3A0192%3A810418052"
    )
    with pytest.raises(SmpRefused) as refused:
        service_group_url("ftp://smp.example/", PARTICIPANT)
    assert refused.value.reason is RefusalReason.INVALID_URL


# --- success in every format ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
async def test_lookup_finds_the_signed_endpoint(
    fmt: SmpFormat, smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    path = _publish(smp, pki, fmt)
    result = await _lookup(client, smp, fmt)
    assert result.outcome is LookupOutcome.FOUND, result.detail
    assert result.endpoint is not None
    assert result.endpoint.url == AP_URL
    assert result.endpoint.transport_profile == "peppol-transport-as4-v2_0"
    assert result.endpoint.certificate == pki.dev.ap("POP000001").certificate
    assert result.smp_url == smp.url(path)
    assert result.signature is not None and result.signature.signed and result.signature.trusted
    assert "CN=PSM000001" in (result.signature.signer_subject or "")
    assert smp.hits[path] == 1  # the raw path matched: ':' and '#' arrived percent-encoded
    assert str(result.steps[0]).startswith(f"GET {smp.url(path)} -> 200")


async def test_service_group_first_when_asked_and_document_types_listed(
    smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    other = document_type("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##x::2.1")
    meta = service_metadata_url(smp.url(PREFIX), PARTICIPANT, other)
    smp.serve(
        group_path(PREFIX, PARTICIPANT, SmpFormat.PEPPOL),
        classic_group(SmpFormat.PEPPOL, PARTICIPANT, [meta]),
    )
    smp.serve(group_path(PREFIX, PARTICIPANT, SmpFormat.BDXR2), bdxr2_group(PARTICIPANT, [DOCTYPE, other]))
    path = _publish(smp, pki)

    assert await client.list_document_types(smp.url(PREFIX), PARTICIPANT) == (other,)
    assert await client.list_document_types(smp.url(PREFIX), PARTICIPANT, fmt=SmpFormat.BDXR2) == (
        DOCTYPE,
        other,
    )

    result = await _lookup(client, smp, via_service_group=True)
    assert result.outcome is LookupOutcome.DOCUMENT_TYPE_NOT_REGISTERED
    assert smp.hits[path] == 0  # the listing answered; the metadata was never fetched


# --- permanent outcomes ---------------------------------------------------------------------------


async def test_unknown_participant(smp: SmpServer, client: SmpClient) -> None:
    result = await _lookup(client, smp)
    assert result.outcome is LookupOutcome.PARTICIPANT_NOT_REGISTERED
    assert not result.found
    assert [s.status for s in result.steps] == [404, 404]


async def test_unknown_document_type(smp: SmpServer, client: SmpClient) -> None:
    smp.serve(
        group_path(PREFIX, PARTICIPANT, SmpFormat.PEPPOL), classic_group(SmpFormat.PEPPOL, PARTICIPANT, [])
    )
    result = await _lookup(client, smp)
    assert result.outcome is LookupOutcome.DOCUMENT_TYPE_NOT_REGISTERED
    assert [s.status for s in result.steps] == [404, 200]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_expired_service(fmt: SmpFormat, smp: SmpServer, client: SmpClient, pki: SmpPki) -> None:
    ended = (NOW - dt.timedelta(days=3)).date() if fmt is SmpFormat.BDXR2 else NOW - dt.timedelta(hours=1)
    _publish(
        smp, pki, fmt, endpoints=[_endpoint(pki, activation=NOW - dt.timedelta(days=30), expiration=ended)]
    )
    result = await _lookup(client, smp, fmt)
    assert result.outcome is LookupOutcome.SERVICE_EXPIRED
    assert "expired on" in result.detail
    assert result.endpoint is None


async def test_service_not_yet_active(smp: SmpServer, client: SmpClient, pki: SmpPki) -> None:
    _publish(smp, pki, endpoints=[_endpoint(pki, activation=NOW + dt.timedelta(days=2))])
    result = await _lookup(client, smp)
    assert result.outcome is LookupOutcome.SERVICE_NOT_YET_ACTIVE
    assert "becomes active" in result.detail


async def test_active_endpoint_wins_over_expired_one(smp: SmpServer, client: SmpClient, pki: SmpPki) -> None:
    old = _endpoint(pki, address="https://old.example.test/as4", expiration=NOW - dt.timedelta(days=1))
    _publish(smp, pki, endpoints=[old, _endpoint(pki)])
    result = await _lookup(client, smp)
    assert result.endpoint is not None and result.endpoint.url == AP_URL


async def test_no_endpoint_for_transport_or_process(smp: SmpServer, client: SmpClient, pki: SmpPki) -> None:
    _publish(smp, pki, endpoints=[_endpoint(pki, transport_profile="busdox-transport-as2-ver1p0")])
    result = await _lookup(client, smp)
    assert result.outcome is LookupOutcome.NO_ENDPOINT
    assert "busdox-transport-as2-ver1p0" in result.detail
    other = await client.lookup(smp.url(PREFIX), PARTICIPANT, DOCTYPE, process("urn:other:process"))
    assert other.outcome is LookupOutcome.NO_ENDPOINT
    assert "not registered for process" in other.detail


async def test_answer_about_another_participant_is_refused(
    smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    someone_else = classic_metadata(
        SmpFormat.PEPPOL, participant("0192:999999999"), DOCTYPE, [ProcessSpec(PROCESS, [_endpoint(pki)])]
    )
    smp.serve(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), sign(someone_else, pki.smp))
    with pytest.raises(SmpRefused) as refused:
        await _lookup(client, smp)
    assert refused.value.reason is RefusalReason.IDENTIFIER_MISMATCH


async def test_participant_compares_case_insensitively(
    smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    upper = Identifier("ISO6523-ACTORID-UPIS", "0192:810418052")
    root = classic_metadata(SmpFormat.PEPPOL, upper, DOCTYPE, [ProcessSpec(PROCESS, [_endpoint(pki)])])
    smp.serve(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), sign(root, pki.smp))
    assert (await _lookup(client, smp)).found


# --- signatures -----------------------------------------------------------------------------------


def _signed_bytes(pki: SmpPki, fmt: SmpFormat = SmpFormat.PEPPOL) -> bytes:
    return sign(_metadata(fmt, [_endpoint(pki)]), pki.smp)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_one_changed_byte_in_the_endpoint_url_is_refused(
    fmt: SmpFormat, smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    body = _signed_bytes(pki, fmt)
    assert body.count(b"ap.example.test") == 1
    path = metadata_path(PREFIX, PARTICIPANT, DOCTYPE, fmt)
    smp.serve(path, body.replace(b"ap.example.test", b"ap.examplf.test"))
    with pytest.raises(SmpRefused) as refused:
        await _lookup(client, smp, fmt)
    assert refused.value.reason is RefusalReason.SIGNATURE_INVALID
    assert refused.value.steps and "refused" in str(refused.value.steps[-1])


def _evil_endpoint_xml() -> bytes:
    return (
        b'<smp:Endpoint transportProfile="peppol-transport-as4-v2_0"><wsa:EndpointReference>'
        b"<wsa:Address>https://evil.example.test/as4</wsa:Address></wsa:EndpointReference>"
        b"<smp:Certificate>AAAA</smp:Certificate></smp:Endpoint>"
    )


@pytest.mark.parametrize("variant", ["endpoint-before", "second-metadata", "signature-wrapped"])
async def test_signature_wrapping_is_never_used(
    variant: str, smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    body = _signed_bytes(pki)
    if variant == "endpoint-before":
        body = body.replace(b"<smp:ServiceEndpointList>", b"<smp:ServiceEndpointList>" + _evil_endpoint_xml())
    elif variant == "second-metadata":
        evil = etree.tostring(
            classic_metadata(SmpFormat.PEPPOL, PARTICIPANT, DOCTYPE, [ProcessSpec(PROCESS, [])])[0]
        ).replace(
            b"<smp:ServiceEndpointList/>",
            b"<smp:ServiceEndpointList>" + _evil_endpoint_xml() + b"</smp:ServiceEndpointList>",
        )
        body = body.replace(b"<smp:ServiceMetadata>", evil + b"<smp:ServiceMetadata>", 1)
    else:
        # The whole genuine document, signature and all, tucked inside a forged one.
        original = etree.fromstring(body)
        forged = classic_metadata(SmpFormat.PEPPOL, PARTICIPANT, DOCTYPE, [ProcessSpec(PROCESS, [])])
        forged[0].append(original)
        body = etree.tostring(forged).replace(
            b"<smp:ServiceEndpointList/>",
            b"<smp:ServiceEndpointList>" + _evil_endpoint_xml() + b"</smp:ServiceEndpointList>",
            1,
        )
    assert b"evil.example.test" in body
    smp.serve(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), body)
    with pytest.raises(SmpRefused) as refused:
        await _lookup(client, smp)
    assert refused.value.reason in {
        RefusalReason.SIGNATURE_INVALID,
        RefusalReason.SIGNATURE_MISSING,
        RefusalReason.INVALID_DOCUMENT,
    }


async def test_only_the_signed_bytes_are_read(smp: SmpServer, client: SmpClient, pki: SmpPki) -> None:
    """A comment added after signing leaves C14N (and the signature) intact but splits the text node;
    the received tree would yield a truncated URL, the signed XML the real one."""
    body = _signed_bytes(pki).replace(b"https://ap.example.test/as4", b"https://ap.example.test<!--x-->/as4")
    tree = etree.fromstring(body)
    naive = tree.find(".//{http://www.w3.org/2005/08/addressing}Address")
    assert naive is not None and naive.text == "https://ap.example.test"
    smp.serve(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), body)
    result = await _lookup(client, smp)
    assert result.endpoint is not None and result.endpoint.url == AP_URL


async def test_signer_from_a_foreign_ca_is_refused(smp: SmpServer, client: SmpClient, pki: SmpPki) -> None:
    path = _publish(smp, pki, signer=pki.foreign_smp)
    with pytest.raises(SmpRefused) as refused:
        await _lookup(client, smp)
    assert refused.value.reason is RefusalReason.SIGNER_UNTRUSTED
    assert "certificate-untrusted" in str(refused.value)
    await _lookup_again_is_not_cached(client, smp, path)


async def _lookup_again_is_not_cached(client: SmpClient, smp: SmpServer, path: str) -> None:
    with pytest.raises(SmpRefused):
        await _lookup(client, smp)
    assert smp.hits[path] == 2


async def test_unsigned_answer_is_refused_when_a_signature_is_required(
    smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    unsigned = etree.tostring(_metadata(SmpFormat.PEPPOL, [_endpoint(pki)]))
    smp.serve(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), unsigned)
    with pytest.raises(SmpRefused) as refused:
        await _lookup(client, smp)
    assert refused.value.reason is RefusalReason.SIGNATURE_MISSING


async def test_malformed_xml_is_refused(smp: SmpServer, client: SmpClient) -> None:
    path = metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL)
    smp.serve(path, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(SmpRefused) as refused:
        await _lookup(client, smp)
    assert refused.value.reason is RefusalReason.MALFORMED


# --- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [SmpFormat.PEPPOL, SmpFormat.BDXR2])
async def test_smp_redirect_is_followed_once(
    fmt: SmpFormat, smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    target_path = "/other-smp/metadata"
    smp.serve(target_path, sign(_metadata(fmt, [_endpoint(pki)]), pki.other_smp))
    if fmt is SmpFormat.BDXR2:
        redirect = bdxr2_metadata(
            PARTICIPANT, DOCTYPE, [], redirect=(smp.url(target_path), pki.other_smp.certificate)
        )
    else:
        redirect = classic_redirect(
            fmt, smp.url(target_path), pki.other_smp.certificate.subject.rfc4514_string()
        )
    smp.serve(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, fmt), sign(redirect, pki.smp))
    result = await _lookup(client, smp, fmt)
    assert result.found and result.endpoint is not None
    assert result.smp_url == smp.url(target_path)
    assert result.signature is not None and "PSM000002" in (result.signature.signer_subject or "")
    assert len(result.steps) == 2


async def test_smp_redirect_signed_by_someone_else_is_refused(
    smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    smp.serve("/other-smp/metadata", sign(_metadata(SmpFormat.PEPPOL, [_endpoint(pki)]), pki.smp))
    redirect = classic_redirect(
        SmpFormat.PEPPOL, smp.url("/other-smp/metadata"), pki.other_smp.certificate.subject.rfc4514_string()
    )
    smp.serve(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), sign(redirect, pki.smp))
    with pytest.raises(SmpRefused) as refused:
        await _lookup(client, smp)
    assert refused.value.reason is RefusalReason.REDIRECT_SIGNER_MISMATCH


async def test_smp_redirect_loop_is_refused(smp: SmpServer, client: SmpClient, pki: SmpPki) -> None:
    home = metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL)
    uid = pki.smp.certificate.subject.rfc4514_string()
    smp.serve(home, sign(classic_redirect(SmpFormat.PEPPOL, smp.url("/b"), uid), pki.smp))
    smp.serve("/b", sign(classic_redirect(SmpFormat.PEPPOL, smp.url(home), uid), pki.smp))
    with pytest.raises(SmpRefused) as refused:
        await _lookup(client, smp)
    assert refused.value.reason is RefusalReason.REDIRECT_LOOP
    assert smp.hits[home] == 1 and smp.hits["/b"] == 1


async def test_http_redirect_is_followed_and_a_loop_refused(
    smp: SmpServer, client: SmpClient, pki: SmpPki
) -> None:
    real = "/moved" + metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL)
    smp.serve(real, _signed_bytes(pki))
    smp.redirect(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), smp.url(real), 301)
    result = await _lookup(client, smp)
    assert result.found and [s.status for s in result.steps] == [301, 200]

    smp.redirect(metadata_path("/loop", PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), "/x")
    smp.redirect("/x", metadata_path("/loop", PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL))
    with pytest.raises(SmpRefused) as refused:
        await client.lookup(smp.url("/loop"), PARTICIPANT, DOCTYPE, PROCESS)
    assert refused.value.reason is RefusalReason.REDIRECT_LOOP


# --- limits and failures --------------------------------------------------------------------------


async def test_endless_answer_is_cut_at_the_limit(smp: SmpServer, pki: SmpPki) -> None:
    limit = 256 * 1024
    smp.endless(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL))
    async with SmpClient(pki.smp_trust(), _config(max_response_bytes=limit)) as small:
        with pytest.raises(SmpRefused) as refused:
            await _lookup(small, smp)
    assert refused.value.reason is RefusalReason.OVERSIZE
    read = refused.value.steps[-1]
    assert limit < read.bytes <= limit + 64 * 1024  # type: ignore[attr-defined]
    assert smp.streamed < 16 * 1024 * 1024  # the server could not push its 64 MiB


async def test_declared_oversize_is_refused_before_reading(smp: SmpServer, pki: SmpPki) -> None:
    smp.serve(
        metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), b"<x>" + b" " * 300_000 + b"</x>"
    )
    async with SmpClient(pki.smp_trust(), _config(max_response_bytes=100_000)) as small:
        with pytest.raises(SmpRefused) as refused:
            await _lookup(small, smp)
    assert refused.value.reason is RefusalReason.OVERSIZE
    assert refused.value.steps[-1].bytes == 0  # type: ignore[attr-defined]


async def test_slow_smp_is_a_retryable_timeout(smp: SmpServer, client: SmpClient) -> None:
    smp.sleep(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), 1.5)
    started = time.monotonic()
    with pytest.raises(SmpUnavailable):
        await _lookup(client, smp)
    assert time.monotonic() - started < 1.4


@pytest.mark.parametrize("status", [503, 500, 429])
async def test_server_errors_are_retryable(status: int, smp: SmpServer, client: SmpClient) -> None:
    smp.status(metadata_path(PREFIX, PARTICIPANT, DOCTYPE, SmpFormat.PEPPOL), status)
    with pytest.raises(SmpUnavailable) as failed:
        await _lookup(client, smp)
    assert failed.value.steps[-1].status == status  # type: ignore[attr-defined]


async def test_refused_connection_is_retryable(client: SmpClient) -> None:
    server, runner = await start_smp_server()
    url = server.url(PREFIX)
    await runner.cleanup()
    with pytest.raises(SmpUnavailable):
        await client.lookup(url, PARTICIPANT, DOCTYPE, PROCESS)


async def test_verified_answers_and_404s_are_cached(smp: SmpServer, client: SmpClient, pki: SmpPki) -> None:
    path = _publish(smp, pki)
    first = await _lookup(client, smp)
    second = await _lookup(client, smp)
    assert first.found and second.found
    assert smp.hits[path] == 1
    assert second.steps[0].verdict == "cached"

    nobody = participant("0192:123456785")
    for _ in range(2):
        result = await client.lookup(smp.url(PREFIX), nobody, DOCTYPE, PROCESS)
        assert result.outcome is LookupOutcome.PARTICIPANT_NOT_REGISTERED
    assert smp.hits[metadata_path(PREFIX, nobody, DOCTYPE, SmpFormat.PEPPOL)] == 1


async def test_cache_lifetime_is_configurable(smp: SmpServer, pki: SmpPki) -> None:
    path = _publish(smp, pki)
    async with SmpClient(pki.smp_trust(), _config(cache_seconds=0)) as uncached:
        await _lookup(uncached, smp)
        await _lookup(uncached, smp)
    assert smp.hits[path] == 2


# --- real SMP answers (shared corpus) -------------------------------------------------------------


@pytest.fixture(scope="module")
def smp_corpus(corpus: Path) -> Path:
    return corpus / "as4" / "smp"


def _accept(certificate: x509.Certificate, chain: object) -> None:
    return None


@pytest.mark.parametrize("name", ["2", "3-c14n-inclusive"])
def test_real_signed_answers_verify(name: str, smp_corpus: Path, corpus: Path) -> None:
    data = (smp_corpus / f"peppol-commons_signed-service-metadata{name}.xml").read_bytes()
    with pytest.raises(SmpRefused) as refused:
        read_document(data, at=dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    assert refused.value.reason is RefusalReason.SIGNATURE_ALGORITHM  # RSA-SHA1 needs the legacy flag

    read = read_document(data, allow_sha1=True, at=dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    assert read.signer is not None and "PEPPOL PRODUCTION SMP" in read.signer.subject
    assert read.signer.algorithm.endswith("rsa-sha1")
    _accept(read.signer.certificate, read.signer.chain)
    # The signer chains to the real G2 SMP CA (checked at a time the certificates were valid).
    pki_dir = corpus / "as4" / "pki"
    root = load_certificates((pki_dir / "2018_Peppol_Root_CA.cer").read_bytes())[0]
    smp_ca = load_certificates((pki_dir / "2018_Peppol_ServiceMetadataPublisher_CA.cer").read_bytes())[0]
    trust = AnchorTrust(
        anchors=(root,), intermediates=(smp_ca,), at=dt.datetime(2019, 6, 1, tzinfo=dt.UTC), check_party=False
    )
    trust(read.signer.certificate, read.signer.chain, None)


def test_reindented_real_answer_fails(smp_corpus: Path) -> None:
    data = (smp_corpus / "peppol-commons_signed-service-metadata1.xml").read_bytes()
    with pytest.raises(SmpRefused) as refused:
        read_document(data, allow_sha1=True, at=dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    assert refused.value.reason is RefusalReason.SIGNATURE_INVALID


def test_real_answer_yields_its_as4_endpoint(smp_corpus: Path) -> None:
    data = (smp_corpus / "peppol-commons_signed-service-metadata3-c14n-inclusive.xml").read_bytes()
    at = dt.datetime(2019, 6, 1, tzinfo=dt.UTC)
    metadata = read_document(data, allow_sha1=True, at=at).document
    assert isinstance(metadata, ServiceMetadata) and metadata.participant is not None
    assert metadata.participant.value == "0106:55872255"
    choice = choose_endpoint(metadata, process("urn:www.cenbii.eu:profile:bii04:ver1.0"), at=at)
    assert choice.outcome is LookupOutcome.FOUND and choice.endpoint is not None
    assert choice.endpoint.address == "https://ap.econnect.eu/as4/v1"
    assert "PEPPOL ACCESS POINT CA - G2" in choice.endpoint.load_certificate().issuer.rfc4514_string()
    later = choose_endpoint(
        metadata, process("urn:www.cenbii.eu:profile:bii04:ver1.0"), at=dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    )
    assert later.outcome is LookupOutcome.SERVICE_EXPIRED


def test_unsigned_real_answer_parses_but_is_refused_when_signature_required(smp_corpus: Path) -> None:
    data = (smp_corpus / "phoss-smp_peppol-service-metadata-unsigned.xml").read_bytes()
    read = read_document(data, require_signature=False)
    assert read.signer is None
    assert isinstance(read.document, ServiceMetadata)
    assert read.document.document_type is not None and "billing:3.0" in read.document.document_type.value
    [endpoint] = read.document.processes[0].endpoints
    assert endpoint.address == "http://test.smpserver/as4"
    with pytest.raises(SmpRefused) as bad_cert:
        endpoint.load_certificate()  # "blacert" placeholder text
    assert bad_cert.value.reason is RefusalReason.INVALID_ENDPOINT
    with pytest.raises(SmpRefused) as refused:
        read_document(data)
    assert refused.value.reason is RefusalReason.SIGNATURE_MISSING
