"""Mail composition, sending and signing against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import email
from collections.abc import Iterator
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from accesspoint.config import Config, DistributionConfig, SmtpConfig
from distribution.mail.address import Sender, SenderMissing, resolve_sender
from distribution.mail.compose import compose, message_id_for
from distribution.mail.deliver import serialise
from distribution.mail.dkim import DkimError, DkimSigner
from distribution.mail.smtp import SmtpFailure, send_raw
from distribution.methods.base import AttachmentFile
from tests.distribution.smtp_server import REJECTED, SmtpServer, free_port, running_smtp_server

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
CSV = "dato;beløp\n2025-01-01;12,50\n".encode()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
FILES = (
    AttachmentFile("Faktura-10045.pdf", "application/pdf", PDF),
    AttachmentFile("timeliste æøå.csv", "text/csv", CSV),
    AttachmentFile("logo.png", "image/png", PNG),
)
SENDER = Sender("faktura@gateway.example", "Acme AS", reply_to="post@acme.example")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


def smtp_config(server: SmtpServer | None = None, **extra: object) -> SmtpConfig:
    host, port = (server.host, server.port) if server else ("127.0.0.1", free_port())
    return SmtpConfig(host=host, port=port, security="none", timeout_seconds=5, **extra)  # type: ignore[arg-type]


def message(attempt_key: str = "attempt-1") -> bytes:
    composed = compose(
        sender=SENDER,
        recipients=["kunde@example.no"],
        subject="Faktura 10045 fra Acme AS",
        message_id=message_id_for(attempt_key, SENDER.domain),
        files=FILES,
        text="Hei Kari,\nvedlagt er faktura 10045.\n",
        html="<p>Hei Kari,</p><p>vedlagt er faktura 10045.</p>",
    )
    return serialise(composed, Config())


def test_tenant_sender_is_from_only_on_an_allowed_domain() -> None:
    allowed = DistributionConfig(
        sender="Gateway <noreply@gateway.example>", allowed_sender_domains=("Acme.example",)
    )
    own = resolve_sender(allowed, "faktura@acme.example", "Acme AS")
    assert (own.address, own.reply_to, own.display_name) == ("faktura@acme.example", None, "Acme AS")
    other = resolve_sender(allowed, "faktura@elsewhere.example", "Acme AS")
    assert (other.address, other.reply_to) == ("noreply@gateway.example", "faktura@elsewhere.example")
    assert other.from_header == "Acme AS <noreply@gateway.example>"
    none_set = resolve_sender(allowed, None, "Acme AS")
    assert (none_set.address, none_set.reply_to) == ("noreply@gateway.example", None)


def test_no_sender_is_a_clear_error() -> None:
    with pytest.raises(SenderMissing, match=r"distribution\.sender"):
        resolve_sender(DistributionConfig(), "faktura@acme.example", "Acme AS")
    # the tenant's own address on an allowed domain needs no gateway sender
    allowed_only = DistributionConfig(allowed_sender_domains=("acme.example",))
    assert resolve_sender(allowed_only, "faktura@acme.example", "Acme").address == "faktura@acme.example"


def test_message_has_alternatives_then_byte_identical_attachments_in_order() -> None:
    from email import policy
    from email.parser import BytesParser

    parsed = BytesParser(policy=policy.default).parsebytes(message())
    assert parsed["From"] == "Acme AS <faktura@gateway.example>"
    assert parsed["Reply-To"] == "post@acme.example"
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert body is not None and "vedlagt er faktura 10045" in body.get_content()
    assert html is not None and "<p>Hei Kari,</p>" in html.get_content()
    attachments = list(parsed.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        (f.filename, f.mime_type) for f in FILES
    ]
    assert [a.get_payload(decode=True) for a in attachments] == [f.content for f in FILES]


def test_message_id_is_stable_per_attempt_key() -> None:
    first, again, other = (message_id_for(key, "gateway.example") for key in ("k-1", "k-1", "k-2"))
    assert first == again != other
    assert first.startswith("<") and first.endswith("@gateway.example>")
    assert f"Message-ID: {first}".encode() in message("k-1")


async def test_send_reaches_the_server_as_sent(smtp_server: SmtpServer) -> None:
    raw = message()
    accepted = await send_raw(
        raw, sender=SENDER.address, recipients=["kunde@example.no"], smtp=smtp_config(smtp_server)
    )
    assert accepted.reply.startswith("250") and "queued as 1" in accepted.reply
    assert accepted.refused == {}
    [received] = smtp_server.messages
    assert (received.mail_from, received.rcpt_tos) == (SENDER.address, ["kunde@example.no"])
    assert received.raw.rstrip(b"\r\n") == raw.rstrip(b"\r\n")


async def test_4xx_is_transient_and_the_next_try_goes_through(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(1)
    config = smtp_config(smtp_server)
    with pytest.raises(SmtpFailure) as failure:
        await send_raw(message(), sender=SENDER.address, recipients=["kunde@example.no"], smtp=config)
    assert (failure.value.permanent, failure.value.code) == (False, 451)
    assert failure.value.reply is not None and "Try again later" in failure.value.reply
    await send_raw(message(), sender=SENDER.address, recipients=["kunde@example.no"], smtp=config)
    assert len(smtp_server.messages) == 1


async def test_5xx_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(1, REJECTED)
    with pytest.raises(SmtpFailure) as failure:
        await send_raw(
            message(), sender=SENDER.address, recipients=["kunde@example.no"], smtp=smtp_config(smtp_server)
        )
    assert (failure.value.permanent, failure.value.code) == (True, 554)
    assert smtp_server.messages == []


async def test_connection_refused_is_transient() -> None:
    with pytest.raises(SmtpFailure) as failure:
        await send_raw(message(), sender=SENDER.address, recipients=["kunde@example.no"], smtp=smtp_config())
    assert failure.value.permanent is False
    assert "cannot talk to the SMTP server" in failure.value.reason


async def test_silent_server_times_out_as_transient() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # never greets

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = SmtpConfig(host="127.0.0.1", port=port, security="none", timeout_seconds=1)
    try:
        with pytest.raises(SmtpFailure) as failure:
            await asyncio.wait_for(
                send_raw(message(), sender=SENDER.address, recipients=["kunde@example.no"], smtp=config), 10
            )
    finally:
        server.close()
    assert failure.value.permanent is False


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_tls_and_auth(tmp_path: Path, security: Literal["starttls", "tls"]) -> None:
    with running_smtp_server(
        tls=security, certificate_dir=tmp_path, credentials=("acme", "s3cret")
    ) as server:
        config = SmtpConfig(
            host=server.host,
            port=server.port,
            security=security,
            username="acme",
            password="s3cret",
            timeout_seconds=5,
        )
        await send_raw(
            message(),
            sender=SENDER.address,
            recipients=["a@example.no"],
            smtp=config,
            tls_context=server.client_tls_context(),
        )
        assert len(server.messages) == 1
        bad = SmtpConfig(
            host=server.host,
            port=server.port,
            security=security,
            username="acme",
            password="nope",
            timeout_seconds=5,
        )
        with pytest.raises(SmtpFailure) as failure:
            await send_raw(
                message(),
                sender=SENDER.address,
                recipients=["a@example.no"],
                smtp=bad,
                tls_context=server.client_tls_context(),
            )
        assert failure.value.permanent is True and failure.value.code == 535
        assert len(server.messages) == 1


async def test_tls_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    with running_smtp_server(tls="tls", certificate_dir=tmp_path) as server:
        config = SmtpConfig(host=server.host, port=server.port, security="tls", timeout_seconds=5)
        with pytest.raises(SmtpFailure) as failure:
            await send_raw(message(), sender=SENDER.address, recipients=["a@example.no"], smtp=config)
        assert failure.value.permanent is False  # the system trust store does not know our test CA
        assert server.messages == []


def _rsa_key(path: Path) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


async def test_dkim_signature_verifies_after_the_trip(smtp_server: SmtpServer, tmp_path: Path) -> None:
    key_path = tmp_path / "dkim.pem"
    record = _rsa_key(key_path)
    smtp = smtp_config(smtp_server, dkim_domain="gateway.example", dkim_selector="ehf2025", dkim_key=key_path)
    composed = compose(
        sender=SENDER,
        recipients=["kunde@example.no"],
        subject="Faktura 10045 – Acme AS",
        message_id=message_id_for("k", SENDER.domain),
        files=FILES,
        text="Hei\n",
        html="<p>Hei</p>",
    )
    raw = serialise(composed, Config(smtp=smtp))
    assert raw.startswith(b"DKIM-Signature:")
    await send_raw(raw, sender=SENDER.address, recipients=["kunde@example.no"], smtp=smtp)
    received = smtp_server.messages[0].raw
    asked: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record.encode()

    assert dkim.verify(received, dnsfunc=dns) is True
    assert asked == [b"ehf2025._domainkey.gateway.example."]
    tampered = received.replace(b"Faktura 10045", b"Faktura 99999", 1)
    assert dkim.verify(tampered, dnsfunc=dns) is False
    body_start = received.index(b"\r\n\r\n")
    altered = received[: body_start + 4] + received[body_start + 4 :].replace(b"Hei", b"Hai", 1)
    assert dkim.verify(altered, dnsfunc=dns) is False


def test_unusable_dkim_keys_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    ed = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "ed.pem").write_bytes(
        ed.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    for name, expected in (("bad.pem", "cannot read"), ("ed.pem", "RSA"), ("missing.pem", "cannot be read")):
        with pytest.raises(DkimError, match=expected):
            DkimSigner("gateway.example", "s", tmp_path / name).sign(message())


# ----------------------------------------------------------------- the message as written by compose()

NORWEGIAN = Sender(
    "faktura@gateway.example",
    "Bjørn Åsheim Regnskap og Revisjon AS, avdeling Trøndelag",
    reply_to="post@acme.example",
)
LONG_LINE = "Beløpet gjelder " + "timer og reiser i prosjektet Ærfugl " * 6


def well_formed(raw: bytes) -> EmailMessage:
    """CRLF line ends only, no line over 78 octets, ASCII headers, and a parse without defects."""
    assert b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert [part.defects for part in parsed.walk()] == [[] for _ in parsed.walk()]
    return parsed


def composed(**overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "sender": SENDER,
        "recipients": ["kunde@example.no"],
        "subject": "Faktura 10045 fra Acme AS",
        "message_id": message_id_for("attempt-1", SENDER.domain),
        "files": FILES,
        "text": "Hei Kari,\nvedlagt er faktura 10045.\n",
        "html": "<p>Hei Kari,</p>",
        "sent_at": 1750000000.0,
    }
    return serialise(compose(**{**arguments, **overrides}), Config())


def test_non_ascii_subject_name_and_filenames_round_trip_encoded() -> None:
    subject = "Faktura 10045 fra Leverandør ÆØÅ AS – " + " ".join(["påminnelse om betaling"] * 4)
    files = (
        AttachmentFile("Faktura-" + "æøå" * 30 + ".pdf", "application/pdf", PDF),
        AttachmentFile("timeliste æøå.csv", "text/csv", CSV),
        AttachmentFile("Vedlegg-" + "x" * 120 + ".pdf", "application/pdf", b""),
        AttachmentFile('rapport "mars".pdf', "application/pdf", PNG),
    )
    raw = composed(sender=NORWEGIAN, subject=subject, files=files)
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]  # RFC 2047 encoded words, folded
    parsed = well_formed(raw)
    assert parsed["Subject"] == subject
    # RFC 2047 decoding of the folded name: policy.default's address parser puts a space between the
    # encoded words (CPython gh-128110), which readers must not (RFC 2047 6.2), so decode it as they do
    from_field = email.message_from_bytes(raw)["From"]
    assert str(make_header(decode_header(from_field))) == f"{NORWEGIAN.display_name} <{NORWEGIAN.address}>"
    assert parsed["Reply-To"] == "post@acme.example"
    attachments = list(parsed.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f.filename for f in files]
    assert [a.get_payload(decode=True) for a in attachments] == [f.content for f in files]


def test_same_content_as_the_standard_library_builds() -> None:
    """What compose() writes parses to what ``EmailMessage`` + ``policy.SMTP`` made of the same input."""

    def stdlib(sender: Sender, subject: str, text: str | None, html: str | None) -> bytes:
        built = EmailMessage(policy=policy.SMTP)
        built["From"], built["To"], built["Subject"] = sender.from_header, "kunde@example.no", subject
        if sender.reply_to:
            built["Reply-To"] = sender.reply_to
        if text is not None:
            built.set_content(text)
            if html is not None:
                built.add_alternative(html, subtype="html")
        elif html is not None:
            built.set_content(html, subtype="html")
        for file in FILES:
            maintype, subtype = file.mime_type.split("/")
            built.add_attachment(file.content, maintype=maintype, subtype=subtype, filename=file.filename)
        return built.as_bytes()

    def content(raw: bytes) -> list[Any]:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        heads = [str(parsed[name]) for name in ("From", "To", "Reply-To", "Subject")]
        parts = [
            (part.get_content_type(), part.get_filename(), part.get_content())
            for part in parsed.walk()
            if not part.is_multipart()
        ]
        return [heads, parts]

    for sender, subject, text, html in (
        (SENDER, "Faktura 10045 fra Acme AS", "Hei\n", "<p>Hei</p>"),
        (NORWEGIAN, "Faktura 10045 fra Leverandør AS", f"Hei Kåre,\n{LONG_LINE}\n", f"<p>{LONG_LINE}</p>"),
        (SENDER, "Kreditnota 77", None, None),
        (SENDER, "Faktura 1", "bare tekst\r\nmed CRLF", None),
        (SENDER, "Faktura 1", None, "<p>bare HTML</p>"),
    ):
        raw = composed(sender=sender, subject=subject, text=text, html=html)
        well_formed(raw)
        assert content(raw) == content(stdlib(sender, subject, text, html)), subject


def test_bodies_are_7bit_8bit_or_quoted_printable_as_lines_require() -> None:
    parsed = well_formed(composed(text="Hei Kåre,\n", html=f"<p>{LONG_LINE}</p>\n", files=()))
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = parsed.iter_parts()
    assert (plain["Content-Transfer-Encoding"], plain.get_content()) == ("8bit", "Hei Kåre,\r\n")
    assert (html["Content-Transfer-Encoding"], html.get_content()) == (
        "quoted-printable",
        f"<p>{LONG_LINE}</p>\r\n",
    )
    only_text = well_formed(composed(html=None, files=()))
    assert (only_text.get_content_type(), only_text["Content-Transfer-Encoding"]) == ("text/plain", "7bit")
    printer = well_formed(composed(text=None, html=None))
    assert printer.get_content_type() == "multipart/mixed"
    assert [part.get_content_disposition() for part in printer.iter_parts()] == ["attachment"] * len(FILES)


def test_a_boundary_found_in_the_text_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["a" * 32, "b" * 32, "c" * 32])
    monkeypatch.setattr("distribution.mail.compose.secrets.token_hex", lambda _size: next(drawn))
    text = f"--=_{'a' * 32}\nno part starts here\n"
    parsed = well_formed(composed(text=text, html=None, files=FILES[:1]))
    assert parsed.get_boundary() == "=_" + "b" * 32
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content() == text.replace("\n", "\r\n")


def test_container_and_malformed_types_go_as_octet_stream() -> None:
    files = (
        AttachmentFile("a.eml", "message/rfc822", b"Subject: x\r\n\r\nhei\r\n"),
        AttachmentFile("b.bin", "multipart/mixed", b"\x00\x01"),
        AttachmentFile("c.txt", "Text/Plain; charset=latin-1", "blåbær".encode("latin-1")),
        AttachmentFile("d.bin", "application/x y", b"\xff"),
    )
    parsed = well_formed(composed(files=files))
    attachments = list(parsed.iter_attachments())
    assert [a.get_content_type() for a in attachments] == [
        "application/octet-stream",
        "application/octet-stream",
        "text/plain",
        "application/octet-stream",
    ]
    assert [a.get_payload(decode=True) for a in attachments] == [f.content for f in files]


@pytest.mark.parametrize("field", ["subject", "name"])
def test_a_line_break_in_a_header_value_is_refused(field: str) -> None:
    injected = "Faktura 1\r\nBcc: alle@example.no"
    with pytest.raises(ValueError):
        if field == "subject":
            composed(subject=injected)
        else:
            composed(sender=Sender("faktura@gateway.example", injected))
