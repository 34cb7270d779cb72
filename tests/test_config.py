"""Configuration: TOML file, environment overrides, and clear errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from accesspoint.config import ConfigError, load_config


def test_defaults_run_on_one_machine() -> None:
    config = load_config(environ={})
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert config.server.effective_public_url == "http://127.0.0.1:8080/as4"
    assert config.store_url.startswith("sqlite:///") and "var" in config.store_url
    assert config.trust.revocation == "soft"
    assert config.peppol.mode == "test"
    assert config.smtp.security == "starttls" and config.smtp.port == 25


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "ehfgate.toml"
    path.write_text(
        """
[server]
port = 9000
public_url = "https://ap.example.no/as4"
[trust]
anchors = ["root-a.pem", "root-b.pem"]
revocation = "hard"
[[routing.static]]
participant = "0192:810418052"
url = "http://127.0.0.1:9001/as4"
cert = "b.pem"
"""
    )
    config = load_config(path, environ={"EHFGATE_SERVER_PORT": "9100", "EHFGATE_PEPPOL_MODE": "production"})
    assert config.server.port == 9100
    assert config.server.public_url == "https://ap.example.no/as4"
    assert config.trust.anchors == (Path("root-a.pem"), Path("root-b.pem"))
    assert config.trust.revocation == "hard"
    assert config.peppol.mode == "production"
    assert config.routing.static[0].participant == "0192:810418052"
    assert config.source == str(path)


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[artifacts]\nmirror = 'mirror-dir'\n")
    config = load_config(environ={"EHFGATE_CONFIG": str(path)})
    assert config.artifacts.mirror == Path("mirror-dir")


def test_lists_from_environment_are_comma_separated() -> None:
    config = load_config(environ={"EHFGATE_TRUST_ANCHORS": "a.pem, b.pem", "EHFGATE_AP_CHAIN": ""})
    assert config.trust.anchors == (Path("a.pem"), Path("b.pem"))
    assert config.ap.chain == ()


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"EHFGATE_SERVER_PORT": "eighty"}, ["server.port", "EHFGATE_SERVER_PORT"]),
        ({"EHFGATE_SERVER_PORT": "70000"}, ["server.port"]),
        ({"EHFGATE_TRUST_REVOCATION": "sometimes"}, ["trust.revocation", "'hard'"]),
        ({"EHFGATE_SMTP_SECURITY": "ssl"}, ["smtp.security"]),
        ({"EHFGATE_STORE_COLOUR": "blue"}, ["EHFGATE_STORE_COLOUR", "store.colour"]),
        ({"EHFGATE_ROUTING_STATIC": "not json"}, ["routing.static"]),
    ],
)
def test_bad_values_name_the_key(environ: dict[str, str], names: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    for name in names:
        assert name in str(caught.value)


def test_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\nport=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, environ={})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[serverr]\nport=1\n")
    with pytest.raises(ConfigError, match=r"unknown section \[serverr\]"):
        load_config(unknown, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", environ={})


def test_foreign_variables_with_our_prefix_are_ignored() -> None:
    config = load_config(environ={"EHFGATE_SHARED_DIR": "/x", "EHFGATE_TEST_POSTGRES_URL": "y"})
    assert config.server.port == 8080
