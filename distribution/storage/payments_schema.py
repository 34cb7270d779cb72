"""Tables of the payment channels and of money coming back (KID, mandates, claims, payments).

Settings a tenant gives for a channel are rows in ``tenant_settings`` (plain JSON) and, for
credentials, in ``tenant_secrets`` (sealed with ``secrets.key``; never returned or logged).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from accesspoint.store.schema import metadata

# Per tenant, per channel: {"factoring": {...}, "vipps": {...}, "kid": {...}, "avtalegiro": {...}}.
tenant_settings = Table(
    "tenant_settings",
    metadata,
    Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

tenant_secrets = Table(
    "tenant_secrets",
    metadata,
    Column("tenant_id", String(40), ForeignKey("tenants.id"), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),  # accesspoint.secretbox output
    Column("updated_at", Float, nullable=False),
)

# Money that came back. ``reference`` is unique per tenant and channel (an OCR transaction's
# transmission/assignment/number, a Vipps payment reference), so the same payment never books twice.
payments = Table(
    "payments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("invoice_id", String(40), ForeignKey("invoices.id")),  # None: unmatched
    Column("channel", String(20), nullable=False),  # ocr | avtalegiro | vipps | manual
    Column("reference", String(200), nullable=False),
    Column("amount", String(40), nullable=False),  # decimal string
    Column("currency", String(3), nullable=False),
    Column("paid_on", String(10)),  # ISO date
    Column("kid", String(40)),
    Column("match", String(20), nullable=False),  # full | partial | over | unmatched
    Column("detail", JSON),
    Column("import_id", String(40)),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "channel", "reference", name="uq_payments_tenant_channel_reference"),
    Index("ix_payments_tenant_invoice", "tenant_id", "invoice_id"),
    Index("ix_payments_tenant_kid", "tenant_id", "kid"),
)

payment_imports = Table(
    "payment_imports",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # ocr
    Column("sha256", String(64), nullable=False),
    Column("blob_id", String(40), ForeignKey("blobs.id"), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "sha256", name="uq_payment_imports_tenant_sha256"),
)

# AvtaleGiro agreements (mandates): a payer's KID with the bank's agreement, learned from agreement
# files or registered through the API.
mandates = Table(
    "mandates",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("kid", String(40), nullable=False),
    Column("customer", String(200)),  # the customer reference (e.g. number) the KID derives from
    Column("notify", Boolean, nullable=False, default=False),  # the payer wants the bank's notice
    Column("active", Boolean, nullable=False, default=True),
    Column("source", String(20), nullable=False),  # file | api
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "kid", name="uq_mandates_tenant_kid"),
)

# AvtaleGiro payment claims waiting for (or written into) a claims file.
claims = Table(
    "claims",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("invoice_id", String(40), ForeignKey("invoices.id"), nullable=False),
    Column("kid", String(40), nullable=False),
    Column("amount", String(40), nullable=False),
    Column("due_date", String(10), nullable=False),
    Column("notify", Boolean, nullable=False, default=False),
    Column("state", String(20), nullable=False),  # queued | in-file | sent | cancelled
    Column("claim_file_id", String(40)),
    Column("transaction_number", Integer),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_claims_tenant_state", "tenant_id", "state"),
)

claim_files = Table(
    "claim_files",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("transmission_number", String(7), nullable=False),
    Column("blob_id", String(40), ForeignKey("blobs.id"), nullable=False),
    Column("state", String(20), nullable=False),  # written | sent
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float),
)
