"""Who may push: the ``Authorization: Bearer <webhookUrlToken>`` check (REFERENCE.md §5.5).

One token for every instance, a token per instance (a mapping or a look-up, sync or async,
keyed by ``body.instanceData.idInstance``), or, asked for by name, none at all. Tokens are
compared in constant time and never logged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from green_api_block.hostcheck import same_secret
from green_api_block.redact import register_secret

__all__ = ["TokenLookup", "TokenSpec", "Tokens", "bearer_value"]

TokenLookup: TypeAlias = Callable[[int], "str | Awaitable[str | None] | None"]
TokenSpec: TypeAlias = "str | Mapping[int | str, str] | TokenLookup | None"


def bearer_value(authorization: bytes | None) -> str | None:
    """The token of a ``Bearer`` header, else None (missing, ``Basic``, anything else)."""
    if not authorization:
        return None
    try:
        text = authorization.decode("latin-1").strip()
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        return None
    scheme, _, value = text.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def _check_token(token: object, what: str) -> str:
    if not isinstance(token, str):
        raise TypeError(f"{what} must be a string, not {type(token).__name__}")
    if not token or token != token.strip() or any(c.isspace() for c in token):
        raise ValueError(f"{what} must be one non-empty word (no spaces)")
    return token


class Tokens:
    """The configured tokens; :meth:`check` says whether one request may pass."""

    def __init__(self, token: Any, *, allow_unauthenticated: bool) -> None:
        self._shared: str | None = None
        self._by_instance: dict[str, str] | None = None
        self._lookup: Callable[[int], Any] | None = None
        if token is None:
            if allow_unauthenticated is not True:
                raise ValueError(
                    "token=None turns the Bearer check off: pass allow_unauthenticated=True to mean it"
                )
        elif isinstance(token, str):
            self._shared = _check_token(token, "token")
            register_secret(token)
        elif isinstance(token, Mapping):
            if not token:
                raise ValueError("token: an empty mapping would refuse every instance")
            self._by_instance = {}
            for key, value in token.items():
                id_instance = str(key)
                if isinstance(key, bool) or not id_instance.isdigit():
                    raise ValueError(f"token: mapping keys are idInstance numbers, not {key!r}")
                self._by_instance[id_instance] = _check_token(value, f"token[{id_instance}]")
                register_secret(value)
        elif callable(token):
            self._lookup = token
        else:
            raise TypeError(
                "token must be a string, a mapping {idInstance: token}, a look-up callable, "
                f"or None with allow_unauthenticated=True; not {type(token).__name__}"
            )
        if token is not None and allow_unauthenticated:
            raise ValueError("allow_unauthenticated=True goes with token=None only")

    @property
    def enabled(self) -> bool:
        return self._shared is not None or self._by_instance is not None or self._lookup is not None

    @property
    def per_instance(self) -> bool:
        """Whether the body must be read to know the token (its instance decides)."""
        return self._by_instance is not None or self._lookup is not None

    async def expected(self, id_instance: int | None) -> str | None:
        """The token for ``id_instance``; None for an instance we do not know."""
        if self._shared is not None:
            return self._shared
        if id_instance is None:
            return None
        if self._by_instance is not None:
            return self._by_instance.get(str(id_instance))
        assert self._lookup is not None
        found = self._lookup(id_instance)
        if inspect.isawaitable(found):
            found = await found
        if found is None:
            return None
        if not isinstance(found, str) or not found:
            # A look-up bug must not open the door: refuse, and say why without the value.
            raise TypeError(f"the token look-up returned {type(found).__name__}, not a string or None")
        register_secret(found)  # masked in logs from now on, as the configured tokens are
        return found

    async def check(self, given: str | None, id_instance: int | None) -> bool:
        if not self.enabled:
            return True
        expected = await self.expected(id_instance)
        if expected is None:
            # Compare anyway, so an unknown instance answers in the time a wrong token does.
            same_secret(given or "", "x" * 43)
            return False
        return same_secret(given, expected)
