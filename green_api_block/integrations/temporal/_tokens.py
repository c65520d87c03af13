"""The token for an instance, looked up on the worker: a token never travels in a payload.

The poller's and the chat activities' own look-up (the tool activities have theirs); merged later.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from green_api_block.errors import ConfigError

__all__ = ["TokenSource", "credentials_for"]

#: ``{idInstance: token}`` or ``f(idInstance) -> token`` (sync or async); None: the block's bound ones.
TokenSource: TypeAlias = Mapping[str, str] | Callable[[str], "str | Awaitable[str | None] | None"] | None


async def credentials_for(tokens: TokenSource, id_instance: str) -> dict[str, Any]:
    """The credential part of a tool input for ``id_instance``, for the block on this worker."""
    if tokens is None:
        return {"idInstance": id_instance}  # the block's bound token (it refuses another instance)
    if isinstance(tokens, Mapping):
        token = tokens.get(id_instance)
    else:
        found = tokens(id_instance)
        token = await found if inspect.isawaitable(found) else found
    if not token:
        # Named by instance only: the message goes to Temporal's history as the failure.
        raise ConfigError(f"this worker has no token for instance {id_instance}")
    return {"idInstance": id_instance, "apiTokenInstance": token}
