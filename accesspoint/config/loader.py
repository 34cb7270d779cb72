"""Read the TOML file, apply ``EHFGATE_<SECTION>_<KEY>`` overrides, convert and check every value.

Conversion follows the dataclass annotations in :mod:`accesspoint.config.model`, so adding a key is
one field there. A bad value raises :class:`ConfigError` naming the key and where it came from.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accesspoint.config.model import Config, StaticRoute

ENV_PREFIX = "EHFGATE_"
CONFIG_ENV = "EHFGATE_CONFIG"


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key and its source."""


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if f.name != "source"}


def _is_optional(tp: Any) -> tuple[bool, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return True, args[0]
    return False, tp


def _convert(value: Any, tp: Any, key: str, source: str) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{key}: expected {expected}, got {value!r} (from {source})")

    optional, inner = _is_optional(tp)
    if optional:
        if value is None or value == "":
            return None
        return _convert(value, inner, key, source)
    origin = typing.get_origin(inner)
    if origin is typing.Literal:
        choices = typing.get_args(inner)
        if value not in choices:
            raise bad("one of " + ", ".join(repr(c) for c in choices))
        return value
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(inner)
        if isinstance(value, str):
            if item_tp is StaticRoute:
                try:
                    value = json.loads(value) if value.strip() else []
                except json.JSONDecodeError:
                    raise bad("a JSON list of {participant, url, cert} tables") from None
            else:
                value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            raise bad("a list")
        return tuple(_convert(item, item_tp, f"{key}[{i}]", source) for i, item in enumerate(value))
    if inner is StaticRoute:
        if not isinstance(value, Mapping):
            raise bad("a table with participant, url and cert")
        missing = {"participant", "url", "cert"} - set(value)
        extra = set(value) - {"participant", "url", "cert"}
        if missing or extra:
            raise bad("a table with exactly participant, url and cert")
        return StaticRoute(str(value["participant"]), str(value["url"]), Path(str(value["cert"])))
    if inner is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise bad("true or false")
    if inner is int:
        if isinstance(value, bool):
            raise bad("an integer")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise bad("an integer") from None
        if number < 0:
            raise bad("a non-negative integer")
        return number
    if inner is Path:
        if not isinstance(value, str) or not value:
            raise bad("a path")
        return Path(value).expanduser()
    if inner is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    raise ConfigError(f"{key}: unsupported setting type {inner!r}")  # pragma: no cover - programming error


def _env_overrides(environ: Mapping[str, str], sections: dict[str, type]) -> dict[str, dict[str, str]]:
    """Map EHFGATE_SECTION_KEY variables to {section: {key: value}}; other EHFGATE_ names are not ours."""
    overrides: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section not in sections or not key:
            continue
        known = {f.name for f in dataclasses.fields(sections[section])}
        if key not in known:
            raise ConfigError(f"{name}: unknown key {section}.{key} (known: {', '.join(sorted(known))})")
        overrides.setdefault(section, {})[key] = value
    return overrides


def load_config(path: Path | str | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Load the configuration: ``path``, else ``$EHFGATE_CONFIG``, else built-in defaults."""
    env = os.environ if environ is None else environ
    sections = _sections()
    file_values: dict[str, Any] = {}
    source = "built-in defaults"
    chosen = path if path is not None else env.get(CONFIG_ENV)
    if chosen:
        config_path = Path(chosen)
        try:
            with config_path.open("rb") as handle:
                file_values = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"configuration file {config_path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {config_path} is not valid TOML: {exc}") from None
        source = str(config_path)
    for section, value in file_values.items():
        if section not in sections:
            raise ConfigError(f"unknown section [{section}] in {source} (known: {', '.join(sections)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{section}: expected a table in {source}")
    overrides = _env_overrides(env, sections)
    built: dict[str, Any] = {}
    for section, cls in sections.items():
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in file_values.get(section, {}).items():
            if key not in known:
                raise ConfigError(
                    f"unknown key {section}.{key} in {source} (known: {', '.join(sorted(known))})"
                )
            values[key] = _convert(raw, hints[key], f"{section}.{key}", source)
        for key, raw in overrides.get(section, {}).items():
            env_name = f"{ENV_PREFIX}{section.upper()}_{key.upper()}"
            values[key] = _convert(raw, hints[key], f"{section}.{key}", env_name)
        built[section] = cls(**values)
    if built["server"].port > 65535:
        raise ConfigError(f"server.port: expected 0-65535, got {built['server'].port}")
    return Config(**built, source=source)
