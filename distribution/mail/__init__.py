"""Outgoing e-mail: who it is from, how it is built and signed, and how it is handed to SMTP."""
