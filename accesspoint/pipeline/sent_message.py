"""The exact AS4 message of a first attempt, kept so that every retry resends the same bytes.

A receiver that stored the first copy answers a retry with its original receipt, which echoes the
digests of those first bytes; only an identical resend lets us verify that receipt.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from accesspoint.as4 import OutboundMessage, SignedReference
from accesspoint.as4.model import Transform


def dump(message: OutboundMessage) -> dict[str, Any]:
    """Everything but the body (which goes into a blob), as JSON-ready data."""
    return {
        "message_id": message.message_id,
        "conversation_id": message.conversation_id,
        "timestamp": message.timestamp.isoformat(),
        "to_party": message.to_party,
        "headers": dict(message.headers),
        "signed_references": [
            {
                "uri": ref.uri,
                "digest_method": ref.digest_method,
                "digest_value": base64.b64encode(ref.digest_value).decode(),
                "transforms": [
                    [t.algorithm, list(t.prefixes) if t.prefixes is not None else None]
                    for t in ref.transforms
                ],
            }
            for ref in message.signed_references
        ],
    }


def load(data: dict[str, Any], body: bytes) -> OutboundMessage:
    return OutboundMessage(
        message_id=data["message_id"],
        conversation_id=data["conversation_id"],
        timestamp=dt.datetime.fromisoformat(data["timestamp"]),
        to_party=data["to_party"],
        headers=dict(data["headers"]),
        body=body,
        signed_references=tuple(
            SignedReference(
                uri=ref["uri"],
                digest_method=ref["digest_method"],
                digest_value=base64.b64decode(ref["digest_value"]),
                transforms=tuple(
                    Transform(alg, tuple(p) if p is not None else None) for alg, p in ref["transforms"]
                ),
            )
            for ref in data["signed_references"]
        ),
    )
