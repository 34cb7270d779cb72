"""SFTP upload of claims files to a real asyncssh server on loopback: arrival, a transfer cut off
halfway and retried, and servers or logins that must be refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from distribution.avtalegiro.settings import SftpCredential, sftp_from_json
from distribution.avtalegiro.transfer import TransferError, TransferPolicy, upload
from tests.distribution.sftp_server import SftpServer

FAST = TransferPolicy(attempts=3, backoff_seconds=0.01, chunk_size=512, attempt_timeout_seconds=20)
DATA = b"".join(f"NY2121300{n:07d}".ljust(80, "0").encode() + b"\n" for n in range(60))  # 4860 bytes


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    (tmp_path / "inbox").mkdir()
    started = SftpServer(tmp_path)
    await started.start()
    yield started
    await started.close()


def credential(server: SftpServer) -> SftpCredential:
    return SftpCredential(private_key=server.private_key, passphrase=None, password=None)


async def test_the_server_receives_the_file(server: SftpServer) -> None:
    uploaded = await upload(
        sftp_from_json(server.sftp_settings()), credential(server), "claims-1.txt", DATA, FAST
    )
    assert (uploaded.path, uploaded.size, uploaded.attempts, uploaded.already_there) == (
        "/inbox/claims-1.txt",
        len(DATA),
        1,
        False,
    )
    inbox = server.root / "inbox"
    assert (inbox / "claims-1.txt").read_bytes() == DATA
    assert sorted(p.name for p in inbox.iterdir()) == ["claims-1.txt"]  # no temporary left behind
    # The answer of a finished upload was lost: trying again finds it and does not write twice.
    again = await upload(
        sftp_from_json(server.sftp_settings()), credential(server), "claims-1.txt", DATA, FAST
    )
    assert again.already_there and server.bytes_received == len(DATA)
    with pytest.raises(TransferError, match="already exists") as refused:
        await upload(
            sftp_from_json(server.sftp_settings()), credential(server), "claims-1.txt", DATA[:80], FAST
        )
    assert not refused.value.retryable


async def test_a_transfer_cut_off_halfway_is_retried(server: SftpServer) -> None:
    server.drop_after, server.drops = len(DATA) // 2, 2
    uploaded = await upload(
        sftp_from_json(server.sftp_settings()), credential(server), "claims-2.txt", DATA, FAST
    )
    assert server.dropped == 2 and uploaded.attempts == 3
    inbox = server.root / "inbox"
    assert (inbox / "claims-2.txt").read_bytes() == DATA
    assert sorted(p.name for p in inbox.iterdir()) == ["claims-2.txt"]


async def test_a_transfer_that_never_completes_leaves_no_file_under_the_final_name(
    server: SftpServer,
) -> None:
    server.drop_after, server.drops = 1000, 10
    with pytest.raises(TransferError, match="after 3 attempts") as failed:
        await upload(sftp_from_json(server.sftp_settings()), credential(server), "claims-3.txt", DATA, FAST)
    assert failed.value.retryable and server.dropped == 3
    inbox = server.root / "inbox"
    assert not (inbox / "claims-3.txt").exists()
    (partial,) = inbox.iterdir()
    assert partial.name == ".claims-3.txt.part" and 0 < partial.stat().st_size < len(DATA)


async def test_a_server_with_another_host_key_is_refused(server: SftpServer) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    settings = sftp_from_json({**server.sftp_settings(), "known_host_key": impostor})
    with pytest.raises(TransferError, match="did not present the configured host key") as refused:
        await upload(settings, credential(server), "claims-4.txt", DATA, FAST)
    assert not refused.value.retryable
    assert server.logins == 0 and server.bytes_received == 0  # refused before logging in, tried once
    assert list((server.root / "inbox").iterdir()) == []


async def test_an_unknown_user_key_is_refused(server: SftpServer) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    with pytest.raises(TransferError, match="refused the login") as refused:
        await upload(
            sftp_from_json(server.sftp_settings()),
            SftpCredential(private_key=stranger, passphrase=None, password=None),
            "claims-5.txt",
            DATA,
            FAST,
        )
    assert not refused.value.retryable and server.bytes_received == 0
