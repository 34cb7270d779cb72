"""Delivery methods: ``base`` is the interface, one module a channel, ``registry`` what a server offers."""
