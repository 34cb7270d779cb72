"""`ehfgate serve` and its webhook key: made once under the data directory, and a process holding a
different key than the one its database was first used with refuses to start (exit 2, a clear line)."""

from __future__ import annotations

from pathlib import Path

from tests.processes import Server, ehfgate, free_port


def test_serve_makes_the_key_once_and_refuses_a_different_one(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = {"EHFGATE_SERVER_DATA_DIR": str(data), "EHFGATE_STORE_URL": f"sqlite:///{data / 'ehfgate.db'}"}
    server = Server(env).start()
    server.stop()
    key_file = data / "webhooks.key"
    made = key_file.read_bytes()
    assert made.strip()

    again = Server(env).start()  # the same data directory: the same key, accepted
    again.stop()
    assert key_file.read_bytes() == made

    other = {**env, "EHFGATE_WEBHOOKS_SECRET_KEY": "another key of at least thirty-two characters"}
    refused = ehfgate("serve", env={**other, "EHFGATE_SERVER_PORT": str(free_port())}, timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert "webhooks.secret_key differs" in refused.stderr
    assert "another key" not in refused.stderr  # the key itself is never printed
