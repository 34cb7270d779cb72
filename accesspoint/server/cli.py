"""``ehfgate serve``."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from aiohttp import web

from accesspoint.config import Config


def register(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the server (AS4 endpoint, API, health, metrics)")
    parser.add_argument("--host", help="listen address (overrides server.host)")
    parser.add_argument("--port", type=int, help="listen port (overrides server.port)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from accesspoint.identity import IdentityError
    from accesspoint.keyfile import KeyFileError
    from accesspoint.server.app import create_app
    from accesspoint.server.logs import configure_logging
    from accesspoint.store.keyring import KeyMismatch

    configure_logging()
    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    logging.getLogger("ehfgate.server").info(
        "listening on http://%s:%s (config: %s)", host, port, config.source
    )
    try:
        web.run_app(create_app(config), host=host, port=port, print=None, access_log=None)
    except (IdentityError, KeyFileError, KeyMismatch) as exc:
        print(f"ehfgate serve: {exc}", file=sys.stderr)
        return 2
    return 0
