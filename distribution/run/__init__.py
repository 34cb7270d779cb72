"""The distribution run: the order an invoice tries methods, and the durable engine that works it."""
