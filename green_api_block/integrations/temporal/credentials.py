"""Where a worker's activities get the instance token: bound in the worker, never in a payload.

Activity inputs and results are stored in Temporal's history in plain text, so a token must not
travel in them. A single-instance worker uses the block's bound credentials (inputs may leave
``idInstance`` out, or repeat the bound one). A multi-instance worker is given a token source: a
mapping ``{idInstance: token}`` or a callable ``lookup(idInstance) -> token`` (sync or async,
e.g. a secrets manager), and each input names only its ``idInstance``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from ...redact import register_secret
from .failures import TOKEN_IN_INPUT, UNKNOWN_INSTANCE, refuse

__all__ = ["TokenLookup", "TokenSource", "resolve_input"]

TokenLookup: TypeAlias = Callable[[str], str | Awaitable[str | None] | None]
#: A mapping idInstance -> token, or a callable that returns the token (or None: unknown).
TokenSource: TypeAlias = Mapping[str, str] | TokenLookup


async def _lookup(source: TokenSource, id_instance: str) -> str | None:
    if isinstance(source, Mapping):
        token = source.get(id_instance)
    else:
        found = source(id_instance)
        token = await found if inspect.isawaitable(found) else found
    if token is not None and not isinstance(token, str):
        raise TypeError("a token source must give a str or None")
    return token


async def resolve_input(
    args: Any, tokens: TokenSource | None, *, needs_instance: bool = True
) -> tuple[dict[str, Any], str | None]:
    """The tool input with the worker's token added (multi-instance), and that token.

    Refuses (non-retryable) an input that carries ``apiTokenInstance``, without echoing it: the
    token is already in the history by then, and failing loudly is what gets it rotated and the
    workflow fixed. Refuses an ``idInstance`` the token source does not know.
    """
    if not isinstance(args, Mapping):
        raise refuse("the activity input must be a JSON object (the tool's input)", "invalid_input")
    given = dict(args)
    if "apiTokenInstance" in given:
        raise refuse(
            "apiTokenInstance must not be in an activity input: Temporal stores inputs in the "
            "workflow history in plain text. Bind the token in the worker and rotate this one.",
            TOKEN_IN_INPUT,
        )
    if tokens is None:
        return given, None
    id_instance = given.get("idInstance")
    if isinstance(id_instance, int) and not isinstance(id_instance, bool):
        id_instance = str(id_instance)
    if not isinstance(id_instance, str) or not id_instance:
        if not needs_instance:
            return given, None
        raise refuse(
            "this worker serves several instances: the input must name its idInstance", "invalid_input"
        )
    token = await _lookup(tokens, id_instance)
    if not token:
        raise refuse(f"this worker holds no token for instance {id_instance}", UNKNOWN_INSTANCE)
    # Masked in every log line and message from now on (the block does the same for bound tokens).
    register_secret(token)
    given["idInstance"] = id_instance
    given["apiTokenInstance"] = token
    return given, token
