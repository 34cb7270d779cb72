"""What the /as4 endpoint sends back: a content type and body (receipt or error signal)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Answer:
    kind: Literal["receipt", "error"]
    content_type: str
    body: bytes = field(repr=False)
