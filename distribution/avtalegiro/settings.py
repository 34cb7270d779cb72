"""A tenant's AvtaleGiro settings (``tenant_settings`` row ``avtalegiro``) and its SFTP credential
(sealed secret ``avtalegiro-sftp``).

The settings are plain facts the bank gave the payee (data transmitter id, agreement id, account)
plus when to run and where to upload. The SFTP host key is part of the settings and is required:
a transfer never runs against a server it cannot identify.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncssh
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from accesspoint.store.ids import now
from distribution.storage.payments_schema import tenant_settings

SETTINGS_NAME = "avtalegiro"
SECRET_NAME = "avtalegiro-sftp"  # noqa: S105 (the name of the sealed secret, not a secret)
DEFAULT_CUTOFF_DAYS = 4
DEFAULT_SCHEDULE = "06:00"
DEFAULT_SFTP_PORT = 22
MAX_CUTOFF_DAYS = 60
_SCHEDULE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_HOST = re.compile(r"[A-Za-z0-9.\-:\[\]]{1,253}")
_KEYS = frozenset({"data_transmitter", "agreement_id", "account", "cutoff_days", "schedule", "sftp"})
_SFTP_KEYS = frozenset({"host", "port", "username", "path", "known_host_key"})
_SECRET_KEYS = frozenset({"private_key", "passphrase", "password"})


class AvtaleGiroSettingsError(ValueError):
    """Unusable settings; the message names the field."""


@dataclass(frozen=True, slots=True)
class SftpSettings:
    host: str
    port: int
    username: str
    path: str  # remote directory the claims files go into
    known_host_key: str  # the server's public key, OpenSSH format ("ssh-ed25519 AAAA...")

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "path": self.path,
            "known_host_key": self.known_host_key,
        }


@dataclass(frozen=True, slots=True)
class AvtaleGiroSettings:
    data_transmitter: str  # 8 digits: the payee's (or its data centre's) id with the bank
    agreement_id: str  # 9 digits: the payee's AvtaleGiro agreement, written in each assignment
    account: str  # 11 digits: the account the claims are paid into
    cutoff_days: int
    schedule: dt.time  # daily run time, Europe/Oslo
    sftp: SftpSettings

    def to_json(self) -> dict[str, Any]:
        return {
            "data_transmitter": self.data_transmitter,
            "agreement_id": self.agreement_id,
            "account": self.account,
            "cutoff_days": self.cutoff_days,
            "schedule": f"{self.schedule:%H:%M}",
            "sftp": self.sftp.to_json(),
        }


@dataclass(frozen=True, slots=True)
class SftpCredential:
    """What logs the transfer in; never serialised back to anyone."""

    private_key: str | None
    passphrase: str | None
    password: str | None

    def to_json(self) -> dict[str, Any]:
        return {"private_key": self.private_key, "passphrase": self.passphrase, "password": self.password}


def _digits(value: Any, field: str, length: int) -> str:
    if not isinstance(value, str) or len(value) != length or not value.isascii() or not value.isdigit():
        raise AvtaleGiroSettingsError(f"{field} must be a string of {length} digits")
    return value


def _text(value: Any, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value or len(value) > max_length or not value.isprintable():
        raise AvtaleGiroSettingsError(
            f"{field} must be a non-empty string of at most {max_length} characters"
        )
    return value


def _unknown(value: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    extra = sorted(set(value) - known)
    if extra:
        raise AvtaleGiroSettingsError(
            f"{where}unknown field {extra[0]!r} (known: {', '.join(sorted(known))})"
        )


def _host_key(value: Any) -> str:
    text = _text(value, "sftp.known_host_key", 16384).strip()
    try:
        asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise AvtaleGiroSettingsError(
            "sftp.known_host_key must be the server's public key in OpenSSH format"
        ) from exc
    return text


def sftp_from_json(value: Any) -> SftpSettings:
    if not isinstance(value, Mapping):
        raise AvtaleGiroSettingsError(
            "sftp must be an object with host, port, username, path, known_host_key"
        )
    _unknown(value, _SFTP_KEYS, "sftp: ")
    host = _text(value.get("host"), "sftp.host", 253)
    if not _HOST.fullmatch(host):
        raise AvtaleGiroSettingsError("sftp.host must be a host name or an IP address")
    port = value.get("port", DEFAULT_SFTP_PORT)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise AvtaleGiroSettingsError("sftp.port must be an integer from 1 to 65535")
    path = value.get("path", ".")
    path = _text(path, "sftp.path", 1024)
    return SftpSettings(
        host=host,
        port=port,
        username=_text(value.get("username"), "sftp.username", 255),
        path=path,
        known_host_key=_host_key(value.get("known_host_key")),
    )


def settings_from_json(value: Any) -> AvtaleGiroSettings:
    """Validated settings; raises :class:`AvtaleGiroSettingsError` naming the first bad field."""
    if not isinstance(value, Mapping):
        raise AvtaleGiroSettingsError("settings must be a JSON object")
    _unknown(value, _KEYS, "")
    cutoff = value.get("cutoff_days", DEFAULT_CUTOFF_DAYS)
    if not isinstance(cutoff, int) or isinstance(cutoff, bool) or not 0 <= cutoff <= MAX_CUTOFF_DAYS:
        raise AvtaleGiroSettingsError(f"cutoff_days must be an integer from 0 to {MAX_CUTOFF_DAYS}")
    schedule = value.get("schedule", DEFAULT_SCHEDULE)
    match = _SCHEDULE.fullmatch(schedule) if isinstance(schedule, str) else None
    if match is None:
        raise AvtaleGiroSettingsError("schedule must be a time of day HH:MM (Europe/Oslo)")
    return AvtaleGiroSettings(
        data_transmitter=_digits(value.get("data_transmitter"), "data_transmitter", 8),
        agreement_id=_digits(value.get("agreement_id"), "agreement_id", 9),
        account=_digits(value.get("account"), "account", 11),
        cutoff_days=cutoff,
        schedule=dt.time(int(match.group(1)), int(match.group(2))),
        sftp=sftp_from_json(value.get("sftp")),
    )


def credential_from_json(value: Any) -> SftpCredential:
    """The SFTP login: a private key (OpenSSH or PEM, with its passphrase if any) and/or a password."""
    if not isinstance(value, Mapping):
        raise AvtaleGiroSettingsError("sftp_secret must be an object with private_key and/or password")
    _unknown(value, _SECRET_KEYS, "sftp_secret: ")
    fields: dict[str, str | None] = {}
    for name in sorted(_SECRET_KEYS):
        item = value.get(name)
        if item is not None and (not isinstance(item, str) or not item or len(item) > 65536):
            raise AvtaleGiroSettingsError(f"sftp_secret.{name} must be a non-empty string")
        fields[name] = item
    if fields["private_key"] is None and fields["password"] is None:
        raise AvtaleGiroSettingsError("sftp_secret needs a private_key or a password")
    credential = SftpCredential(**fields)
    if credential.private_key is not None:
        try:
            asyncssh.import_private_key(credential.private_key, credential.passphrase)
        except (asyncssh.KeyImportError, ValueError) as exc:
            # The reason from the key parser never contains key material; say only what to fix.
            raise AvtaleGiroSettingsError(
                "sftp_secret.private_key is not a readable private key (or the passphrase is wrong)"
            ) from exc
    return credential


async def load_settings(conn: AsyncConnection, tenant_id: str) -> AvtaleGiroSettings | None:
    value = (
        await conn.execute(
            sa.select(tenant_settings.c.value).where(
                tenant_settings.c.tenant_id == tenant_id, tenant_settings.c.name == SETTINGS_NAME
            )
        )
    ).scalar_one_or_none()
    return settings_from_json(value) if value is not None else None


async def save_settings(conn: AsyncConnection, tenant_id: str, settings: AvtaleGiroSettings) -> None:
    key = (tenant_settings.c.tenant_id == tenant_id) & (tenant_settings.c.name == SETTINGS_NAME)
    value = settings.to_json()
    updated = await conn.execute(tenant_settings.update().where(key).values(value=value, updated_at=now()))
    if updated.rowcount == 0:
        await conn.execute(
            tenant_settings.insert().values(
                tenant_id=tenant_id, name=SETTINGS_NAME, value=value, updated_at=now()
            )
        )


async def configured_tenants(conn: AsyncConnection) -> list[tuple[str, AvtaleGiroSettings]]:
    """Every tenant with AvtaleGiro settings (a row that no longer validates is skipped)."""
    rows = await conn.execute(
        sa.select(tenant_settings.c.tenant_id, tenant_settings.c.value)
        .where(tenant_settings.c.name == SETTINGS_NAME)
        .order_by(tenant_settings.c.tenant_id)
    )
    found: list[tuple[str, AvtaleGiroSettings]] = []
    for tenant_id, value in rows:
        try:
            found.append((tenant_id, settings_from_json(value)))
        except AvtaleGiroSettingsError:
            continue
    return found


async def lock_tenant(conn: AsyncConnection, tenant_id: str) -> bool:
    """Serialise file building for one tenant: a no-op write on its settings row takes the row lock
    (PostgreSQL) or the database write lock (SQLite) until the transaction ends."""
    key = (tenant_settings.c.tenant_id == tenant_id) & (tenant_settings.c.name == SETTINGS_NAME)
    result = await conn.execute(
        tenant_settings.update().where(key).values(updated_at=tenant_settings.c.updated_at)
    )
    return result.rowcount == 1
