"""The database schema (SQLAlchemy Core). Migrations in ``schemas/migrations`` create exactly this.

Conventions: ids are random text ids (unguessable, so a tenant cannot probe another's documents);
scheduling columns are epoch seconds (``Float``) so comparisons behave the same on SQLite and
PostgreSQL; every row that belongs to a business carries ``tenant_id``.
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
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("lookup", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("label", String(200)),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

participants = Table(
    "participants",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("participant", String(200), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size", Integer, nullable=False),
    Column("media_type", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

outbound = Table(
    "outbound_documents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("idempotency_key", String(200)),
    Column("sender", String(200), nullable=False),
    Column("receiver", String(200), nullable=False),
    Column("document_type", Text, nullable=False),
    Column("process", String(300), nullable=False),
    Column("instance_id", String(100), nullable=False),
    Column("message_id", String(200), nullable=False, unique=True),
    Column("payload_blob", String(40), ForeignKey("blobs.id"), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("endpoint_url", Text),
    Column("report", JSON),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "idempotency_key"),
    Index("ix_outbound_documents_tenant_created", "tenant_id", "created_at"),
)

inbound = Table(
    "inbound_documents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("message_id", String(200), nullable=False, unique=True),
    Column("conversation_id", String(200)),
    Column("from_party", String(100)),
    Column("sender", String(200), nullable=False),
    Column("receiver", String(200), nullable=False),
    Column("document_type", Text, nullable=False),
    Column("process", String(300), nullable=False),
    Column("payload_blob", String(40), ForeignKey("blobs.id"), nullable=False),
    Column("report", JSON),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("acked_at", Float),
    Index("ix_inbound_documents_tenant_status_created", "tenant_id", "status", "created_at"),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("direction", String(10), nullable=False),
    Column("document_id", String(40), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("blob_id", String(40), ForeignKey("blobs.id"), nullable=False),
    Column("detail", JSON),
    Column("created_at", Float, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(40), index=True),
    Column("subject", String(40), nullable=False, index=True),
    Column("kind", String(60), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("detail", JSON),
    Column("at", Float, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("ref", String(40), nullable=False),
    Column("run_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(100)),
    Column("lease_until", Float),
    Column("done", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Index("ix_jobs_due", "done", "kind", "run_at"),
)

received_messages = Table(
    "received_messages",
    metadata,
    Column("message_id", String(200), primary_key=True),
    Column("inbound_id", String(40)),
    Column("receipt_blob", String(40), ForeignKey("blobs.id"), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("webhook_id", String(40), ForeignKey("webhooks.id"), nullable=False, index=True),
    Column("event", String(60), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
)

# Fingerprints of the keys processes sign with (webhooks.secret_key, secrets.key): every process on
# one database must hold the same keys.
keyring = Table(
    "keyring",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
)
