"""The suite's canary credentials: a token that must never show in any output, and its instance id."""

from __future__ import annotations

CANARY = "canaryT0KEN0123456789abcdef0123456789abcdef01234567"
ID = "1101000001"
