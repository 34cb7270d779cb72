"""A real SFTP server (asyncssh) on 127.0.0.1 for the AvtaleGiro transfer tests.

It has a generated host key and accepts one generated user key, serves a temporary directory as
its root, and can be told to cut the connection after a number of written bytes (``drop_after``,
for ``drops`` connections) — the way a link failing mid-transfer looks to the client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncssh


class _Files(asyncssh.SFTPServer):
    def __init__(self, chan: asyncssh.SSHServerChannel[Any], owner: SftpServer) -> None:
        super().__init__(chan, chroot=str(owner.root).encode())
        self.owner = owner

    def write(self, file_obj: object, offset: int, data: bytes) -> Any:
        owner = self.owner
        owner.bytes_received += len(data)
        if owner.drops > 0 and owner.drop_after is not None:
            budget = owner.drop_after - owner._written_this_connection
            if len(data) >= budget:
                super().write(file_obj, offset, data[: max(budget, 0)])
                owner.drops -= 1
                owner.dropped += 1
                owner._written_this_connection = 0
                self.connection.abort()
                return None
            owner._written_this_connection += len(data)
        return super().write(file_obj, offset, data)


class SftpServer:
    def __init__(self, root: Path, *, drop_after: int | None = None, drops: int = 0) -> None:
        self.root = root
        self.drop_after, self.drops = drop_after, drops
        self.dropped = 0
        self.bytes_received = 0
        self._written_this_connection = 0
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.user_key = asyncssh.generate_private_key("ssh-ed25519")
        self.username = "payee"
        self.logins = 0
        self._server: asyncssh.SSHAcceptor | None = None

    @property
    def known_host_key(self) -> str:
        return self.host_key.export_public_key().decode().strip()

    @property
    def private_key(self) -> str:
        return self.user_key.export_private_key().decode()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def sftp_settings(self, path: str = "/inbox") -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "username": self.username,
            "path": path,
            "known_host_key": self.known_host_key,
        }

    async def start(self) -> None:
        authorized = asyncssh.import_authorized_keys(self.user_key.export_public_key().decode())
        server = self

        class _Auth(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                server.logins += 1
                return True

        self._server = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_factory=_Auth,
            server_host_keys=[self.host_key],
            authorized_client_keys=authorized,
            sftp_factory=lambda chan: _Files(chan, self),
            allow_scp=False,
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
