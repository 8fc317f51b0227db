"""The report as PDF: the same HTML printed by WeasyPrint (an HTML/CSS-to-PDF engine; it lays out with Debian's
pango, which the Makefile installs when absent). The page size, margins and page numbers are the template's
``@page`` rules."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: loading pango takes a moment, and only PDFs need it

    return HTML(string=html).write_pdf()
