"""Tool input: normalise what hosts commonly send, then validate against the contract.

The fast path validates with the pydantic model; only when that fails is the JSON Schema run, to
list every problem in the schema's own terms. Messages name the field and the rule and never
include the rejected value (it could be the token).
"""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

import jsonschema
import pydantic
from jsonschema import Draft202012Validator

from .contract import CREDENTIAL_FIELDS, ToolDefinition
from .errors import InputValidationError
from .models import ToolInput
from .redact import redact

__all__ = [
    "EcmaValidator",
    "credential_errors",
    "error_path",
    "normalize",
    "normalize_chat_id",
    "schema_errors",
    "validate_input",
    "validator_for",
]

_PHONE_FORMATTING = re.compile(r"[\s+\-().]")
_DIGITS = re.compile(r"[0-9]{7,15}")


def normalize_chat_id(value: str) -> str:
    """A chatId as tool input gets it: a phone number ("+7 900 123-45-67") becomes
    "79001234567@c.us"; anything else is returned stripped, for validation to judge."""
    value = value.strip()
    if "@" in value:
        number, _, suffix = value.partition("@")
        # Some status notifications carry '@s.whatsapp.net', which Green API treats as '@c.us'.
        return f"{number}@c.us" if suffix == "s.whatsapp.net" else value
    digits = _PHONE_FORMATTING.sub("", value)
    return f"{digits}@c.us" if _DIGITS.fullmatch(digits) else value


def _drop_nulls(value: Any, depth: int = 3) -> Any:
    # Hosts and LLMs (OpenAI strict mode) send null for "not set", nested in buttons too. The
    # contracts nest three levels deep at most; deeper input is left as is for validation to
    # refuse (and a hostile, deeply nested input cannot exhaust the stack here).
    if depth == 0:
        return value
    if isinstance(value, dict):
        return {
            k: _drop_nulls(v, depth - 1) if isinstance(v, (dict, list)) else v
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [_drop_nulls(v, depth - 1) if isinstance(v, (dict, list)) else v for v in value]
    return value


def _same(given: Any, held: str) -> bool:
    # Compared in constant time: a caller probing a bound token must not learn it by timing.
    return isinstance(given, str) and hmac.compare_digest(given.encode(), held.encode())


def _bind(tool: ToolDefinition, data: dict[str, Any], bound: Mapping[str, str]) -> None:
    """Fill the bound credentials in ``data``, and refuse input that would change one.

    A rule of the block, not of one host: a model's tool call (MCP, the preview, an LLM loop) may
    add ``idInstance``/``apiTokenInstance`` although no advertised schema has them. A bound value
    may be repeated, never replaced; with the id bound, no other id is reached (with the bound
    token in its URL, or any other); a token bound without its id would travel to whichever
    instance the input names, so that binding runs nothing. Messages never carry either value.
    """
    problems: list[dict[str, str]] = []
    for key in CREDENTIAL_FIELDS:
        held = bound.get(key)
        if not held:
            continue
        given = data.get(key)
        if given in (None, ""):
            data[key] = held
        elif not _same(given, held):
            problems.append(
                {
                    "path": key,
                    "rule": "bound",
                    "message": "is bound to this block and cannot be changed by the input: leave it out",
                }
            )
    if bound.get("apiTokenInstance") and not bound.get("idInstance"):
        problems.append(
            {
                "path": "idInstance",
                "rule": "bound",
                "message": "the block holds a token but no instance id: bind id_instance with api_token "
                "(a token belongs to one instance and is sent to no other)",
            }
        )
    if problems:
        raise InputValidationError(tool.id, problems)


def normalize(tool: ToolDefinition, args: Any, bound: Mapping[str, str]) -> dict[str, Any]:
    """Apply the coercions a user would expect; anything else is left for validation to judge.

    Bound credentials fill ``idInstance``/``apiTokenInstance`` when the input lacks them, and input
    may not change them (:func:`_bind`); nulls for optional fields are dropped; an integer
    ``idInstance``, a phone number as ``chatId`` and an integral float for an integer field are
    converted.
    """
    if not isinstance(args, Mapping):
        problem = {"path": "", "rule": "type", "message": "input must be an object"}
        raise InputValidationError(tool.id, [problem])
    data: dict[str, Any] = _drop_nulls(dict(args))
    id_instance = data.get("idInstance")
    # Before the bound check, so that 1101000001 and "1101000001" are the same id.
    if isinstance(id_instance, int) and not isinstance(id_instance, bool) and id_instance >= 0:
        data["idInstance"] = str(id_instance)
    _bind(tool, data, bound)
    props = tool.input_schema["properties"]
    chat_id = data.get("chatId")
    if isinstance(chat_id, str):
        data["chatId"] = normalize_chat_id(chat_id)
    for key, value in data.items():
        if (
            isinstance(value, float)
            and props.get(key, {}).get("type") == "integer"
            and math.isfinite(value)
            and value.is_integer()
        ):
            data[key] = int(value)
    return data


@lru_cache(maxsize=64)
def _compile_ecma(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA-262, where `$` is the end of the string; in Python `$` also
    # matches before a final newline. Our patterns end in `$` and use it nowhere else.
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if isinstance(instance, str) and not _compile_ecma(pattern).search(instance):
        yield jsonschema.ValidationError(f"does not match {pattern!r}")


#: Draft 2020-12 with ECMA-262 end-of-string semantics for `pattern` (as the pydantic models have).
EcmaValidator = jsonschema.validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]

_validators: dict[str, Any] = {}


def validator_for(tool: ToolDefinition) -> Any:
    """The compiled JSON Schema validator of a tool's input (``EcmaValidator``)."""
    validator = _validators.get(tool.id)
    if validator is None:
        validator = _validators[tool.id] = EcmaValidator(tool.input_schema)
    return validator


def error_path(parts: Any) -> str:
    """``("buttons", 0, "buttonText")`` -> ``"buttons[0].buttonText"``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(path, message) for one jsonschema error, built from the keyword, never from the value."""
    path = list(error.absolute_path)
    rule = str(error.validator)
    schema = error.schema if isinstance(error.schema, dict) else {}
    value: Any = error.validator_value
    instance: Any = error.instance
    custom = schema.get("x-errorMessage")
    if rule == "required":
        # One error per missing name; which one this is, jsonschema says only in its message.
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        name = next((n for n in missing if repr(n) in error.message), missing[0] if missing else "?")
        return error_path([*path, name]), "is required"
    if rule == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in schema.get("properties", {}))
        name = extra[0] if extra else "?"
        return error_path([*path, name]), f"is not a field of this tool (allowed: {', '.join(allowed)})"
    if custom:
        return error_path(path), str(custom)
    if rule == "type":
        types = value if isinstance(value, list) else [value]
        return error_path(path), "must be " + " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
    messages = {
        "minLength": lambda: (
            "must not be empty" if value == 1 else f"must be at least {value} characters long"
        ),
        "maxLength": lambda: f"must be at most {value} characters long (got {len(instance)})",
        "minimum": lambda: f"must be at least {value}",
        "maximum": lambda: f"must be at most {value}",
        "minItems": lambda: f"must have at least {value} item{'s' if value != 1 else ''}",
        "maxItems": lambda: f"must have at most {value} items (got {len(instance)})",
        "enum": lambda: "must be one of: " + ", ".join(repr(v) for v in value),
        "const": lambda: f"must be {value!r}",
        "pattern": lambda: "has the wrong format",
    }
    make: Callable[[], str] | None = messages.get(rule)
    return error_path(path), make() if make else f"breaks the schema rule '{rule}'"


