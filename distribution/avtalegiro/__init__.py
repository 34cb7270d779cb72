"""AvtaleGiro: direct debit of invoices from payers who signed an agreement (mandate) with their bank.

The bank tells us who has an agreement (agreement files, or the tenant registers them through the
API); the distribution run queues a claim per invoice; a daily batch writes the claims into one
payment-claims file per tenant (``netsgiro``) and uploads it by SFTP before the bank's cut-off.
"""
