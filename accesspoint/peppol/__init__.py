"""Peppol specifics shared across the core: identifiers (and, later, discovery and PKI trust)."""
