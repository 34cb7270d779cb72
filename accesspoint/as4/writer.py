"""Build a Peppol AS4 user message: compress, sign, encrypt, package as MIME. Bytes out, no I/O."""

from __future__ import annotations

import datetime as dt
import uuid

from cryptography import x509
from lxml import etree

from accesspoint.as4 import constants as c
from accesspoint.as4 import payloadcrypto
from accesspoint.as4.envelope import (
    Envelope,
    add_message_info,
    eb,
    new_envelope,
    new_messaging,
    new_security,
    serialize,
    text_child,
)
from accesspoint.as4.mime import build_multipart
from accesspoint.as4.model import OutboundMessage, Submission
from accesspoint.as4.profile import PEPPOL, Profile, split_identifier
from accesspoint.as4.wssec import OutgoingPart, new_id, secure
from accesspoint.pki.credentials import Credentials

SOAP_PART_TYPE = "application/soap+xml; charset=UTF-8"


def new_message_id(profile: Profile = PEPPOL) -> str:
    """A globally unique ebMS MessageId (``uuid@domain``)."""
    return f"{uuid.uuid4()}@{profile.id_domain}"


def _party(parent: etree._Element, tag: str, party: str, role: str, profile: Profile) -> None:
    holder = etree.SubElement(parent, eb(tag))
    text_child(holder, eb("PartyId"), party, type=profile.party_id_type)
    text_child(holder, eb("Role"), role)


def _user_message(
    messaging: etree._Element,
    submission: Submission,
    message_id: str,
    conversation_id: str,
    moment: dt.datetime,
    content_id: str,
    profile: Profile,
) -> None:
    user = etree.SubElement(messaging, eb("UserMessage"))
    add_message_info(user, message_id, moment)
    party_info = etree.SubElement(user, eb("PartyInfo"))
    _party(party_info, "From", submission.from_party, profile.initiator_role, profile)
    _party(party_info, "To", submission.to_party, profile.responder_role, profile)
    collab = etree.SubElement(user, eb("CollaborationInfo"))
    if profile.agreement:
        text_child(collab, eb("AgreementRef"), profile.agreement)
    if submission.process == c.PING_SERVICE:
        text_child(collab, eb("Service"), c.PING_SERVICE)
    else:
        scheme, process = split_identifier(submission.process, profile.service_type or "")
        text_child(collab, eb("Service"), process, type=scheme)
    if submission.document_type == c.PING_ACTION:
        text_child(collab, eb("Action"), c.PING_ACTION)
    else:
        scheme, doc_type = split_identifier(submission.document_type, profile.action_scheme)
        text_child(collab, eb("Action"), f"{scheme}::{doc_type}")
    text_child(collab, eb("ConversationId"), conversation_id)
    props = etree.SubElement(user, eb("MessageProperties"))
    for name, participant in (
        ("originalSender", submission.original_sender),
        ("finalRecipient", submission.final_recipient),
    ):
        scheme, bare = split_identifier(participant, profile.participant_scheme)
        text_child(props, eb("Property"), bare, name=name, type=scheme)
    payload_info = etree.SubElement(user, eb("PayloadInfo"))
    part = etree.SubElement(payload_info, eb("PartInfo"), href=f"cid:{content_id}")
    part_props = etree.SubElement(part, eb("PartProperties"))
    text_child(part_props, eb("Property"), profile.payload_mime_type, name="MimeType")
    text_child(part_props, eb("Property"), profile.compression, name="CompressionType")


def _check_parties(submission: Submission, signer: Credentials, profile: Profile) -> None:
    """Fail here rather than at the peer: seat ids must be well formed and ours must be our CN."""
    pattern = profile.party_id_pattern
    for party in (submission.from_party, submission.to_party):
        if pattern is not None and not pattern.fullmatch(party):
            raise ValueError(f"{party!r} is not a seat id of the form {pattern.pattern}")
    if signer.common_name != submission.from_party:
        raise ValueError(f"our certificate is for {signer.common_name!r}, not for {submission.from_party!r}")


def build_user_message(
    submission: Submission,
    payload: bytes,
    *,
    signer: Credentials,
    receiver_certificate: x509.Certificate,
    profile: Profile = PEPPOL,
    now: dt.datetime | None = None,
) -> OutboundMessage:
    """One signed and encrypted Peppol AS4 user message carrying ``payload`` (the SBDH bytes).

    A retry must send the same MessageId: pass ``submission.message_id`` from the first attempt.
    """
    return assemble_user_message(
        submission,
        payloadcrypto.gzip_compress(payload),
        signer=signer,
        receiver_certificate=receiver_certificate,
        profile=profile,
        now=now,
    )


def assemble_user_message(
    submission: Submission,
    compressed: bytes,
    *,
    signer: Credentials,
    receiver_certificate: x509.Certificate,
    profile: Profile = PEPPOL,
    now: dt.datetime | None = None,
) -> OutboundMessage:
    """As :func:`build_user_message`, from payload bytes already gzip-compressed (kept across retries)."""
    _check_parties(submission, signer, profile)
    moment = now or dt.datetime.now(dt.UTC)
    message_id = submission.message_id or new_message_id(profile)
    conversation_id = submission.conversation_id or str(uuid.uuid4())
    content_id = f"{uuid.uuid4()}@{profile.id_domain}"
    root, header, body = new_envelope()
    body.set(c.WSU_ID, new_id("id"))
    messaging = new_messaging(header, new_id("eb"))
    _user_message(messaging, submission, message_id, conversation_id, moment, content_id, profile)
    security = new_security(header)
    part = OutgoingPart(content_id, profile.compression, compressed)
    envelope = Envelope(root, header, body, messaging, security)
    references, attachments = secure(envelope, signer, [part], receiver_certificate)
    content_type, data = build_multipart(serialize(root), SOAP_PART_TYPE, attachments)
    return OutboundMessage(
        message_id=message_id,
        conversation_id=conversation_id,
        timestamp=moment,
        to_party=submission.to_party,
        headers={"Content-Type": content_type, "MIME-Version": "1.0"},
        body=data,
        signed_references=references,
    )
