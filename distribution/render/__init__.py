"""Render the UBL read model to the PDF invoice a Norwegian business sends, in a tenant's design."""

from distribution.render.design import Design, DesignError, FontFamily, Language
from distribution.render.pdf import render_pdf

__all__ = ["Design", "DesignError", "FontFamily", "Language", "render_pdf"]