def schema_errors(tool: ToolDefinition, data: Any) -> list[dict[str, str]]:
    """Every problem the JSON Schema finds, sorted by path, each ``{path, rule, message}``."""
    token = data.get("apiTokenInstance") if isinstance(data, dict) else None
    secrets = [token] if isinstance(token, str) else []
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in validator_for(tool).iter_errors(data):
        path, message = _describe(error)
        rule = str(error.validator)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        out.append({"path": redact(path, secrets), "rule": rule, "message": redact(message, secrets)})
    out.sort(key=lambda e: e["path"])
    return out


def credential_errors(tool: ToolDefinition, values: Mapping[str, Any]) -> list[dict[str, str]]:
    """What the tool's input schema finds wrong with these credential values: the rules tool input
    meets, applied to credentials bound to a block. Only the fields given are judged."""
    given = {k: v for k, v in values.items() if k in CREDENTIAL_FIELDS}
    if len(given) == len(CREDENTIAL_FIELDS):
        # The fast path, as for tool input: the model (a few µs); the schema only to explain.
        try:
            ToolInput.model_validate(given)
            return []
        except pydantic.ValidationError:
            pass
    # The other fields' "is required" is not about these values: only their own problems count.
    return [e for e in schema_errors(tool, given) if e["path"] in given]


def _pydantic_errors(exc: pydantic.ValidationError) -> list[dict[str, str]]:
    return [
        {"path": error_path(e["loc"]), "rule": e["type"], "message": e["msg"].removeprefix("Value error, ")}
        for e in exc.errors(include_url=False, include_input=False)
    ]


def validate_input(
    tool: ToolDefinition, model: type[ToolInput], args: Any, bound: Mapping[str, str]
) -> ToolInput:
    """Normalise and validate ``args``; raise :class:`InputValidationError` listing every problem."""
    data = normalize(tool, args, bound)
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        failure = exc
    # Raised outside the except block so that the pydantic error, which holds the input (and so
    # the token), is not kept as the new error's __context__.
    raise InputValidationError(tool.id, schema_errors(tool, data) or _pydantic_errors(failure))
