"""The print-provider client and callback signatures, against the loopback provider of our contract."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from distribution.print.address import Recipient
from distribution.print.provider import (
    JobStatus,
    PermanentProviderError,
    PrintJob,
    PrintProvider,
    TransientProviderError,
)
from distribution.print.signature import SignatureError, sign, verify
from tests.distribution.print_provider_server import CONTRACT, REQUEST, STATUS, PrintProviderServer
from tests.distribution.test_printfile import pdf_pages

KARI = Recipient("Kari Nordmann", ("Storgata 1",), "0155", "Oslo", None)


def job(key: str = "attempt-1", pdf: bytes | None = None) -> PrintJob:
    return PrintJob(
        reference="inv-1",
        idempotency_key=key,
        pdf=pdf if pdf is not None else pdf_pages("Faktura"),
        recipient=KARI,
        return_address=Recipient("Acme AS", ("Postboks 1",), "0101", "Oslo", None),
        post_class="A",
        callback_url="http://127.0.0.1:9/callbacks/print",
    )


@pytest.fixture
async def provider() -> AsyncIterator[PrintProviderServer]:
    server = PrintProviderServer()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def client(session: aiohttp.ClientSession, server: PrintProviderServer, **options: float) -> PrintProvider:
    return PrintProvider(session, server.url, server.api_key, **options)  # type: ignore[arg-type]


async def test_submit_makes_a_job_the_contract_accepts(
    provider: PrintProviderServer, session: aiohttp.ClientSession
) -> None:
    status = await client(session, provider).submit(job())
    assert (status.status, status.reference) == ("accepted", "inv-1")
    made = provider.jobs[status.job_id]
    assert made.request["post_class"] == "A" and made.request["duplex"] is True
    assert made.request["recipient"]["country"] == "NO"
    assert made.pages == 1


async def test_same_idempotency_key_answers_the_same_job(
    provider: PrintProviderServer, session: aiohttp.ClientSession
) -> None:
    api = client(session, provider)
    once = job()
    first, second = await api.submit(once), await api.submit(once)
    assert first.job_id == second.job_id and len(provider.jobs) == 1
    with pytest.raises(PermanentProviderError, match="409"):
        await api.submit(job(pdf=pdf_pages("another letter")))  # same key, other body
    third = await api.submit(job("attempt-2"))
    assert third.job_id != first.job_id and len(provider.jobs) == 2


async def test_status_follows_the_job(provider: PrintProviderServer, session: aiohttp.ClientSession) -> None:
    api = client(session, provider)
    made = await api.submit(job())
    for state in ("printed", "dispatched"):
        provider.move(made.job_id, state)
        assert (await api.status(made.job_id)).status == state
    provider.move(made.job_id, "returned", "addressee unknown")
    returned = await api.status(made.job_id)
    assert (returned.status, returned.reason) == ("returned", "addressee unknown")


async def test_5xx_and_429_are_transient(
    provider: PrintProviderServer, session: aiohttp.ClientSession
) -> None:
    api = client(session, provider)
    for code in (500, 503, 429, 408):
        provider.failures.append(code)
        with pytest.raises(TransientProviderError) as caught:
            await api.submit(job())
        assert caught.value.status == code and not caught.value.permanent
    assert provider.jobs == {}


async def test_4xx_is_permanent_with_the_providers_words(
    provider: PrintProviderServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PermanentProviderError) as caught:
        await client(session, provider).submit(job(pdf=b"%PDF-1.4 not a pdf"))
    assert caught.value.status == 422 and caught.value.permanent
    assert "the PDF cannot be read" in caught.value.reason
    with pytest.raises(PermanentProviderError) as unknown:
        await client(session, provider).status("job-404")
    assert unknown.value.status == 404


async def test_wrong_api_key_is_permanent(
    provider: PrintProviderServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PermanentProviderError, match="401"):
        await PrintProvider(session, provider.url, "not-the-key").submit(job())


async def test_timeout_and_refused_connection_are_transient(
    provider: PrintProviderServer, session: aiohttp.ClientSession
) -> None:
    provider.delay = 2.0
    started = time.monotonic()
    with pytest.raises(TransientProviderError, match=r"did not answer within 0\.2 s"):
        await client(session, provider, timeout_seconds=0.2).submit(job())
    assert time.monotonic() - started < 1.5
    await provider.close()
    with pytest.raises(TransientProviderError, match="cannot reach"):
        await client(session, provider).status("job-1")


async def test_answers_are_read_with_a_limit(
    provider: PrintProviderServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(TransientProviderError, match="larger than 40 bytes"):
        await client(session, provider, max_response_bytes=40).submit(job())


def test_job_status_parsing_refuses_what_the_contract_does_not_allow() -> None:
    good = {"job_id": "j", "status": "printed", "reason": None, "updated_at": "2025-01-01T00:00:00Z"}
    assert JobStatus.from_json(good).status == "printed"
    bad: Any
    for bad in (
        {"job_id": "j", "status": "lost"},
        {"status": "printed"},
        [],
        {"job_id": "j", "status": "failed", "reason": 3},
    ):
        with pytest.raises(ValueError):
            JobStatus.from_json(bad)


def test_contract_document_and_client_agree() -> None:
    document = json.loads(Path(CONTRACT).read_text())
    assert document["openapi"].startswith("3.1")
    assert {"/jobs", "/jobs/{job_id}"} <= set(document["paths"])
    assert "jobStatus" in document["webhooks"]
    foreign = PrintJob("inv", "k", b"%PDF", Recipient("Sven", ("Hovedgatan 32",), None, None, "SE"))
    assert REQUEST.is_valid(foreign.to_json())
    assert not REQUEST.is_valid({**foreign.to_json(), "color": "RAINBOW"})
    assert STATUS.is_valid(JobStatus("j", "dispatched", None, None, "inv").to_json())


def test_signature_round_trip_and_refusals() -> None:
    body = b'{"job_id":"j","status":"printed"}'
    now = 1_750_000_000
    header = sign("secret", body, now)
    verify("secret", body, header, now=now + 10)
    verify("secret", body, f"{header},v1={'0' * 64}", now=now)  # a second signature during key rotation
    refusals = {
        "does not match": ("other-secret", body, header, now),
        "does not match ": ("secret", body + b" ", header, now),
        "outside": ("secret", body, header, now + 301),
        "outside ": ("secret", body, header, now - 301),
        "missing": ("secret", body, None, now),
        "must be": ("secret", body, "v1=abc", now),
        "must be ": ("secret", body, f"t=x,{header.split(',')[1]}", now),
    }
    for expected, (key, payload, value, at) in refusals.items():
        with pytest.raises(SignatureError, match=expected.strip()):
            verify(key, payload, value, now=at)
