"""String normalisation shared by index extraction and search: case- and accent-insensitive matching.

``normalize_string("Søreng") == normalize_string("SORENG") == "soreng"``. The query side must normalise search
values with the same function so that both sides agree.
"""

from __future__ import annotations

import unicodedata

MAX_STRING = 255  # column width of search_string.value/exact and search_token.*

# Letters that carry no combining mark to drop under NFKD (they are letters of their own), mapped to the ASCII
# a Norwegian, Danish, Icelandic, Polish, German or Turkish speaker would type instead.
_UNDECOMPOSABLE = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "ß": "ss",
        "\u0131": "i",  # dotless i
        "ħ": "h",
        "ŧ": "t",
    }
)


def normalize_string(text: str) -> str:
    """Casefold, strip accents (NFKD minus combining marks) and map letters that do not decompose (ø → o)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_UNDECOMPOSABLE)


def normalized_column(text: str) -> str:
    """``normalize_string`` cut to the width of the index columns."""
    return normalize_string(text)[:MAX_STRING]
