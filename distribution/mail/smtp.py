"""Hand a message to the configured SMTP server, and say how it went in the run's terms.

5xx replies are permanent (the server refused this message for good); 4xx replies, time-outs and
connection errors are transient. A server that cannot do what the configuration demands (STARTTLS,
AUTH) is permanent too: retrying the same configuration cannot help. Acceptance by the server is all
SMTP can tell, so that is what "sent" means.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosmtplib

from accesspoint.config import SmtpConfig


@dataclass(frozen=True, slots=True)
class Accepted:
    """The server took the message. ``reply`` is its answer to DATA; ``refused`` lists any recipient it
    refused while taking the others."""

    reply: str
    refused: dict[str, str]


@dataclass(slots=True)
class SmtpFailure(Exception):
    permanent: bool
    reason: str
    code: int | None = None
    reply: str | None = None

    def __str__(self) -> str:
        return self.reason


def _connection(smtp: SmtpConfig, tls_context: ssl.SSLContext | None) -> dict[str, Any]:
    options: dict[str, Any] = {
        "hostname": smtp.host,
        "port": smtp.port,
        "timeout": smtp.timeout_seconds,
        "use_tls": smtp.security == "tls",
        "start_tls": smtp.security == "starttls",
    }
    if smtp.username:
        options.update(username=smtp.username, password=smtp.password or "")
    if tls_context is not None and smtp.security != "none":
        options["tls_context"] = tls_context
    return options


def _reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()


def _from_response(exc: aiosmtplib.SMTPResponseException, stage: str) -> SmtpFailure:
    reply = _reply(exc.code, exc.message)
    return SmtpFailure(exc.code >= 500, f"the SMTP server refused the {stage}: {reply}", exc.code, reply)


async def send_raw(
    raw: bytes,
    *,
    sender: str,
    recipients: Sequence[str],
    smtp: SmtpConfig,
    tls_context: ssl.SSLContext | None = None,
) -> Accepted:
    """Send ``raw`` (a complete RFC 5322 message, CRLF line ends) as is; raises :class:`SmtpFailure`.

    ``tls_context`` replaces the system trust store (a private CA); the configuration has none.
    """
    server = f"{smtp.host}:{smtp.port}"
    try:
        responses, data_reply = await aiosmtplib.send(
            raw, sender=sender, recipients=list(recipients), **_connection(smtp, tls_context)
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        replies = {error.recipient: _reply(error.code, error.message) for error in exc.recipients}
        permanent = all(error.code >= 500 for error in exc.recipients)
        detail = "; ".join(f"{who}: {reply}" for who, reply in replies.items())
        code = exc.recipients[0].code if exc.recipients else None
        raise SmtpFailure(
            permanent, f"the SMTP server refused every recipient: {detail}", code, detail
        ) from None
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise _from_response(exc, "login") from None
    except aiosmtplib.SMTPSenderRefused as exc:
        raise _from_response(exc, "sender") from None
    except aiosmtplib.SMTPDataError as exc:
        raise _from_response(exc, "message") from None
    except aiosmtplib.SMTPTimeoutError:
        raise SmtpFailure(False, f"no answer from the SMTP server {server} in time") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise _from_response(exc, "session") from None
    except aiosmtplib.SMTPNotSupported as exc:
        raise SmtpFailure(True, f"the SMTP server {server} cannot do what is configured: {exc}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SmtpFailure(False, f"cannot talk to the SMTP server {server}: {exc}") from None
    refused = {
        address: _reply(response.code, response.message)
        for address, response in responses.items()
        if not 200 <= response.code < 300
    }
    return Accepted(reply=f"250 {data_reply.strip()}".strip(), refused=refused)
