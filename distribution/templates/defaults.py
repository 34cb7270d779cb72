"""The built-in templates: e-mail works with no set-up, in bokmål and English."""

from __future__ import annotations

from distribution.render.design import Language
from distribution.templates.sandbox import EmailTemplate

DEFAULT_NAME = "invoice"

_SUBJECT = {
    "nb": "{{ document_title }} {{ invoice_number }} fra {{ seller_name or tenant_name }}",
    "en": "{{ document_title }} {{ invoice_number }} from {{ seller_name or tenant_name }}",
}

_TEXT = {
    "nb": """Hei{% if customer_name %} {{ customer_name }}{% endif %},

{% if credit_note %}Vedlagt er kreditnota {{ invoice_number }} på {{ currency }} {{ amount }}.
{% else %}Vedlagt er faktura {{ invoice_number }} på {{ currency }} {{ amount }}{% if due_date %} med forfall {{ due_date }}{% endif %}.
{% if account_number %}Kontonummer: {{ account_number }}
{% endif %}{% if kid %}KID: {{ kid }}
{% endif %}{% endif %}
Med vennlig hilsen
{{ seller_name or tenant_name }}
""",  # noqa: E501
    "en": """Hello{% if customer_name %} {{ customer_name }}{% endif %},

{% if credit_note %}Please find attached credit note {{ invoice_number }} for {{ currency }} {{ amount }}.
{% else %}Please find attached invoice {{ invoice_number }} for {{ currency }} {{ amount }}{% if due_date %}, due {{ due_date }}{% endif %}.
{% if account_number %}Account number: {{ account_number }}
{% endif %}{% if kid %}KID: {{ kid }}
{% endif %}{% endif %}
Kind regards
{{ seller_name or tenant_name }}
""",  # noqa: E501
}

_HTML = {
    "nb": """<!DOCTYPE html>
<html lang="nb"><body style="font-family: sans-serif">
<p>Hei{% if customer_name %} {{ customer_name }}{% endif %},</p>
{% if credit_note %}<p>Vedlagt er kreditnota {{ invoice_number }} på {{ currency }} {{ amount }}.</p>
{% else %}<p>Vedlagt er faktura {{ invoice_number }} på {{ currency }} {{ amount }}{% if due_date %} med forfall {{ due_date }}{% endif %}.</p>
<table>{% if account_number %}<tr><td>Kontonummer</td><td>{{ account_number }}</td></tr>{% endif %}
{% if kid %}<tr><td>KID</td><td>{{ kid }}</td></tr>{% endif %}</table>
{% endif %}<p>Med vennlig hilsen<br>{{ seller_name or tenant_name }}</p>
</body></html>
""",  # noqa: E501
    "en": """<!DOCTYPE html>
<html lang="en"><body style="font-family: sans-serif">
<p>Hello{% if customer_name %} {{ customer_name }}{% endif %},</p>
{% if credit_note %}<p>Please find attached credit note {{ invoice_number }} for {{ currency }} {{ amount }}.</p>
{% else %}<p>Please find attached invoice {{ invoice_number }} for {{ currency }} {{ amount }}{% if due_date %}, due {{ due_date }}{% endif %}.</p>
<table>{% if account_number %}<tr><td>Account number</td><td>{{ account_number }}</td></tr>{% endif %}
{% if kid %}<tr><td>KID</td><td>{{ kid }}</td></tr>{% endif %}</table>
{% endif %}<p>Kind regards<br>{{ seller_name or tenant_name }}</p>
</body></html>
""",  # noqa: E501
}


def default_template(language: Language) -> EmailTemplate:
    return EmailTemplate(subject=_SUBJECT[language], html=_HTML[language], text=_TEXT[language])
