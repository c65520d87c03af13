"""What the people on the other side do: customers writing, sending files, tapping buttons, calling.

A mixin of the emulator (no HTTP, no threads): each method builds the documented message data
(``notifications``) and hands it to the backend, which journals it and queues the notification
the instance's settings ask for. The lookups a customer action needs (which button message a tap
answers, whether a reaction is to the bot's own message, where an injected file's bytes live)
are made here, once, for the Python API and the control endpoints alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import notifications as nb
from .defaults import CONTROL_PREFIX
from .errors import SandboxError
from .records import InjectResult, SandboxInstance, SentMessage
from .state import SandboxBackend

__all__ = ["CustomerActions", "InstanceRef", "instance_id"]

InstanceRef = SandboxInstance | str | int


def instance_id(instance: InstanceRef) -> str:
    """The ``idInstance`` of an instance given as a record, a string or a number."""
    return instance.id_instance if isinstance(instance, SandboxInstance) else str(instance)


def _pick_button(
    message: SentMessage, button_id: str | None, button_text: str | None
) -> tuple[int, str, str]:
    for index, button in enumerate(message.buttons):
        if (button_id is None or button.get("buttonId") == button_id) and (
            button_text is None or button.get("buttonText") == button_text
        ):
            return index, str(button.get("buttonId", "")), str(button.get("buttonText", ""))
    raise SandboxError(f"message {message.id_message} has no button matching {button_id or button_text!r}")


class CustomerActions:
    """``inject_*``: incoming traffic for an instance, as Green API would queue it."""

    backend: SandboxBackend

    def _incoming(
        self,
        instance: InstanceRef,
        chat_id: str,
        message_data: Mapping[str, Any],
        *,
        sender: str | None,
        sender_name: str,
        chat_name: str = "",
        quoted_message_id: str | None = None,
        legacy_quote: bool = False,
        id_message: str | None = None,
    ) -> InjectResult:
        return self.backend.inject_incoming(
            instance_id(instance),
            chat_id,
            message_data,
            sender=sender,
            sender_name=sender_name,
            chat_name=chat_name,
            sender_contact_name=sender_name,
            quoted_message_id=quoted_message_id,
            legacy_quote=legacy_quote,
            id_message=id_message,
        )

    def inject_incoming_text(
        self,
        instance: InstanceRef,
        chat_id: str,
        text: str,
        *,
        sender: str | None = None,
        sender_name: str = "Customer",
        chat_name: str = "",
        quoted_message_id: str | None = None,
        legacy_quote: bool = False,
        id_message: str | None = None,
    ) -> InjectResult:
        """A customer's text message (``textMessage``).

        ``quoted_message_id`` makes it a reply to a message in the same chat (one the bot sent or
        one injected earlier); ``legacy_quote=True`` uses the deprecated ``quotedMessage`` type.
        For a group ``chat_id`` (``...@g.us``) pass ``sender`` (the member's ``...@c.us``).
        """
        return self._incoming(
            instance,
            chat_id,
            nb.text_data(text),
            sender=sender,
            sender_name=sender_name,
            chat_name=chat_name,
            quoted_message_id=quoted_message_id,
            legacy_quote=legacy_quote,
            id_message=id_message,
        )

    def inject_extended_text(
        self,
        instance: InstanceRef,
        chat_id: str,
        text: str,
        *,
        title: str = "",
        description: str = "",
        sender: str | None = None,
        sender_name: str = "Customer",
        chat_name: str = "",
        quoted_message_id: str | None = None,
    ) -> InjectResult:
        """A text with a link preview or formatting (``extendedTextMessage``)."""
        data = nb.extended_text_data(text, title=title, description=description)
        return self._incoming(
            instance,
            chat_id,
            data,
            sender=sender,
            sender_name=sender_name,
            chat_name=chat_name,
            quoted_message_id=quoted_message_id,
        )

    def inject_incoming_file(
        self,
        instance: InstanceRef,
        chat_id: str,
        file_name: str,
        *,
        caption: str = "",
        download_url: str | None = None,
        mime_type: str | None = None,
        type_message: str | None = None,
        sender: str | None = None,
        sender_name: str = "Customer",
        chat_name: str = "",
        quoted_message_id: str | None = None,
    ) -> InjectResult:
        """An image, video, audio or document; the extension picks the type (``photo.jpg`` -> image).

        ``download_url`` defaults to a URL on this sandbox that serves placeholder bytes.
        """
        url = download_url or f"{self.backend.base_url}{CONTROL_PREFIX}/files/{file_name}"
        data = nb.file_data(url, file_name, caption=caption, type_message=type_message, mime_type=mime_type)
        return self._incoming(
            instance,
            chat_id,
            data,
            sender=sender,
            sender_name=sender_name,
            chat_name=chat_name,
            quoted_message_id=quoted_message_id,
        )

    def inject_incoming_image(
        self,
        instance: InstanceRef,
        chat_id: str,
        *,
        caption: str = "",
        file_name: str = "photo.jpg",
        **kwargs: Any,
    ) -> InjectResult:
        return self.inject_incoming_file(instance, chat_id, file_name, caption=caption, **kwargs)

    def inject_incoming_document(
        self,
        instance: InstanceRef,
        chat_id: str,
        file_name: str = "document.pdf",
        *,
        caption: str = "",
        **kwargs: Any,
    ) -> InjectResult:
        return self.inject_incoming_file(
            instance, chat_id, file_name, caption=caption, type_message="documentMessage", **kwargs
        )

    def inject_location(
        self,
        instance: InstanceRef,
        chat_id: str,
        latitude: float,
        longitude: float,
        *,
        name: str = "",
        address: str = "",
        sender: str | None = None,
        sender_name: str = "Customer",
    ) -> InjectResult:
        data = nb.location_data(latitude, longitude, name=name, address=address)
        return self._incoming(instance, chat_id, data, sender=sender, sender_name=sender_name)

    def inject_contact(
        self,
        instance: InstanceRef,
        chat_id: str,
        display_name: str,
        phone: str,
        *,
        vcard: str | None = None,
        sender: str | None = None,
        sender_name: str = "Customer",
    ) -> InjectResult:
        data = nb.contact_data(display_name, vcard or nb.vcard(display_name, phone))
        return self._incoming(instance, chat_id, data, sender=sender, sender_name=sender_name)

    def inject_reaction(
        self,
        instance: InstanceRef,
        chat_id: str,
        emoji: str,
        stanza_id: str,
        *,
        sender: str | None = None,
        sender_name: str = "Customer",
    ) -> InjectResult:
        """A reaction to message ``stanza_id`` (for a bot's own message, the participant is the bot)."""
        id_instance = instance_id(instance)
        own = any(m.id_message == stanza_id for m in self.backend.sent_messages(id_instance))
        participant = self.backend.instance(id_instance).wid if own else (sender or chat_id)
        data = nb.reaction_data(emoji, stanza_id, participant)
        return self._incoming(instance, chat_id, data, sender=sender, sender_name=sender_name)

    def inject_button_tap(
        self,
        instance: InstanceRef,
        chat_id: str,
        *,
        button_id: str | None = None,
        button_text: str | None = None,
        stanza_id: str | None = None,
        variant: nb.ButtonReplyVariant = "interactiveButtonsResponse",
        sender: str | None = None,
        sender_name: str = "Customer",
    ) -> InjectResult:
        """The customer taps a reply button.

        Without ``stanza_id`` the tap answers the latest button message sent to ``chat_id``; give
        ``button_id`` or ``button_text`` (or neither, for the first button) and the other fields
        are taken from that message. ``variant`` picks the spelling a device produces
        (REFERENCE.md §4.3): ``interactiveButtonsResponse`` (default),
        ``templateButtonsReplyMessage``, ``templateButtonReplyMessage`` or the legacy
        ``buttonsResponseMessage``.
        """
        message = self.backend.find_button_message(instance_id(instance), chat_id, stanza_id)
        if message is not None:
            index, button_id, button_text = _pick_button(message, button_id, button_text)
            stanza_id = message.id_message
        elif stanza_id is None or button_id is None or button_text is None:
            raise SandboxError(
                f"no button message was sent to {chat_id}; pass stanza_id, button_id and button_text"
            )
        else:
            index = 0
        data = nb.button_reply_data(
            variant,
            stanza_id=stanza_id,
            selected_index=index,
            selected_id=button_id,
            selected_text=button_text,
        )
        return self._incoming(instance, chat_id, data, sender=sender, sender_name=sender_name)

    def inject_incoming_call(
        self, instance: InstanceRef, caller: str, *, status: str = "offer"
    ) -> InjectResult:
        """An incoming call (queued only with ``incomingWebhook`` and ``incomingCallWebhook`` on)."""
        return self.backend.inject_call(instance_id(instance), caller, status=status)

    def inject_notification(self, instance: InstanceRef, body: Mapping[str, Any]) -> InjectResult:
        """Queue any notification body as is, whatever the settings (for shapes without a helper)."""
        return self.backend.enqueue(instance_id(instance), body)
