"""E-mail templates: a documented catalogue of merge fields, rendered in a locked-down Jinja2 sandbox."""

from distribution.templates.defaults import DEFAULT_NAME, default_template
from distribution.templates.fields import CATALOGUE, FIELD_NAMES, MergeField, merge_fields, sample_fields
from distribution.templates.sandbox import (
    EmailTemplate,
    RenderedEmail,
    TemplateRefused,
    check_template,
    render_template,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_NAME",
    "FIELD_NAMES",
    "EmailTemplate",
    "MergeField",
    "RenderedEmail",
    "TemplateRefused",
    "check_template",
    "default_template",
    "merge_fields",
    "render_template",
    "sample_fields",
]
