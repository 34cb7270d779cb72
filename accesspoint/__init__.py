"""ehfgate access point: the Peppol core (AS4, SBDH, validation, discovery, storage, server)."""

__version__ = "0.1.0"
