"""Text helpers every area uses: URL slugs and text PostgreSQL can store."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str, fallback: str = "thread") -> str:
    """An ASCII URL slug ("What does interview mean?" -> "what-does-interview-mean")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or fallback


def storable(text: str) -> str:
    """U+0000 becomes U+FFFD, as CommonMark renders it: PostgreSQL cannot store it in text."""
    return text.replace("\x00", "\ufffd")
