"""``ehfgate db upgrade``, ``tenant create``, ``apikey create``, ``participant add``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from accesspoint.config import Config
from accesspoint.peppol.identifiers import IdentifierError
from accesspoint.store.engine import Store, StoreError
from accesspoint.store.migrate import upgrade
from accesspoint.store.tenants import TenantError, add_participant, create_api_key, create_tenant, get_tenant


def register(sub: Any) -> None:
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    db_sub.add_parser("upgrade", help="apply schema migrations").set_defaults(func=_db_upgrade)

    tenant = sub.add_parser("tenant", help="manage tenants")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", metavar="COMMAND", required=True)
    create = tenant_sub.add_parser("create", help="create a tenant")
    create.add_argument("name")
    create.set_defaults(func=_tenant_create)

    apikey = sub.add_parser("apikey", help="manage API keys")
    apikey_sub = apikey.add_subparsers(dest="apikey_command", metavar="COMMAND", required=True)
    key_create = apikey_sub.add_parser("create", help="create an API key (printed once)")
    key_create.add_argument("--tenant", required=True)
    key_create.add_argument("--label")
    key_create.set_defaults(func=_apikey_create)

    participant = sub.add_parser("participant", help="participant ids a tenant receives for")
    participant_sub = participant.add_subparsers(dest="participant_command", metavar="COMMAND", required=True)
    add = participant_sub.add_parser("add", help="register a participant id for a tenant")
    add.add_argument("--tenant", required=True)
    add.add_argument("participant")
    add.set_defaults(func=_participant_add)


def _run(config: Config, action: Callable[[Store], Awaitable[str]]) -> int:
    async def main() -> str:
        store = Store(config.store_url)
        try:
            await upgrade(store)
            return await action(store)
        finally:
            await store.close()

    try:
        print(asyncio.run(main()))
    except (TenantError, IdentifierError, StoreError) as exc:
        print(f"ehfgate: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ehfgate: cannot reach the store ({config.store_url.split('@')[-1]}): {exc}", file=sys.stderr)
        return 2
    return 0


def _db_upgrade(args: argparse.Namespace, config: Config) -> int:
    async def action(store: Store) -> str:
        return "database is up to date"

    return _run(config, action)


def _tenant_create(args: argparse.Namespace, config: Config) -> int:
    async def action(store: Store) -> str:
        async with store.begin() as conn:
            tenant = await create_tenant(conn, args.name)
        return f"tenant {tenant.name} created ({tenant.id})"

    return _run(config, action)


def _apikey_create(args: argparse.Namespace, config: Config) -> int:
    async def action(store: Store) -> str:
        async with store.begin() as conn:
            tenant = await get_tenant(conn, args.tenant)
            return await create_api_key(conn, tenant, args.label)

    return _run(config, action)


def _participant_add(args: argparse.Namespace, config: Config) -> int:
    async def action(store: Store) -> str:
        async with store.begin() as conn:
            tenant = await get_tenant(conn, args.tenant)
            full = await add_participant(conn, tenant, args.participant)
        return f"{full} is received by tenant {tenant.name}"

    return _run(config, action)
