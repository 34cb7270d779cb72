"""Peppol Business Message Envelope (UN/CEFACT SBDH 1.3 as BME 2.0.1 profiles it).

Two layers, as for every exact format in ehfgate: a faithful wire model (:class:`Envelope`, read by
:func:`read_envelope`) and a domain layer (:class:`EnvelopeData`, :func:`build_envelope`,
:func:`envelope_for_ubl`) that writes it. :func:`check_envelope` applies the Peppol rules (and the
SBDH XSD, which the caller passes: this package never locates artifacts itself).

Problem codes (severity in brackets; ``*`` = depends on :class:`EnvelopeRules`):

- ``SBDH-XSD`` [fatal] SBDH 1.3 schema error (only when an XSD is passed)
- ``SBDH-HEADER`` [fatal] no StandardBusinessDocumentHeader
- ``SBDH-HEADER-VERSION`` [fatal] HeaderVersion is not ``1.0``
- ``SBDH-SENDER-COUNT`` / ``SBDH-RECEIVER-COUNT`` [fatal] not exactly one Sender / Receiver
- ``SBDH-AUTHORITY`` [fatal] Identifier/@Authority is not ``iso6523-actorid-upis``
- ``SBDH-PARTICIPANT`` [fatal] participant value empty, too long or not ``NNNN:id``
- ``SBDH-DOCUMENT-IDENTIFICATION`` [fatal] DocumentIdentification missing
- ``SBDH-INSTANCE-ID`` [fatal] empty InstanceIdentifier; ``SBDH-INSTANCE-ID-UUID`` [warning] not a UUID
- ``SBDH-CREATION-DATE`` [fatal] not an xs:dateTime; ``SBDH-CREATION-DATE-TZ`` [warning*] no timezone
- ``SBDH-BUSINESS-SCOPE`` [fatal] BusinessScope missing
- ``SBDH-DOCUMENTID`` / ``SBDH-PROCESSID`` [fatal] scope missing, repeated, empty/padded or too long;
  ``SBDH-DOCUMENTID-SCHEME`` / ``SBDH-PROCESSID-SCHEME`` [warning] unknown identifier scheme
- ``SBDH-COUNTRY-C1`` [fatal*] COUNTRY_C1 missing, repeated or not a two-character code
- ``SBDH-MLS-TO`` [fatal*] MLS_TO scheme not iso6523-actorid-upis or value not ``NNNN:id``
- ``SBDH-MLS-TYPE`` [fatal] MLS_TYPE not ``ALWAYS_SEND``/``FAILURE_ONLY``
- ``SBDH-PAYLOAD`` [fatal] no business message, or more than one element after the header
- ``SBDH-STANDARD`` / ``SBDH-TYPE`` / ``SBDH-TYPE-VERSION`` [fatal] header vs payload root (XML payloads):
  Standard = namespace and prefix of DOCUMENTID, Type = local name, DOCUMENTID ends with ``:TypeVersion``

From :func:`check_payload_agreement` (a deeper comparison with a payload, UBL-aware):
``SBDH-AGREE-STANDARD``, ``SBDH-AGREE-TYPE``, ``SBDH-AGREE-TYPE-VERSION``, ``SBDH-AGREE-DOCUMENTID``,
``SBDH-AGREE-PROCESSID`` [fatal], and ``SBDH-PARTICIPANT`` for malformed sender/receiver.

Reading raises :class:`accesspoint.xml.XMLError` for non-XML and :class:`EnvelopeReadError`
(code ``SBDH-NOT-SBD``) when the root is not a StandardBusinessDocument.
"""

from accesspoint.sbdh.model import (
    SBDH_NS,
    DocumentIdentification,
    Envelope,
    EnvelopeProblem,
    EnvelopeReadError,
    PartnerIdentification,
    Scope,
    has_fatal,
)
from accesspoint.sbdh.reader import payload_bytes, read_envelope, unwrap
from accesspoint.sbdh.rules import (
    PEPPOL_RULES,
    EnvelopeRules,
    check_envelope,
    check_payload_agreement,
    load_schema,
)
from accesspoint.sbdh.ubl import UblFacts, ubl_facts
from accesspoint.sbdh.writer import EnvelopeData, build_envelope, envelope_for_ubl, render

__all__ = [
    "PEPPOL_RULES",
    "SBDH_NS",
    "DocumentIdentification",
    "Envelope",
    "EnvelopeData",
    "EnvelopeProblem",
    "EnvelopeReadError",
    "EnvelopeRules",
    "PartnerIdentification",
    "Scope",
    "UblFacts",
    "build_envelope",
    "check_envelope",
    "check_payload_agreement",
    "envelope_for_ubl",
    "has_fatal",
    "load_schema",
    "payload_bytes",
    "read_envelope",
    "render",
    "ubl_facts",
    "unwrap",
]
