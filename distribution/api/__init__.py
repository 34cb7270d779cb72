"""The distribution API: invoices, the tenant's run and its design."""
