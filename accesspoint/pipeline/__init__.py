"""The durable pipelines: inbound (receive, store, receipt, validate, inbox) and outbound
(accept, validate, queue, send, evidence). They drive the sans-I/O cores and the store."""
