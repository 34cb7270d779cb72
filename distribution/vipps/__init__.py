"""Vipps MobilePay as an invoice channel: an ePayment payment request pushed to the customer's app."""
