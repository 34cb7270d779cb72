"""Tables of the distribution run. They live in the access point's metadata, so one Alembic history
(``schemas/migrations``) creates everything and foreign keys reach ``tenants`` and ``blobs``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from accesspoint.store.schema import metadata

# One row per invoice handed to the run; ``status`` is derived from the attempts and kept here for queries.
invoices = Table(
    "invoices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("method", String(30)),  # the method that delivered (or sold) it
    Column("override_method", String(30)),  # deliver by this method only
    Column("customer", JSON, nullable=False),
    Column("document_blob", String(40), ForeignKey("blobs.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # invoice | credit_note
    Column("number", String(200)),
    Column("kid", String(40)),
    Column("amount", String(40)),  # payable amount as a decimal string (no float rounding)
    Column("currency", String(3)),
    Column("due_date", String(10)),
    Column("paid_amount", String(40)),  # sum of matched payments, decimal string
    Column("idempotency_key", String(200)),
    Column("plan", JSON),  # the methods in the order this invoice tries them, fixed at acceptance
    Column("position", Integer, nullable=False, default=0),  # index into plan of the method in hand
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_invoices_tenant_idempotency"),
    Index("ix_invoices_tenant_created", "tenant_id", "created_at"),
    Index("ix_invoices_tenant_kid", "tenant_id", "kid"),  # payments are matched by KID
    Index("ix_invoices_tenant_number", "tenant_id", "number"),
)

invoice_attachments = Table(
    "invoice_attachments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("invoice_id", String(40), ForeignKey("invoices.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("mime_type", String(127), nullable=False),
    Column("blob_id", String(40), ForeignKey("blobs.id"), nullable=False),
)

# Every eligibility check and delivery attempt, append-only.
invoice_attempts = Table(
    "invoice_attempts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("invoice_id", String(40), ForeignKey("invoices.id"), nullable=False, index=True),
    Column("method", String(30), nullable=False),
    Column(
        "outcome", String(30), nullable=False
    ),  # not-eligible | delivered | pending | cannot-receive | ...
    Column("reason", Text, nullable=False),
    Column("reference", String(200)),
    Column("evidence", JSON),
    Column("at", Float, nullable=False),
    Index("ix_invoice_attempts_reference", "reference"),  # a finished delivery finds its run
)

# The tenant's run: ``{"methods": [{"method": "ehf"}, {"method": "email", ...}]}``.
distribution_runs = Table(
    "distribution_runs",
    metadata,
    Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
    Column("methods", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# The tenant's look: colours, footer, language, e-mail sender; the logo as a blob.
distribution_designs = Table(
    "distribution_designs",
    metadata,
    Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
    Column("settings", JSON, nullable=False),
    Column("logo_blob", String(40), ForeignKey("blobs.id")),
    Column("updated_at", Float, nullable=False),
)

email_templates = Table(
    "email_templates",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("name", String(60), nullable=False),  # e.g. "invoice"
    Column("language", String(5), nullable=False),
    Column("subject", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "name", "language", name="uq_email_templates_tenant_name_language"),
)

printers = Table(
    "printers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("max_bytes", Integer),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "name", name="uq_printers_tenant_name"),
)
