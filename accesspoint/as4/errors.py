"""ebMS errors as one exception type, raised where a check fails and turned into a signal in one place.

Codes and categories follow the ebMS 3.0 core specification (table 6.7) and the AS4 profile (0301-0303).
Which code each check raises (a decision of this implementation, where the specifications leave room):

- MIME framing, wrong Content-Type, missing or extra parts: EBMS:0007 MimeInconsistency.
- XML not well formed, not SOAP 1.2, missing or repeated ebMS header elements: EBMS:0009 InvalidHeader.
- Values the Peppol profile does not allow (agreement, party id type, roles, MPC, ...): EBMS:0010.
- Security not as the policy demands (unsigned or unencrypted parts, a token not referenced directly,
  any algorithm outside the allow-list such as SHA-1, RSA v1.5 or CBC): EBMS:0103 PolicyNoncompliance.
  These are refused before any cryptographic work, so they never look like a failed check.
- A cryptographic or trust check that fails (signature, digest, unresolvable or duplicate Id,
  certificate chain, validity, CN): EBMS:0101 FailedAuthentication.
- No key of ours for the message, key unwrap or AES-GCM tag failure: EBMS:0102 FailedDecryption.
- Corrupt gzip, unsupported compression, size or ratio limits exceeded: EBMS:0303 DecompressionFailure.
- A receipt that does not match the message we sent: EBMS:0302 InvalidReceipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Severity(StrEnum):
    FAILURE = "failure"
    WARNING = "warning"


class Category(StrEnum):
    CONTENT = "Content"
    COMMUNICATION = "Communication"
    UNPACKAGING = "Unpackaging"
    PROCESSING = "Processing"


@dataclass(frozen=True, slots=True)
class ErrorKind:
    """One row of the ebMS error table."""

    code: str
    short_description: str
    severity: Severity
    category: Category
    description: str


def _kind(code: str, short: str, severity: Severity, category: Category, text: str) -> ErrorKind:
    return ErrorKind(f"EBMS:{code}", short, severity, category, text)


_F, _W = Severity.FAILURE, Severity.WARNING
_CONT, _COMM, _UNP, _PROC = (
    Category.CONTENT,
    Category.COMMUNICATION,
    Category.UNPACKAGING,
    Category.PROCESSING,
)

VALUE_NOT_RECOGNIZED: Final = _kind("0001", "ValueNotRecognized", _F, _CONT, "A value was not recognized.")
FEATURE_NOT_SUPPORTED: Final = _kind(
    "0002", "FeatureNotSupported", _W, _CONT, "The feature is not supported."
)
VALUE_INCONSISTENT: Final = _kind("0003", "ValueInconsistent", _F, _CONT, "Values are inconsistent.")
OTHER: Final = _kind("0004", "Other", _F, _CONT, "An error occurred.")
CONNECTION_FAILURE: Final = _kind("0005", "ConnectionFailure", _F, _COMM, "The connection failed.")
EMPTY_MPC: Final = _kind("0006", "EmptyMessagePartitionChannel", _W, _COMM, "No message in the MPC.")
MIME_INCONSISTENCY: Final = _kind("0007", "MimeInconsistency", _F, _UNP, "MIME use is not consistent.")
FEATURE_NOT_SUPPORTED_INCONSISTENTLY: Final = _kind(
    "0008", "FeatureNotSupportedInconsistently", _F, _UNP, "The feature is not supported consistently."
)
INVALID_HEADER: Final = _kind("0009", "InvalidHeader", _F, _UNP, "The ebMS header is invalid.")
PROCESSING_MODE_MISMATCH: Final = _kind(
    "0010", "ProcessingModeMismatch", _F, _PROC, "The message does not match the processing mode."
)
EXTERNAL_PAYLOAD_ERROR: Final = _kind(
    "0011", "ExternalPayloadError", _F, _CONT, "An external payload failed."
)
FAILED_AUTHENTICATION: Final = _kind("0101", "FailedAuthentication", _F, _PROC, "Authentication failed.")
FAILED_DECRYPTION: Final = _kind("0102", "FailedDecryption", _F, _PROC, "Decryption failed.")
POLICY_NONCOMPLIANCE: Final = _kind(
    "0103", "PolicyNoncompliance", _F, _PROC, "The security policy is not met."
)
DYSFUNCTIONAL_RELIABILITY: Final = _kind("0201", "DysfunctionalReliability", _F, _PROC, "Reliability failed.")
DELIVERY_FAILURE: Final = _kind("0202", "DeliveryFailure", _F, _COMM, "The message could not be delivered.")
MISSING_RECEIPT: Final = _kind("0301", "MissingReceipt", _F, _COMM, "No receipt was received.")
INVALID_RECEIPT: Final = _kind("0302", "InvalidReceipt", _F, _COMM, "The receipt is invalid.")
DECOMPRESSION_FAILURE: Final = _kind(
    "0303", "DecompressionFailure", _F, _COMM, "A payload failed to decompress."
)

ALL_KINDS: Final = (
    VALUE_NOT_RECOGNIZED,
    FEATURE_NOT_SUPPORTED,
    VALUE_INCONSISTENT,
    OTHER,
    CONNECTION_FAILURE,
    EMPTY_MPC,
    MIME_INCONSISTENCY,
    FEATURE_NOT_SUPPORTED_INCONSISTENTLY,
    INVALID_HEADER,
    PROCESSING_MODE_MISMATCH,
    EXTERNAL_PAYLOAD_ERROR,
    FAILED_AUTHENTICATION,
    FAILED_DECRYPTION,
    POLICY_NONCOMPLIANCE,
    DYSFUNCTIONAL_RELIABILITY,
    DELIVERY_FAILURE,
    MISSING_RECEIPT,
    INVALID_RECEIPT,
    DECOMPRESSION_FAILURE,
)
KINDS_BY_CODE: Final = {kind.code: kind for kind in ALL_KINDS}

# Peppol: EBMS:0004 with this ErrorDetail when the receiver is not served by this AP (SMP mismatch).
PEPPOL_NOT_SERVICED: Final = "PEPPOL:NOT_SERVICED"


class EbmsError(Exception):
    """A refusal in ebMS terms. ``description`` is for people; ``detail`` goes to ``eb:ErrorDetail``.

    ``reason`` is a stable machine-readable token for callers and tests (e.g. ``certificate-expired``)
    so no one has to match on message text.
    """

    def __init__(
        self,
        kind: ErrorKind,
        description: str,
        *,
        detail: str | None = None,
        ref_to_message_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(f"{kind.code} {kind.short_description}: {description}")
        self.kind = kind
        self.description = description
        self.detail = detail
        self.ref_to_message_id = ref_to_message_id
        self.reason = reason

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def short_description(self) -> str:
        return self.kind.short_description

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    @property
    def category(self) -> Category:
        return self.kind.category

    def referring_to(self, message_id: str | None) -> EbmsError:
        """Attach the id of the message in error unless one is set (the reader learns it late)."""
        if self.ref_to_message_id is None and message_id:
            self.ref_to_message_id = message_id
        return self


def not_serviced(description: str, *, ref_to_message_id: str | None = None) -> EbmsError:
    """Peppol's "receiver not served here" error: EBMS:0004 with ErrorDetail ``PEPPOL:NOT_SERVICED``."""
    return EbmsError(
        OTHER,
        description,
        detail=PEPPOL_NOT_SERVICED,
        ref_to_message_id=ref_to_message_id,
        reason="not-serviced",
    )
