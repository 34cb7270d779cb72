"""Dynamic discovery: where a Peppol participant's SMP is (SML over DNS) and what it publishes (SMP)."""
