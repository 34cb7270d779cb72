"""The words on the invoice, in Norwegian bokmål and English, and names for the common UBL codes.

"Foretaksregisteret" stays Norwegian in both sets: the Foretaksregisterloven § 10-2 requires that
exact word on the sales document, whatever the language of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from distribution.render.design import Language


@dataclass(frozen=True, slots=True)
class Labels:
    invoice: str
    credit_note: str
    invoice_number: str
    credit_note_number: str
    invoice_date: str
    credit_note_date: str
    due_date: str
    buyer_reference: str
    order_reference: str
    contract_reference: str
    credited_invoice: str
    period: str
    delivery_date: str
    delivery_location: str
    bill_to: str
    org_number: str
    vat_number: str
    vat_suffix: str
    foretaksregisteret: str
    phone: str
    email: str
    line_no: str
    description: str
    quantity: str
    unit: str
    price: str
    vat: str
    amount: str
    continued: str
    allowance: str
    charge: str
    allowances_charges: str
    vat_breakdown: str
    vat_category: str
    vat_rate: str
    taxable_amount: str
    vat_amount: str
    total_lines: str
    total_allowances: str
    total_charges: str
    total_excl_vat: str
    total_vat: str
    total_incl_vat: str
    prepaid: str
    rounding: str
    amount_due: str
    amount_credited: str
    payment: str
    account: str
    iban: str
    bic: str
    kid: str
    payment_means: str
    payment_terms: str
    notes: str
    attachments: str
    page: str
    of: str
    currency: str


NB = Labels(
    invoice="Faktura",
    credit_note="Kreditnota",
    invoice_number="Fakturanr.",
    credit_note_number="Kreditnotanr.",
    invoice_date="Fakturadato",
    credit_note_date="Kreditnotadato",
    due_date="Forfallsdato",
    buyer_reference="Deres ref.",
    order_reference="Bestillingsnr.",
    contract_reference="Kontrakt",
    credited_invoice="Gjelder faktura",
    period="Periode",
    delivery_date="Leveringsdato",
    delivery_location="Leveringssted",
    bill_to="Faktureres til",
    org_number="Org.nr.",
    vat_number="MVA-nr.",
    vat_suffix="MVA",
    foretaksregisteret="Foretaksregisteret",
    phone="Tlf.",
    email="E-post",
    line_no="Nr.",
    description="Beskrivelse",
    quantity="Antall",
    unit="Enhet",
    price="Pris",
    vat="MVA",
    amount="Beløp",
    continued="forts.",
    allowance="Rabatt",
    charge="Gebyr",
    allowances_charges="Rabatter og gebyrer",
    vat_breakdown="MVA-spesifikasjon",
    vat_category="Kategori",
    vat_rate="Sats",
    taxable_amount="Grunnlag",
    vat_amount="MVA",
    total_lines="Sum linjer",
    total_allowances="Sum rabatter",
    total_charges="Sum gebyrer",
    total_excl_vat="Sum eks. MVA",
    total_vat="Sum MVA",
    total_incl_vat="Sum inkl. MVA",
    prepaid="Forskuddsbetalt",
    rounding="Øreavrunding",
    amount_due="Beløp å betale",
    amount_credited="Beløp til gode",
    payment="Betaling",
    account="Kontonr.",
    iban="IBAN",
    bic="BIC",
    kid="KID",
    payment_means="Betalingsmåte",
    payment_terms="Betalingsbetingelser",
    notes="Merknader",
    attachments="Vedlegg",
    page="Side",
    of="av",
    currency="Valuta",
)

EN = Labels(
    invoice="Invoice",
    credit_note="Credit note",
    invoice_number="Invoice no.",
    credit_note_number="Credit note no.",
    invoice_date="Invoice date",
    credit_note_date="Credit note date",
    due_date="Due date",
    buyer_reference="Your ref.",
    order_reference="Order no.",
    contract_reference="Contract",
    credited_invoice="Credits invoice",
    period="Period",
    delivery_date="Delivery date",
    delivery_location="Delivery location",
    bill_to="Bill to",
    org_number="Org. no.",
    vat_number="VAT no.",
    vat_suffix="VAT",
    foretaksregisteret="Foretaksregisteret",
    phone="Phone",
    email="E-mail",
    line_no="No.",
    description="Description",
    quantity="Quantity",
    unit="Unit",
    price="Price",
    vat="VAT",
    amount="Amount",
    continued="continued",
    allowance="Allowance",
    charge="Charge",
    allowances_charges="Allowances and charges",
    vat_breakdown="VAT breakdown",
    vat_category="Category",
    vat_rate="Rate",
    taxable_amount="Taxable amount",
    vat_amount="VAT",
    total_lines="Total of lines",
    total_allowances="Total allowances",
    total_charges="Total charges",
    total_excl_vat="Total excl. VAT",
    total_vat="Total VAT",
    total_incl_vat="Total incl. VAT",
    prepaid="Prepaid",
    rounding="Rounding",
    amount_due="Amount due",
    amount_credited="Amount credited",
    payment="Payment",
    account="Account no.",
    iban="IBAN",
    bic="BIC",
    kid="KID",
    payment_means="Payment method",
    payment_terms="Payment terms",
    notes="Notes",
    attachments="Attachments",
    page="Page",
    of="of",
    currency="Currency",
)

LABELS: dict[Language, Labels] = {"nb": NB, "en": EN}

# UNCL5305 VAT categories as used by EN 16931.
VAT_CATEGORIES: dict[Language, dict[str, str]] = {
    "nb": {
        "S": "Standard",
        "Z": "Nullsats",
        "E": "Fritatt",
        "AE": "Omvendt avgiftsplikt",
        "K": "Innen EØS",
        "G": "Eksport",
        "O": "Utenfor MVA-området",
        "L": "Kanariøyene",
        "M": "Ceuta og Melilla",
    },
    "en": {
        "S": "Standard rate",
        "Z": "Zero rated",
        "E": "Exempt",
        "AE": "Reverse charge",
        "K": "Intra-EEA supply",
        "G": "Export",
        "O": "Outside scope of VAT",
        "L": "Canary Islands",
        "M": "Ceuta and Melilla",
    },
}

# UNCL4461 payment means most seen in Norway.
PAYMENT_MEANS: dict[Language, dict[str, str]] = {
    "nb": {
        "1": "Ikke angitt",
        "10": "Kontant",
        "30": "Kreditoverføring",
        "31": "Bankoverføring",
        "42": "Betaling til bankkonto",
        "48": "Kort",
        "49": "Direkte debitering",
        "58": "SEPA-overføring",
        "59": "SEPA direkte debitering",
    },
    "en": {
        "1": "Not defined",
        "10": "Cash",
        "30": "Credit transfer",
        "31": "Debit transfer",
        "42": "Payment to bank account",
        "48": "Bank card",
        "49": "Direct debit",
        "58": "SEPA credit transfer",
        "59": "SEPA direct debit",
    },
}

# UN/ECE Recommendation 20/21 units most seen on Norwegian invoices.
UNITS: dict[Language, dict[str, str]] = {
    "nb": {
        "C62": "stk",
        "H87": "stk",
        "EA": "stk",
        "NAR": "stk",
        "XPP": "stk",
        "HUR": "timer",
        "DAY": "dager",
        "WEE": "uker",
        "MON": "mnd",
        "ANN": "år",
        "MIN": "min",
        "KGM": "kg",
        "GRM": "g",
        "TNE": "tonn",
        "MTR": "m",
        "KTM": "km",
        "MTK": "m²",
        "MTQ": "m³",
        "LTR": "l",
        "KWH": "kWh",
        "MWH": "MWh",
        "SET": "sett",
        "PK": "pakke",
    },
    "en": {
        "C62": "pcs",
        "H87": "pcs",
        "EA": "each",
        "NAR": "items",
        "XPP": "pcs",
        "HUR": "hours",
        "DAY": "days",
        "WEE": "weeks",
        "MON": "months",
        "ANN": "years",
        "MIN": "min",
        "KGM": "kg",
        "GRM": "g",
        "TNE": "t",
        "MTR": "m",
        "KTM": "km",
        "MTK": "m²",
        "MTQ": "m³",
        "LTR": "l",
        "KWH": "kWh",
        "MWH": "MWh",
        "SET": "sets",
        "PK": "packs",
    },
}
