"""Looking at a report's PDF as a reader would: its pages rendered to images (pdftoppm) and its text (pdftotext),
from Debian's poppler-utils; WeasyPrint needs Debian's pango. Tests skip with ``PDF_UNAVAILABLE`` as the reason
when either is missing."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _pdf_unavailable() -> str | None:
    """Why PDFs cannot be made and looked at here (None: they can)."""
    try:
        import weasyprint  # noqa: F401  (loads pango)
    except OSError as error:
        return f"WeasyPrint cannot load Debian's pango (make pango installs it): {error}"
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        return "pdftoppm/pdftotext (Debian poppler-utils; make poppler installs it) are not installed"
    return None


PDF_UNAVAILABLE = _pdf_unavailable()


@dataclass(frozen=True)
class Printed:
    pages: list[Path]  # one PNG a page
    words: str  # the text, white space folded


def printed(document: Any, folder: Path) -> Printed:
    """The PDF ``document`` (``content``, ``filename``) written into ``folder``, its pages rendered and its text."""
    pdf = folder / document.filename
    pdf.write_bytes(document.content)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(folder / "page")], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True)
    return Printed(sorted(folder.glob("page-*.png")), " ".join(text.stdout.split()))
