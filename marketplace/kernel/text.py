"""What text the marketplace stores: no control characters, no lone surrogates."""

import unicodedata


def first_control(text: str) -> str | None:
    """The first control character or lone surrogate in `text`, if any."""
    return next((c for c in text if unicodedata.category(c) in ("Cc", "Cs")), None)
