"""Every way a message must be refused, each with the ebMS error it must produce."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest
from lxml import etree

from accesspoint.as4 import (
    PEPPOL,
    AnchorTrust,
    EbmsError,
    Limits,
    OutboundMessage,
    build_user_message,
    payloadcrypto,
    read_user_message,
)
from accesspoint.as4 import constants as c
from accesspoint.as4.writer import assemble_user_message
from accesspoint.as4.xmldsig import canonicalize, decode_base64, encode_base64, sha256
from accesspoint.pki import Credentials, DevPki
from tests.as4.conftest import OTHER, SENDER, submission
from tests.as4.helpers import NS, Parts, past, redigest_and_resign, resign, sbdh, take_apart


def refuse(
    content_type: str, body: bytes, receiver: Credentials, trust: AnchorTrust, **kw: object
) -> EbmsError:
    with pytest.raises(EbmsError) as info:
        read_user_message(content_type, body, keys=[receiver], trust=trust, **kw)  # type: ignore[arg-type]
    return info.value


def refuse_parts(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> EbmsError:
    return refuse(parts.content_type, parts.body(), receiver, trust)


@pytest.fixture
def parts(message: OutboundMessage) -> Parts:
    return take_apart(message.content_type, message.body)


def test_untouched_copy_is_accepted(
    parts: Parts, receiver: Credentials, trust: AnchorTrust, payload: bytes
) -> None:
    """The take-apart/reassemble helper itself changes nothing that matters."""
    got = read_user_message(parts.content_type, parts.body(), keys=[receiver], trust=trust)
    assert got.payload == payload


# -- integrity -----------------------------------------------------------------------------------------


def test_ciphertext_byte_changed(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    headers, data = parts.attachments[0]
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    parts.attachments[0] = (headers, bytes(flipped))
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0102", "gcm")


def test_payload_changed_and_reencrypted_for_receiver(
    parts: Parts, receiver: Credentials, trust: AnchorTrust, message: OutboundMessage
) -> None:
    """The EncryptedKey is not signed: anyone can re-encrypt a forged payload to the receiver's public
    certificate. Only the signed digest of the plaintext catches this."""
    key = payloadcrypto.new_session_key()
    forged = payloadcrypto.gzip_compress(b"<StandardBusinessDocument>forged</StandardBusinessDocument>")
    headers, _ = parts.attachments[0]
    parts.attachments[0] = (headers, payloadcrypto.encrypt(key, forged))
    value = parts.find(".//xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue")
    public = receiver.certificate.public_key()
    value.text = encode_base64(payloadcrypto.wrap_key(key, public))  # type: ignore[arg-type]
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "digest")
    assert err.ref_to_message_id == message.message_id


def test_messaging_changed(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    parts.find(".//eb:ConversationId").text = "hijacked"
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "digest")


def test_original_sender_changed(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    parts.find(".//eb:MessageProperties/eb:Property").text = "0192:999999999"
    assert refuse_parts(parts, receiver, trust).code == "EBMS:0101"


def test_signature_value_changed(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    value = parts.find(".//ds:SignatureValue")
    raw = bytearray(decode_base64(value.text, "x"))
    raw[10] ^= 0xFF
    value.text = encode_base64(bytes(raw))
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "signature")


def test_attachment_swapped_between_messages(
    sender: Credentials, receiver: Credentials, trust: AnchorTrust, parts: Parts
) -> None:
    other = build_user_message(
        submission(), sbdh(5000) + b"<!-- other -->", signer=sender, receiver_certificate=receiver.certificate
    )
    theirs = take_apart(other.content_type, other.body)
    headers, _ = parts.attachments[0]
    _, their_data = theirs.attachments[0]
    # Only the part: our key cannot open their ciphertext.
    parts.attachments[0] = (headers, their_data)
    assert refuse_parts(parts, receiver, trust).code == "EBMS:0102"
    # Part and their (unsigned) EncryptedKey: it decrypts, but it is not what was signed.
    ours_value = parts.find(".//xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue")
    ours_value.text = theirs.find(".//xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue").text
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "digest")


# -- signature wrapping and references ------------------------------------------------------------------


def _wrap(parts: Parts, element: etree._Element) -> etree._Element:
    """Move ``element`` into a wrapper header block and leave a forged copy in its place."""
    header = parts.find("S12:Header")
    forged = copy.deepcopy(element)
    element.addprevious(forged)
    wrapper = etree.SubElement(header, "{urn:attacker}Wrapper")
    wrapper.append(element)
    return forged


def test_messaging_wrapped_with_forged_copy_without_id(
    parts: Parts, receiver: Credentials, trust: AnchorTrust
) -> None:
    forged = _wrap(parts, parts.find("S12:Header/eb:Messaging"))
    del forged.attrib[c.WSU_ID]
    forged.find(".//eb:ConversationId", NS).text = "forged"  # type: ignore[union-attr]
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "unsigned-part")


def test_messaging_wrapped_with_forged_copy_same_id(
    parts: Parts, receiver: Credentials, trust: AnchorTrust
) -> None:
    forged = _wrap(parts, parts.find("S12:Header/eb:Messaging"))
    forged.find(".//eb:ConversationId", NS).text = "forged"  # type: ignore[union-attr]
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "duplicate-id")


def test_body_wrapped(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    body = parts.find("S12:Body")
    wrapper = etree.SubElement(parts.find("S12:Header"), "{urn:attacker}Wrapper")
    moved = copy.deepcopy(body)
    wrapper.append(moved)
    del body.attrib[c.WSU_ID]
    etree.SubElement(body, "{urn:attacker}Injected").text = "payload in the body"
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "unsigned-part")


def test_duplicate_id_anywhere(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    body_id = parts.find("S12:Body").get(c.WSU_ID, "")
    etree.SubElement(parts.find("S12:Header/wsse:Security"), "{urn:x}Extra", Id=body_id)
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "duplicate-id")


@pytest.mark.parametrize(
    "uri", ["http://attacker.example/messaging.xml", "", "#does-not-exist", "#xpointer(/)"]
)
def test_reference_outside_the_envelope(
    parts: Parts, sender: Credentials, receiver: Credentials, trust: AnchorTrust, uri: str
) -> None:
    ref = parts.find(".//ds:SignedInfo/ds:Reference")
    ref.set("URI", uri)
    resign(parts.root, sender.private_key)
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "reference-uri")


def test_reference_to_a_different_element(
    parts: Parts, sender: Credentials, receiver: Credentials, trust: AnchorTrust
) -> None:
    """A valid signature over the wrong elements (the BST instead of eb:Messaging) is not enough."""
    ref = parts.find(".//ds:SignedInfo/ds:Reference")
    token = parts.find(".//wsse:BinarySecurityToken")
    ref.set("URI", f"#{token.get(c.WSU_ID)}")
    ref.find("ds:DigestValue", NS).text = encode_base64(sha256(canonicalize(token)))  # type: ignore[union-attr]
    resign(parts.root, sender.private_key)
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "unsigned-part")


def test_attachment_reference_removed(
    parts: Parts, sender: Credentials, receiver: Credentials, trust: AnchorTrust
) -> None:
    ref = parts.find(".//ds:SignedInfo/ds:Reference[3]")
    ref.getparent().remove(ref)  # type: ignore[union-attr]
    resign(parts.root, sender.private_key)
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "unsigned-part")


# -- MIME ------------------------------------------------------------------------------------------------


def test_missing_attachment(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    parts.attachments.clear()
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0007", "missing-part")


def test_extra_unsigned_attachment(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    parts.attachments.append(({"Content-Type": "application/xml", "Content-ID": "<extra@x>"}, b"<evil/>"))
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0007", "extra-part")


def test_truncated_mime(message: OutboundMessage, receiver: Credentials, trust: AnchorTrust) -> None:
    for cut in (len(message.body) // 2, len(message.body) - 10, 300):
        assert refuse(message.content_type, message.body[:cut], receiver, trust).code == "EBMS:0007"


def test_empty_body(message: OutboundMessage, receiver: Credentials, trust: AnchorTrust) -> None:
    err = refuse(message.content_type, b"", receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0007", "empty")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "",
        "multipart/mixed; boundary=x",
        'multipart/related; boundary="other"; type="application/soap+xml"',
        'multipart/related; type="application/soap+xml"',
        'multipart/related; boundary="{b}"; type="text/xml"',
        "application/json",
    ],
)
def test_wrong_content_type(
    message: OutboundMessage, receiver: Credentials, trust: AnchorTrust, content_type: str
) -> None:
    boundary = message.content_type.split('boundary="')[1].split('"')[0]
    err = refuse(content_type.replace("{b}", boundary), message.body, receiver, trust)
    assert err.code == "EBMS:0007"


def test_bare_soap_user_message_without_payload(
    parts: Parts, receiver: Credentials, trust: AnchorTrust
) -> None:
    soap = etree.tostring(parts.root)
    err = refuse("application/soap+xml; charset=UTF-8", soap, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0007", "missing-part")


# -- keys, algorithms, certificates -------------------------------------------------------------------


def test_wrong_receiver_key(message: OutboundMessage, pki: DevPki, trust: AnchorTrust) -> None:
    err = refuse(message.content_type, message.body, pki.ap(OTHER), trust)
    assert (err.code, err.reason) == ("EBMS:0102", "no-key")


def test_right_certificate_wrong_key_material(
    parts: Parts, receiver: Credentials, trust: AnchorTrust
) -> None:
    value = parts.find(".//xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue")
    raw = bytearray(decode_base64(value.text, "x"))
    raw[5] ^= 1
    value.text = encode_base64(bytes(raw))
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0102", "key-unwrap")


@pytest.mark.parametrize(
    ("path", "algorithm"),
    [
        (".//ds:SignedInfo/ds:SignatureMethod", c.RSA_SHA1),
        (".//ds:SignedInfo/ds:Reference/ds:DigestMethod", c.SHA1),
        (".//ds:SignedInfo/ds:CanonicalizationMethod", c.C14N),
        (".//ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform", c.C14N),
        (".//xenc:EncryptedKey/xenc:EncryptionMethod", c.RSA_1_5),
        (".//xenc:EncryptedKey/xenc:EncryptionMethod", c.RSA_OAEP_MGF1P),
        (".//xenc:EncryptedKey/xenc:EncryptionMethod/ds:DigestMethod", c.SHA1),
        (".//xenc:EncryptedKey/xenc:EncryptionMethod/{http://www.w3.org/2009/xmlenc11#}MGF", c.MGF1_SHA1),
        (".//xenc:EncryptedData/xenc:EncryptionMethod", c.AES128_CBC),
        (".//ds:SignedInfo/ds:SignatureMethod", "http://www.randomcrypt.com/random"),
    ],
)
def test_algorithm_outside_allow_list(
    parts: Parts, receiver: Credentials, trust: AnchorTrust, path: str, algorithm: str
) -> None:
    parts.find(path).set("Algorithm", algorithm)
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "algorithm")


def test_unsigned_message(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    security = parts.find("S12:Header/wsse:Security")
    security.getparent().remove(security)  # type: ignore[union-attr]
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "unsigned")


def test_key_identifier_instead_of_direct_reference(
    parts: Parts, receiver: Credentials, trust: AnchorTrust
) -> None:
    str_el = parts.find(".//ds:Signature/ds:KeyInfo/wsse:SecurityTokenReference")
    for child in list(str_el):
        str_el.remove(child)
    etree.SubElement(str_el, f"{{{c.WSSE}}}KeyIdentifier").text = "AAAA"
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "token")


def _from(pki_creds: Credentials, receiver: Credentials, from_party: str = SENDER) -> OutboundMessage:
    return build_user_message(
        submission(from_party=from_party),
        b"<x/>",
        signer=pki_creds,
        receiver_certificate=receiver.certificate,
    )


def test_expired_certificate(pki: DevPki, receiver: Credentials, trust: AnchorTrust) -> None:
    expired = pki.issue(SENDER, not_before=past(400), not_after=past(1))
    out = _from(expired, receiver)
    err = refuse(out.content_type, out.body, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "certificate-expired")


def test_not_yet_valid_certificate(pki: DevPki, receiver: Credentials, trust: AnchorTrust) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    early = pki.issue(SENDER, not_before=future, not_after=future + dt.timedelta(days=30))
    out = _from(early, receiver)
    err = refuse(out.content_type, out.body, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "certificate-not-yet-valid")


def test_certificate_from_unknown_ca(foreign_pki: DevPki, receiver: Credentials, trust: AnchorTrust) -> None:
    out = _from(foreign_pki.ap(SENDER), receiver)
    err = refuse(out.content_type, out.body, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "certificate-untrusted")


def test_foreign_chain_in_trust_pool_does_not_help(
    foreign_pki: DevPki, pki: DevPki, receiver: Credentials
) -> None:
    """Handing the foreign intermediate to the path builder still ends at an unknown root."""
    trust = AnchorTrust(pki.anchors, (*pki.intermediates, *foreign_pki.intermediates))
    out = _from(foreign_pki.ap(SENDER), receiver)
    assert refuse(out.content_type, out.body, receiver, trust).reason == "certificate-untrusted"


def test_cn_differs_from_from_party(pki: DevPki, receiver: Credentials, trust: AnchorTrust) -> None:
    """A trusted AP signing as another seat: validly signed, but its certificate is not the From party."""
    other = pki.ap(OTHER)
    out = _from(other, receiver, from_party=OTHER)
    parts = take_apart(out.content_type, out.body)
    parts.find(".//eb:From/eb:PartyId").text = SENDER
    redigest_and_resign(parts.root, other.private_key)
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0101", "certificate-party")


def test_writer_refuses_to_sign_as_someone_else(pki: DevPki, receiver: Credentials) -> None:
    with pytest.raises(ValueError, match="our certificate is for 'POP000003'"):
        _from(pki.ap(OTHER), receiver, from_party=SENDER)
    with pytest.raises(ValueError, match="not a seat id"):
        _from(pki.ap(SENDER), receiver, from_party="sender-1")


def test_signature_object_refused(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    etree.SubElement(parts.find(".//ds:Signature"), f"{{{c.DS}}}Object")
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0103", "signature-shape")


# -- compression -----------------------------------------------------------------------------------------


def test_gzip_bomb_ratio(sender: Credentials, receiver: Credentials, trust: AnchorTrust) -> None:
    bomb = b"\0" * (8 * 1024 * 1024)  # ~8 KB of gzip
    out = build_user_message(submission(), bomb, signer=sender, receiver_certificate=receiver.certificate)
    profile = dataclasses.replace(
        PEPPOL, limits=Limits(max_compression_ratio=100, ratio_floor_bytes=64 * 1024)
    )
    err = refuse(out.content_type, out.body, receiver, trust, profile=profile)
    assert (err.code, err.reason) == ("EBMS:0303", "gzip-bomb")


def test_payload_size_limit(sender: Credentials, receiver: Credentials, trust: AnchorTrust) -> None:
    out = build_user_message(
        submission(), sbdh(300_000), signer=sender, receiver_certificate=receiver.certificate
    )
    profile = dataclasses.replace(PEPPOL, limits=Limits(max_payload_bytes=100_000))
    err = refuse(out.content_type, out.body, receiver, trust, profile=profile)
    assert (err.code, err.reason) == ("EBMS:0303", "gzip-bomb")


@pytest.mark.parametrize(
    ("compressed", "reason"),
    [
        (b"this is not gzip at all", "gzip-invalid"),
        (payloadcrypto.gzip_compress(b"<a/>")[:-6], "gzip-truncated"),
        (payloadcrypto.gzip_compress(b"<a/>") + b"trailing", "gzip-trailing"),
    ],
)
def test_bad_gzip_is_decompression_failure(
    sender: Credentials, receiver: Credentials, trust: AnchorTrust, compressed: bytes, reason: str
) -> None:
    """Correctly signed and encrypted, but the sender's gzip is broken: 0303, not an integrity error."""
    out = assemble_user_message(
        submission(), compressed, signer=sender, receiver_certificate=receiver.certificate
    )
    err = refuse(out.content_type, out.body, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0303", reason)


def test_unsupported_compression_type(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    prop = parts.find(".//eb:PartProperties/eb:Property[@name='CompressionType']")
    prop.text = "application/x-rar"
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0303", "compression-type")


# -- profile -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "attr", "value"),
    [
        (".//eb:From/eb:PartyId", "type", "urn:oasis:names:tc:ebcore:partyid-type:unregistered"),
        (".//eb:To/eb:PartyId", None, "not-a-seat"),
        (".//eb:From/eb:Role", None, "http://example.com/sender"),
        (".//eb:AgreementRef", None, "urn:other"),
        (".//eb:AgreementRef", "type", "urn:type"),
        (".//eb:Service", "type", "other-procid"),
        (".//eb:UserMessage", "mpc", "urn:other-mpc"),
    ],
)
def test_profile_values(
    parts: Parts, receiver: Credentials, trust: AnchorTrust, path: str, attr: str | None, value: str
) -> None:
    element = parts.find(path)
    if attr is None:
        element.text = value
    else:
        element.set(attr, value)
    assert refuse_parts(parts, receiver, trust).code == "EBMS:0010"


def test_missing_final_recipient(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    prop = parts.find(".//eb:MessageProperties/eb:Property[@name='finalRecipient']")
    prop.getparent().remove(prop)  # type: ignore[union-attr]
    assert refuse_parts(parts, receiver, trust).code == "EBMS:0010"


def test_two_user_messages(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    user = parts.find(".//eb:UserMessage")
    user.addnext(copy.deepcopy(user))
    err = refuse_parts(parts, receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0009", "user-message")


def test_soap11_refused(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    soap = etree.tostring(parts.root).replace(c.SOAP12.encode(), c.SOAP11.encode())
    err = refuse(parts.content_type, parts.body(soap), receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0009", "soap-version")


def test_doctype_refused(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    soap = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + etree.tostring(parts.root)
    err = refuse(parts.content_type, parts.body(soap), receiver, trust)
    assert (err.code, err.reason) == ("EBMS:0009", "xml")


def test_unknown_must_understand_header(parts: Parts, receiver: Credentials, trust: AnchorTrust) -> None:
    block = etree.SubElement(parts.find("S12:Header"), "{urn:x}Block")
    block.set(f"{{{c.SOAP12}}}mustUnderstand", "true")
    assert refuse_parts(parts, receiver, trust).code == "EBMS:0009"


def test_error_carries_message_id_for_the_signal(
    message: OutboundMessage, pki: DevPki, trust: AnchorTrust
) -> None:
    err = refuse(message.content_type, message.body, pki.ap(OTHER), trust)
    assert err.ref_to_message_id == message.message_id
