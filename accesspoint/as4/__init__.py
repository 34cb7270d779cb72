"""Sans-I/O Peppol AS4: build, sign, encrypt, parse, verify and decrypt messages, receipts and errors.

No sockets, no database: bytes and objects in, bytes and objects out (h11 style). The HTTP endpoint
and the sending worker only move bytes and call these functions.

Sending (``ehfgate send``, outbound worker)::

    out = build_user_message(Submission(from_party, to_party, sender_id, receiver_id, doc_type, process),
                             sbdh_bytes, signer=creds, receiver_certificate=smp_cert)
    # POST out.body with out.headers (keep out.message_id: a retry must reuse it via Submission.message_id)
    signal = read_response(response_content_type, response_body, out, trust=trust)
    # Receipt -> delivered (signed by the receiver, echoing exactly what we signed; keep .envelope);
    # ErrorSignal -> refused by the peer (.errors; .is_not_serviced on an error);
    # EbmsError raised -> the answer itself is unacceptable (unsigned receipt, bad digests, ...).

Receiving (``/as4`` handler)::

    try:
        msg = read_user_message(content_type, body, keys=[creds, previous_creds], trust=trust,
                                receiver_party=our_seat_id)
    except EbmsError as exc:
        answer = build_error_signal([exc])      # exc.ref_to_message_id is filled when it was readable
    else:
        ...store msg.payload durably (msg.is_ping: answer, do not deliver)...
        answer = build_receipt(msg, signer=creds)
    # respond with answer.headers and answer.body

``trust`` is any :class:`TrustPolicy`; :class:`AnchorTrust` checks a chain to configured roots, the
validity dates and that the signer CN is the From PartyId. Error codes are chosen as documented in
:mod:`accesspoint.as4.errors`; the Peppol profile (values, algorithm allow-list, limits) is data in
:mod:`accesspoint.as4.profile`.
"""

from accesspoint.as4.errors import PEPPOL_NOT_SERVICED, EbmsError, ErrorKind, not_serviced
from accesspoint.as4.model import (
    ErrorSignal,
    OutboundMessage,
    Payload,
    Receipt,
    ReceivedMessage,
    SignalError,
    SignalResponse,
    SignedReference,
    Submission,
    UserMessageHeader,
)
from accesspoint.as4.profile import PEPPOL, AlgorithmSuite, Limits, Profile
from accesspoint.as4.reader import read_user_message
from accesspoint.as4.receipt import build_receipt, check_receipt, verify_receipt
from accesspoint.as4.signal import build_error_signal, read_response, read_signal
from accesspoint.as4.trust import AnchorTrust, TrustPolicy
from accesspoint.as4.writer import assemble_user_message, build_user_message, new_message_id
from accesspoint.pki.credentials import Credentials

__all__ = [
    "PEPPOL",
    "PEPPOL_NOT_SERVICED",
    "AlgorithmSuite",
    "AnchorTrust",
    "Credentials",
    "EbmsError",
    "ErrorKind",
    "ErrorSignal",
    "Limits",
    "OutboundMessage",
    "Payload",
    "Profile",
    "Receipt",
    "ReceivedMessage",
    "SignalError",
    "SignalResponse",
    "SignedReference",
    "Submission",
    "TrustPolicy",
    "UserMessageHeader",
    "assemble_user_message",
    "build_error_signal",
    "build_receipt",
    "build_user_message",
    "check_receipt",
    "new_message_id",
    "not_serviced",
    "read_response",
    "read_signal",
    "read_user_message",
    "verify_receipt",
]
