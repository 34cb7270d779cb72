"""Uploading a claims file to the bank's SFTP server (asyncssh).

The file is written under a temporary name in the target directory and renamed only when every
byte arrived and the size checks out, so a transfer cut off halfway never leaves a partial file
under the name the bank picks up. The temporary name is fixed per file, so the next attempt
overwrites what a broken one left. The server is identified by the host key in the settings: a
different key stops the transfer at once (no retry, never a fallback to trusting any key).
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from dataclasses import dataclass

import asyncssh

from distribution.avtalegiro.settings import SftpCredential, SftpSettings

log = logging.getLogger("ehfgate.avtalegiro")


@dataclass(frozen=True, slots=True)
class TransferPolicy:
    attempts: int = 4
    backoff_seconds: float = 2.0  # doubled after each failed attempt
    max_backoff_seconds: float = 60.0
    connect_timeout_seconds: float = 20.0
    attempt_timeout_seconds: float = 120.0  # one whole attempt: log in, write, rename, check
    chunk_size: int = 32 * 1024


class TransferError(RuntimeError):
    """The upload failed; ``retryable`` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Uploaded:
    path: str
    size: int
    attempts: int
    already_there: bool  # an earlier attempt had renamed it before its answer was lost


def _client_options(sftp: SftpSettings, credential: SftpCredential, timeout: float) -> dict[str, object]:
    host_key = asyncssh.import_public_key(sftp.known_host_key)
    keys = (
        [asyncssh.import_private_key(credential.private_key, credential.passphrase)]
        if credential.private_key is not None
        else None  # None: no public-key login (never the keys of the account running the server)
    )
    return {
        "port": sftp.port,
        "username": sftp.username,
        "known_hosts": ([host_key], [], []),
        "client_keys": keys,
        "password": credential.password,
        "agent_path": None,
        "config": [],
        "connect_timeout": timeout,
        "login_timeout": timeout,
    }


async def _attempt(
    sftp: SftpSettings, credential: SftpCredential, name: str, data: bytes, policy: TransferPolicy
) -> tuple[str, bool]:
    final = posixpath.join(sftp.path, name)
    partial = posixpath.join(sftp.path, f".{name}.part")
    options = _client_options(sftp, credential, policy.connect_timeout_seconds)
    async with (
        asyncssh.connect(sftp.host, **options) as connection,
        connection.start_sftp_client() as client,
    ):
        if await client.exists(final):
            size = (await client.stat(final)).size
            if size == len(data):
                return final, True
            raise TransferError(
                f"{final} already exists on the server with {size} bytes, not {len(data)}", retryable=False
            )
        async with client.open(partial, "wb") as remote:
            for start in range(0, len(data), policy.chunk_size):
                await remote.write(data[start : start + policy.chunk_size])
        written = (await client.stat(partial)).size
        if written != len(data):
            raise TransferError(f"the server holds {written} of {len(data)} bytes after writing")
        await client.rename(partial, final)
        arrived = (await client.stat(final)).size
        if arrived != len(data):
            raise TransferError(f"{final} has {arrived} bytes on the server, not {len(data)}")
        return final, False


async def upload(
    sftp: SftpSettings,
    credential: SftpCredential,
    name: str,
    data: bytes,
    policy: TransferPolicy | None = None,
) -> Uploaded:
    """Put ``data`` at ``sftp.path/name``; retries with backoff, raises :class:`TransferError`."""
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"remote file name {name!r} must be a plain name")
    policy = policy or TransferPolicy()
    delay = policy.backoff_seconds
    last: Exception | None = None
    for attempt in range(1, policy.attempts + 1):
        try:
            async with asyncio.timeout(policy.attempt_timeout_seconds):
                path, already = await _attempt(sftp, credential, name, data, policy)
            return Uploaded(path=path, size=len(data), attempts=attempt, already_there=already)
        except asyncssh.HostKeyNotVerifiable as exc:
            raise TransferError(
                f"the server at {sftp.host}:{sftp.port} did not present the configured host key",
                retryable=False,
            ) from exc
        except asyncssh.PermissionDenied as exc:
            raise TransferError(
                f"the server refused the login of {sftp.username!r}", retryable=False
            ) from exc
        except TransferError as exc:
            if not exc.retryable:
                raise
            last = exc
        except (OSError, TimeoutError, asyncssh.Error) as exc:
            last = exc
        log.warning(
            "claims file %s: upload attempt %d of %d failed: %s",
            name,
            attempt,
            policy.attempts,
            _describe(last),
        )
        if attempt < policy.attempts:
            await asyncio.sleep(delay)
            delay = min(delay * 2, policy.max_backoff_seconds)
    raise TransferError(f"upload failed after {policy.attempts} attempts: {_describe(last)}")


def _describe(error: Exception | None) -> str:
    if error is None:
        return "unknown error"
    if isinstance(error, TimeoutError):
        return "timed out"
    text = str(error) or type(error).__name__
    return text[:500]
