"""EHF over Peppol for the distribution run: the invoice as the UBL it is, through the access point."""
