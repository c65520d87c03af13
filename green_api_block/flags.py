"""Yes/no words as people write them in environment variables and on the command line."""

from __future__ import annotations

__all__ = ["parse_bool"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_bool(text: str) -> bool | None:
    """True/False for 1/0, true/false, yes/no, on/off (any case, spaces ignored); None otherwise."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None
