"""Factoring: a partner credit-checks the buyer and buys the invoice; the UBL then names it as payee."""
