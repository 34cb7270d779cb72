"""Embedding the invoice PDF and attachments in the UBL keeps the EHF document valid (the official
rules run on the result), and attachments Peppol does not allow are left out and named."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lxml import etree

from accesspoint.config import load_config
from accesspoint.validation.engine import Validator
from accesspoint.validation.setup import ValidationUnavailable, locate
from distribution.ehf.embed import CAC, CBC, embed
from distribution.invoice import read_invoice
from distribution.methods.base import AttachmentFile
from distribution.render import Design, render_pdf
from tests.distribution.corpus import CREDIT_NOTE_EXAMPLE, NORWEGIAN_EXAMPLE


@pytest.fixture(scope="module")
def validator() -> Validator:
    try:
        root, catalogue = locate(load_config())
    except ValidationUnavailable as exc:
        pytest.fail(str(exc))
    return Validator(root, catalogue)


ATTACHMENTS = (
    AttachmentFile("timesheet.csv", "text/csv", b"date;hours\n2025-06-01;7.5\n"),
    AttachmentFile(
        "contract.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"
    ),
    AttachmentFile("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
)


@pytest.mark.parametrize("name", [NORWEGIAN_EXAMPLE, CREDIT_NOTE_EXAMPLE])
def test_embedded_pdf_and_attachments_keep_the_document_valid(
    corpus: Path, validator: Validator, name: str
) -> None:
    original = (corpus / name).read_bytes()
    assert validator.validate(original).valid
    invoice = read_invoice(original)
    pdf = render_pdf(invoice, Design())
    result = embed(original, invoice.number, pdf, ATTACHMENTS)
    assert result.skipped == ("contract.docx",)
    report = validator.validate(result.document)
    assert report.valid, [f.rule for f in report.fatal]

    root = etree.fromstring(result.document)
    objects = root.findall(
        f"{{{CAC}}}AdditionalDocumentReference/{{{CAC}}}Attachment/{{{CBC}}}EmbeddedDocumentBinaryObject"
    )
    by_name = {o.get("filename"): o for o in objects}
    assert base64.b64decode(by_name[f"{invoice.number}.pdf"].text or "") == pdf
    assert by_name[f"{invoice.number}.pdf"].get("mimeCode") == "application/pdf"
    assert base64.b64decode(by_name["timesheet.csv"].text or "") == ATTACHMENTS[0].content
    assert "contract.docx" not in by_name
    ids = [r.findtext(f"{{{CBC}}}ID") for r in root.findall(f"{{{CAC}}}AdditionalDocumentReference")]
    assert len(ids) == len(set(ids))  # unique reference ids
