"""Parse a JSON request body with a bound on nesting, for the local servers (sandbox, preview).

``json.loads`` recurses once per nesting level: a body nested a few thousand deep raises
``RecursionError``, which is no ``ValueError`` and so escaped every handler as a 500 with a
traceback. Bodies that parse but nest deeper than any real one would still make every later
recursive walk (validation, redaction) pay for it, so they are refused too.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "TooDeepError", "check_depth", "loads"]

#: Far deeper than any Green API body or tool input (a handful of levels), far below the
#: interpreter's recursion limit.
MAX_DEPTH = 64


class TooDeepError(ValueError):
    """The JSON nests deeper than :data:`MAX_DEPTH`."""

    def __init__(self, max_depth: int = MAX_DEPTH) -> None:
        super().__init__(f"the JSON nests deeper than {max_depth} levels")


def check_depth(data: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`TooDeepError` when ``data`` nests deeper than ``max_depth``; no recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            raise TooDeepError(max_depth)
        stack.extend((child, depth + 1) for child in children)


def loads(raw: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises :class:`TooDeepError` (a ``ValueError``) for deep nesting."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise TooDeepError(max_depth) from None
    check_depth(data, max_depth)
    return data
