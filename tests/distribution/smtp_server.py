"""A real SMTP server on 127.0.0.1 for the mail tests: aiosmtpd's ``Controller`` in its own thread.

The handler keeps every message it accepts exactly as received (``raw`` bytes, envelope sender and
recipients) and can be told to answer the next N messages with a 4xx or 5xx reply. Optional STARTTLS
or implicit TLS (with a throw-away certificate for 127.0.0.1) and AUTH with one user.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
TEMPORARY = "451 4.3.0 Try again later"
REJECTED = "554 5.7.1 Message rejected"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler:
    messages: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # replies given instead of accepting
    _failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, count: int, reply: str = TEMPORARY) -> None:
        """Answer the next ``count`` messages with ``reply`` (e.g. ``451 ...`` or ``554 ...``)."""
        with self._lock:
            self._failures.extend([reply] * count)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._failures:
                reply = self._failures.pop(0)
                self.refused.append(reply)
                return reply
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
            return f"250 2.0.0 Ok: queued as {len(self.messages)}"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
    ca_pem: bytes | None = None  # the certificate clients must trust when TLS is on

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def fail_next(self, count: int, reply: str = TEMPORARY) -> None:
        self.handler.fail_next(count, reply)

    def client_tls_context(self) -> ssl.SSLContext:
        assert self.ca_pem is not None
        return ssl.create_default_context(cadata=self.ca_pem.decode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def self_signed(directory: Path) -> tuple[Path, Path, bytes]:
    """A certificate for 127.0.0.1 and its key, as files; returns (cert, key, cert PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path, pem


def _authenticator(username: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == username.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def running_smtp_server(
    *,
    tls: Literal["none", "starttls", "tls"] = "none",
    certificate_dir: Path | None = None,
    credentials: tuple[str, str] | None = None,
) -> Iterator[SmtpServer]:
    handler = RecordingHandler()
    options: dict[str, Any] = {}
    ca_pem = None
    if tls != "none":
        assert certificate_dir is not None, "TLS needs a directory for the certificate"
        cert_path, key_path, ca_pem = self_signed(certificate_dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_path, key_path)
        if tls == "tls":
            options["ssl_context"] = context
        else:
            options.update(tls_context=context, require_starttls=True)
    if credentials is not None:
        options.update(authenticator=_authenticator(*credentials), auth_required=True)
        if tls != "starttls":  # aiosmtpd only knows of STARTTLS; implicit TLS is TLS too
            options["auth_require_tls"] = False
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, **options)
    controller.start()
    try:
        yield SmtpServer(HOST, port, handler, ca_pem)
    finally:
        controller.stop()
