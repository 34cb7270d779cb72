"""Money coming back: KID numbers, OCR giro files, and payments booked against invoices."""
