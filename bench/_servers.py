"""Two real ``ehfgate serve`` processes on loopback for end-to-end benchmarks, and what they need.

The process handling (``Server``, ``ap_env``, ``ehfgate``) is the tests' own
(tests/processes.py, no pytest in it), so the bench starts servers exactly as the e2e tests do. The
PostgreSQL and tenant helpers are small copies: the tests' versions skip or fail through pytest, while
a bench should say what is missing and go on with the other store.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import http.client
import http.server
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from accesspoint.pki.devpki import generate_dev_pki
from tests.processes import Server, ap_env, ehfgate

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
SENDER_SEAT, RECEIVER_SEAT = "POP000001", "POP000002"
MAX_HOOK_BODY = 64 * 1024


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    url = make_url(admin_url)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
        timeout=5,
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def postgres_problem(admin_url: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        asyncio.run(_admin(admin_url, "SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one run, dropped afterwards."""
    name = f"ehfgate_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def tenant_with_key(env: dict[str, str], name: str, participant: str) -> str:
    """Create a tenant owning ``participant`` and return a new API key for it."""
    for args in (("tenant", "create", name), ("participant", "add", "--tenant", name, participant)):
        done = ehfgate(*args, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"ehfgate {' '.join(args)}: {done.stderr}")
    created = ehfgate("apikey", "create", "--tenant", name, env=env)
    if created.returncode != 0:
        raise RuntimeError(f"ehfgate apikey create: {created.stderr}")
    return created.stdout.strip()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS), KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Client:
    """A keep-alive HTTP/1.1 connection to one server (one per submitting thread)."""

    def __init__(self, base_url: str, key: str, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=timeout
        )
        self.key = key

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> Any:
        headers = {"Authorization": f"Bearer {self.key}"}
        if content_type:
            headers["Content-Type"] = content_type
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {response.status} {raw[:500]!r}")
        return json.loads(raw)

    def close(self) -> None:
        self.connection.close()


def metric(server: Server, name: str, labels: str) -> float:
    """One sample of a server's ``/metrics`` (0 when absent)."""
    with contextlib.closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)) as conn:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@dataclass
class HookReceiver:
    """A loopback webhook endpoint: tells waiting submitters when their document's status is final.

    The time taken is the delivery's ``created_at``, written by the sender in the very transaction
    that marked the document delivered, so the webhook's own queueing does not count as latency.
    """

    server: http.server.ThreadingHTTPServer | None = None
    final: dict[str, tuple[str, float]] = field(default_factory=dict)
    arrived: dict[str, float] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> str:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(min(length, MAX_HOOK_BODY))
                self.send_response(204)
                self.end_headers()
                receiver.record(json.loads(body))

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def record(self, event: dict[str, Any]) -> None:
        data = event["data"]
        at = datetime.fromisoformat(event["created_at"]).timestamp()
        with self.changed:
            self.final[str(data["id"])] = (str(data["status"]), at)
            self.arrived[str(data["id"])] = time.time()
            self.changed.notify_all()

    def wait(self, document_id: str, timeout: float) -> tuple[str, float]:
        """(final status, time the sender committed it); TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while document_id not in self.final:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no final status for {document_id} in {timeout:g} s")
                self.changed.wait(left)
            return self.final[document_id]

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class Pair:
    """A (sender) routing statically to B (receiver); each its own dev certificate and store."""

    a: Server
    b: Server
    key_a: str
    key_b: str

    def problems(self) -> collections.Counter[tuple[str, str, str, str]]:
        """Warning and error log records of both servers so far: (A|B, level, logger, message) -> count.

        Numbers and ids are blanked so that one cause counts once however many documents it hit.
        """
        found: collections.Counter[tuple[str, str, str, str]] = collections.Counter()
        for label, server in (("A", self.a), ("B", self.b)):
            if server.log is None:
                continue
            for line in Path(server.log.name).read_text(errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                level = str(entry.get("level", ""))
                if level in ("warning", "error", "critical"):
                    message = re.sub(r"[0-9a-f]{8,}|\d+", "#", str(entry.get("message", "")))
                    found[(label, level, str(entry.get("logger", "")), message)] += 1
        return found

    def stop(self) -> None:
        for server in (self.a, self.b):
            server.stop()
            if server.log is not None:
                Path(server.log.name).unlink(missing_ok=True)


def start_pair(
    directory: Path,
    seller: str,
    buyer: str,
    *,
    store_urls: tuple[str, str] | None,
    workers: int,
) -> Pair:
    """Start B then A (both ready: validation compiled). ``store_urls`` None means SQLite files."""
    pki = directory / "pki"
    generate_dev_pki(pki, (SENDER_SEAT, RECEIVER_SEAT))
    tuning = {"EHFGATE_OUTBOUND_WORKERS": str(workers)}
    env_b = {**ap_env(pki, RECEIVER_SEAT, directory / "b"), **tuning}
    env_a = {**ap_env(pki, SENDER_SEAT, directory / "a"), **tuning}
    if store_urls is not None:
        env_a["EHFGATE_STORE_URL"], env_b["EHFGATE_STORE_URL"] = store_urls
    b = Server(env_b)
    route = [{"participant": buyer, "url": b.url + "/as4", "cert": str(pki / f"{RECEIVER_SEAT}.cert.pem")}]
    env_a["EHFGATE_ROUTING_STATIC"] = json.dumps(route)
    a = Server(env_a)
    keys: dict[str, str] = {}
    failures: list[BaseException] = []

    def prepare(server: Server, tenant: str, participant: str) -> None:
        # the CLI calls and the server start are mostly Python start-up: both APs at once
        try:
            keys[tenant] = tenant_with_key(server.env, tenant, participant)
            server.start(ready=True)
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=prepare, args=(b, "buyer", buyer)),
        threading.Thread(target=prepare, args=(a, "seller", seller)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pair = Pair(a, b, keys.get("seller", ""), keys.get("buyer", ""))
    if failures:
        pair.stop()
        raise RuntimeError(f"cannot start the servers: {failures[0]}") from failures[0]
    return pair
