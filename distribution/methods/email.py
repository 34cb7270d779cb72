"""``email``: the invoice PDF and every attachment, with the tenant's template, to the customer's
invoice e-mail address (else their e-mail address).

Settings: ``template`` (a saved template's name; default ``invoice``) and ``language`` (``nb`` or
``en``; default the tenant design's language). Without a saved template of that name and language the
built-in one is used, so e-mail works with no set-up.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Mapping
from typing import Any, ClassVar

from jinja2 import TemplateError

from distribution.mail.address import is_address
from distribution.mail.compose import compose, message_id_for
from distribution.mail.deliver import sender_for, transmit
from distribution.mail.files import files_evidence, invoice_pdf
from distribution.methods.base import Customer, InvoiceContext, Outcome, Result, SettingsError, Verdict
from distribution.render.design import LANGUAGES, Language
from distribution.render.pool import RendererUnavailable
from distribution.storage.designs import StoredDesign, get_design
from distribution.storage.templates import get_template
from distribution.templates import (
    DEFAULT_NAME,
    EmailTemplate,
    default_template,
    merge_fields,
    render_template,
)

log = logging.getLogger("ehfgate.distribution.email")

TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
SETTINGS = ("template", "language")


def recipient_of(customer: Customer) -> tuple[str | None, str]:
    """The address to use and a phrase saying which (or why none)."""
    if is_address(customer.invoice_email):
        return customer.invoice_email, "invoice e-mail"
    if is_address(customer.email):
        return customer.email, "e-mail"
    if customer.invoice_email or customer.email:
        return None, "the customer's e-mail address is not a valid address"
    return None, "the customer has no e-mail address"


def design_language(design: StoredDesign) -> Language:
    language = design.settings.get("language")
    return language if language in LANGUAGES else "nb"


def check_common(settings: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise SettingsError(f"unknown settings {unknown}; known: {list(allowed)}")
    language = settings.get("language")
    if language is not None and language not in LANGUAGES:
        raise SettingsError(f"language must be one of {', '.join(LANGUAGES)}")


class EmailMethod:
    name: ClassVar[str] = "email"

    def __init__(self, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._tls_context = tls_context  # a private CA for the SMTP server; None uses the system's

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        check_common(settings, SETTINGS)
        template = settings.get("template")
        if template is not None and (not isinstance(template, str) or not TEMPLATE_NAME.fullmatch(template)):
            raise SettingsError("template must be a template name: a-z, 0-9, '-' or '_', at most 60")

    async def eligible(self, ctx: InvoiceContext) -> Verdict:
        address, which = recipient_of(ctx.customer)
        if address is None:
            return Verdict(False, which)
        return Verdict(True, f"the customer has an {which} address ({address})")

    async def _template(self, ctx: InvoiceContext) -> tuple[StoredDesign, Language, EmailTemplate, str]:
        name = ctx.settings.get("template") or DEFAULT_NAME
        async with ctx.services.store.connect() as conn:
            design = ctx.design if ctx.design is not None else await get_design(conn, ctx.tenant.id)
            language: Language = ctx.settings.get("language") or design_language(design)
            stored = await get_template(conn, ctx.tenant.id, name, language)
        if stored is not None:
            return design, language, stored.template, f"{name} ({language})"
        source = "built-in" if name == DEFAULT_NAME else f"built-in (no template {name!r} in {language})"
        return design, language, default_template(language), source

    async def deliver(self, ctx: InvoiceContext) -> Result:
        address, which = recipient_of(ctx.customer)
        if address is None:
            return Result(Outcome.CANNOT_RECEIVE, which)
        design, language, template, source = await self._template(ctx)
        sender = sender_for(ctx.services.config, design, ctx.tenant)
        if isinstance(sender, Result):
            return sender
        fields = merge_fields(ctx.invoice, ctx.customer, ctx.tenant.name, language)
        try:
            rendered = render_template(template, fields)
        except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
            return Result(Outcome.PERMANENT, f"the e-mail template {source} does not render: {exc}")
        try:
            files = (await invoice_pdf(ctx, language), *ctx.attachments)
        except RendererUnavailable as exc:  # a worker process died: another try will have a new one
            return Result(Outcome.TRANSIENT, str(exc))
        except Exception as exc:  # the renderer is deterministic: a failure will not go away
            log.exception("invoice %s: PDF rendering failed", ctx.invoice_id)
            return Result(Outcome.PERMANENT, f"the invoice PDF could not be rendered: {type(exc).__name__}")
        message = compose(
            sender=sender,
            recipients=[address],
            subject=rendered.subject,
            message_id=message_id_for(ctx.attempt_key, sender.domain),
            files=files,
            text=rendered.text,
            html=rendered.html,
        )
        evidence = {"template": source, "language": language, "attachments": files_evidence(files)}
        return await transmit(
            ctx,
            message,
            sender=sender,
            recipients=[address],
            evidence=evidence,
            tls_context=self._tls_context,
        )

    async def status(self, ctx: InvoiceContext, reference: str) -> Result:
        """E-mail is never pending: acceptance by the SMTP server is final."""
        return Result(Outcome.DELIVERED, "accepted by the SMTP server", reference=reference)
