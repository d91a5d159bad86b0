"""Text folded for search: case-, diacritic- and đ-insensitive, the same on SQLite and PostgreSQL.

SQLite's LIKE folds ASCII case only, and neither database ignores Vietnamese diacritics, so the text is
folded once in Python — when a row is written (a stored column) and when a query comes in — and compared
with a plain LIKE: `Tam Đảo`, `tam dao` and `TAM ĐẢO` all fold to `tam dao`.
"""

from __future__ import annotations

import unicodedata

# NFD splits ả into a + a combining hook, but đ/Đ (and the look-alike Ð/ð) are letters of their own.
_D = str.maketrans({"đ": "d", "Đ": "d", "Ð": "d", "ð": "d"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def project_search_text(code: str, name: str) -> str:
    """The stored search column of a project: its code and name, folded."""
    return fold(f"{code} {name}")
