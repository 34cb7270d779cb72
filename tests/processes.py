"""Run real ``ehfgate`` processes for end-to-end tests: the CLI, and servers on loopback ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ehfgate_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("EHFGATE_") or k.startswith("EHFGATE_ARTIFACTS")
    }
    env.update(extra)
    return env


def ehfgate(*args: str, env: Mapping[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accesspoint.cli", *args],
        env=ehfgate_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Server:
    """An ``ehfgate serve`` subprocess on a loopback port."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, extra_env: Mapping[str, str] | None = None, *, ready: bool = False) -> Server:
        env = ehfgate_env({**self.env, **(extra_env or {}), "EHFGATE_SERVER_PORT": str(self.port)})
        # stderr goes to a file: an unread pipe would fill up with log lines and block the server
        self.log = open(tempfile.mkstemp(prefix="ehfgate-serve-", suffix=".log")[1], "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "accesspoint.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.wait("/readyz" if ready else "/healthz")
        return self

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                err = Path(self.log.name).read_text(errors="replace")
                raise RuntimeError(f"ehfgate serve exited with {self.process.returncode}: {err[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.url}{path} not answering")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self.log is not None:
            self.log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:  # noqa: S310 - loopback
            return json.loads(response.read())


def dev_pki(directory: Path, *seats: str) -> None:
    done = ehfgate("dev-pki", "--out", str(directory), *[a for s in seats for a in ("--seat", s)], env={})
    assert done.returncode == 0, done.stderr


def ap_env(pki: Path, seat: str, data_dir: Path) -> dict[str, str]:
    """Configuration of one AP of a shared dev PKI, with its own data directory and SQLite store."""
    return {
        "EHFGATE_AP_KEY": str(pki / f"{seat}.key.pem"),
        "EHFGATE_AP_CERT": str(pki / f"{seat}.cert.pem"),
        "EHFGATE_AP_CHAIN": str(pki / "ap-ca.pem"),
        "EHFGATE_TRUST_ANCHORS": str(pki / "root-ca.pem"),
        "EHFGATE_SERVER_DATA_DIR": str(data_dir),
        "EHFGATE_STORE_URL": f"sqlite:///{data_dir / 'ehfgate.db'}",
    }


def tenant_with_key(env: Mapping[str, str], name: str, participant: str) -> str:
    """A tenant serving ``participant``, and an API key for it (through the CLI, as an operator would)."""
    assert ehfgate("tenant", "create", name, env=env).returncode == 0
    assert ehfgate("participant", "add", "--tenant", name, participant, env=env).returncode == 0
    created = ehfgate("apikey", "create", "--tenant", name, env=env)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()
