"""E-mail templates: merge fields from real documents, the sandbox, and what is refused when saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from distribution.invoice import Invoice, read_invoice
from distribution.methods.base import Customer
from distribution.render.formatting import NBSP
from distribution.templates import (
    FIELD_NAMES,
    EmailTemplate,
    TemplateRefused,
    check_template,
    default_template,
    merge_fields,
    render_template,
)
from distribution.templates.sandbox import MAX_BODY_CHARS
from tests.distribution.corpus import NORWEGIAN_CREDIT_NOTE, NORWEGIAN_EXAMPLE


@pytest.fixture
def invoice(corpus: Path) -> Invoice:
    return read_invoice((corpus / NORWEGIAN_EXAMPLE).read_bytes())


def plain(
    subject: str = "Faktura {{ invoice_number }}", html: str = "<p>x</p>", text: str = "x"
) -> EmailTemplate:
    return EmailTemplate(subject=subject, html=html, text=text)


def test_merge_fields_follow_the_catalogue_and_the_language(invoice: Invoice) -> None:
    nb = merge_fields(invoice, Customer(), "Acme", "nb")
    en = merge_fields(invoice, Customer(), "Acme", "en")
    assert set(nb) == set(en) == FIELD_NAMES
    assert (nb["invoice_number"], nb["kid"], nb["account_number"]) == (
        "TOSL108",
        "0003434323213231",
        "86011117947",
    )
    assert (nb["amount"], en["amount"]) == ("802,00", "802.00")
    assert (nb["issue_date"], en["issue_date"]) == ("30.06.2013", "30 Jun 2013")
    assert (nb["due_date"], en["due_date"]) == ("20.07.2013", "20 Jul 2013")
    assert (nb["document_title"], en["document_title"]) == ("Faktura", "Invoice")
    assert nb["credit_note"] is False
    assert nb["customer_name"] == "Buyercompany ASA"  # the buyer's legal name when none is given
    assert merge_fields(invoice, Customer(name="Kari"), "Acme", "nb")["customer_name"] == "Kari"


def test_credit_note_fields(corpus: Path) -> None:
    credit = read_invoice((corpus / NORWEGIAN_CREDIT_NOTE).read_bytes())
    fields = merge_fields(credit, Customer(), "Acme", "nb")
    assert fields["credit_note"] is True
    assert fields["document_title"] == "Kreditnota"
    assert fields["amount"] == f"1{NBSP}543,34"
    rendered = render_template(default_template("nb"), fields)
    assert rendered.subject.startswith("Kreditnota 0997462625")
    assert "kreditnota 0997462625" in rendered.text and "forfall" not in rendered.text


@pytest.mark.parametrize("language", ["nb", "en"])
def test_default_templates_fill_subject_and_both_bodies(invoice: Invoice, language: str) -> None:
    template = default_template(language)  # type: ignore[arg-type]
    check_template(template)
    fields = merge_fields(invoice, Customer(name="Kari Nordmann"), "Acme", language)  # type: ignore[arg-type]
    rendered = render_template(template, fields)
    assert "TOSL108" in rendered.subject and "The Sellercompany ASA" in rendered.subject
    for body in (rendered.text, rendered.html):
        for value in (
            "Kari Nordmann",
            "TOSL108",
            fields["amount"],
            fields["due_date"],
            "0003434323213231",
            "86011117947",
        ):
            assert str(value) in body, (value, body)
    assert "{{" not in rendered.text + rendered.html + rendered.subject


def test_html_is_escaped_and_text_is_not(invoice: Invoice) -> None:
    name = "<script>alert('x')</script> & Co"
    template = plain(
        subject="Til {{ customer_name }}", html="<p>{{ customer_name }}</p>", text="{{ customer_name }}"
    )
    check_template(template)
    rendered = render_template(template, merge_fields(invoice, Customer(name=name), "Acme", "nb"))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in rendered.html
    assert rendered.text == name
    assert rendered.subject == f"Til {name}"


def test_subject_is_one_line(invoice: Invoice) -> None:
    template = plain(subject="Faktura\n{{ invoice_number }}\r\n  fra {{ tenant_name }}")
    rendered = render_template(template, merge_fields(invoice, Customer(), "Acme", "nb"))
    assert rendered.subject == "Faktura TOSL108 fra Acme"


@pytest.mark.parametrize(
    ("source", "code", "construct"),
    [
        ("{{ ''.__class__ }}", "template-forbidden", ".__class__"),
        ("{{ ''.__class__.__mro__ }}", "template-forbidden", ".__mro__"),
        ("{{ kid.__init__ }}", "template-forbidden", ".__init__"),
        ("{{ kid['__class__'] }}", "template-forbidden", "['__class__']"),
        ("{{ kid.upper() }}", "template-forbidden", "call"),
        ("{{ kid|attr('__class__') }}", "template-forbidden", "|attr"),
        ("{% include 'x' %}", "template-forbidden", "include"),
        ("{% import 'x' as y %}", "template-forbidden", "import"),
        ("{% from 'x' import y %}", "template-forbidden", "from … import"),
        ("{% extends 'x' %}", "template-forbidden", "extends"),
        ("{{ namespace() }}", "template-forbidden", "call"),
        ("{% for c in kid %}{{ c }}{% endfor %}", "template-forbidden", "for"),
        ("{% set x = kid %}", "template-forbidden", "set"),
        ("{{ kid * 100000000 }}", "template-forbidden", "*"),
        ("{% autoescape false %}{{ kid }}{% endautoescape %}", "template-forbidden", "autoescape"),
        ("{{ kid|safe }}", "template-forbidden", "|safe"),
    ],
)
def test_unsafe_constructs_are_refused(source: str, code: str, construct: str) -> None:
    with pytest.raises(TemplateRefused) as refused:
        check_template(plain(html=f"<p>ok</p>\n{source}"))
    assert (refused.value.code, refused.value.part, refused.value.construct) == (code, "html", construct)
    assert refused.value.line == 2
    assert "not allowed" in refused.value.detail or "forbids" in refused.value.detail


@pytest.mark.parametrize("name", ["customer_email", "cycler", "joiner", "range", "lipsum"])
def test_unknown_fields_and_jinja_globals_are_refused(name: str) -> None:
    with pytest.raises(TemplateRefused) as refused:
        check_template(plain(text=f"Hei {{{{ {name} }}}} {{{{ kid }}}}"))
    assert (refused.value.code, refused.value.part, refused.value.fields) == (
        "template-unknown-field",
        "text",
        (name,),
    )
    assert name in str(refused.value) and "customer_name" in str(refused.value)  # the catalogue is named


def test_syntax_error_is_refused_with_its_line() -> None:
    with pytest.raises(TemplateRefused) as refused:
        check_template(plain(text="line one\n{% if kid %}KID {{ kid }"))
    assert (refused.value.code, refused.value.part, refused.value.line) == ("template-syntax", "text", 2)


def test_oversized_template_is_refused() -> None:
    with pytest.raises(TemplateRefused) as refused:
        check_template(plain(html="x" * (MAX_BODY_CHARS + 1)))
    assert (refused.value.code, refused.value.part) == ("template-too-large", "html")


def test_deep_nesting_is_refused() -> None:
    for source in (
        "{% if kid %}" * 60 + "x" + "{% endif %}" * 60,
        "{{ " + "(" * 400 + "kid" + ")" * 400 + " }}",
    ):
        with pytest.raises(TemplateRefused) as refused:
            check_template(plain(text=source))
        assert refused.value.part == "text" and "nest" in refused.value.detail


def test_template_that_fails_its_trial_render_is_refused() -> None:
    with pytest.raises(TemplateRefused) as refused:
        check_template(plain(subject="{% if amount > 5 %}big{% endif %}"))  # text compared with a number
    assert (refused.value.code, refused.value.part) == ("template-render", "subject")


def test_allowed_constructs_pass() -> None:
    check_template(
        plain(
            subject="{{ document_title|upper }} {{ invoice_number|default('-') }}",
            html="{% if credit_note %}K{% elif kid is defined and kid != '' %}{{ kid ~ '!' }}"
            "{% else %}-{% endif %}",
            text="{{ customer_name|truncate(20) }} {{ 'ja' if due_date else 'nei' }}"
            " {{ language in ['nb', 'en'] }}",
        )
    )


def test_sandbox_blocks_internals_even_without_the_save_check(invoice: Invoice) -> None:
    fields = merge_fields(invoice, Customer(), "Acme", "nb")
    with pytest.raises(SecurityError):
        render_template(plain(text="{{ kid.__class__.__mro__ }}"), fields)
