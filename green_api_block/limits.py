"""Green API's published rate limits: requests per second per instance and method (REFERENCE.md §9.3).

One table for both sides: the client's limiter spaces calls by it, and the sandbox answers 429
by it, so that a test against the sandbox meets the limits the real service enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["METHOD_RATE_LIMITS"]

#: The interactive-button methods are missing from every published copy of the table; 50, like the
#: other send methods, is an assumption (unverified).
METHOD_RATE_LIMITS: Final[Mapping[str, float]] = MappingProxyType(
    {
        "getSettings": 1,
        "setSettings": 1,
        "getStateInstance": 1,
        "getStatusInstance": 1,
        "reboot": 1,
        "logout": 1,
        "qr": 3,
        "sendMessage": 50,
        "sendFileByUrl": 50,
        "sendFileByUpload": 50,
        "sendPoll": 50,
        "sendLocation": 50,
        "sendContact": 50,
        "forwardMessages": 50,
        "sendButtons": 50,
        "sendTemplateButtons": 50,
        "sendListMessage": 50,
        "sendInteractiveButtons": 50,
        "sendInteractiveButtonsReply": 50,
        "receiveNotification": 100,
        "deleteNotification": 100,
        "downloadFile": 5,
        "getMessage": 10,
        "lastIncomingMessages": 1,
        "lastOutgoingMessages": 1,
    }
)
