"""The block's getSettings/setSettings, which ``webhook set`` relies on, against the sandbox."""

from __future__ import annotations

import pytest

from green_api_block import GreenApiBlock
from green_api_block.errors import InputValidationError
from green_api_block.sandbox import Sandbox, SandboxInstance

pytestmark = pytest.mark.green_api_sandbox(rate_limits=False)


def _block(sandbox: Sandbox, instance: SandboxInstance) -> GreenApiBlock:
    return GreenApiBlock(
        sandbox.url,
        id_instance=instance.id_instance,
        api_token=instance.api_token,
        credentials_from_env=False,
        rate_limits=False,
    )


def test_get_then_set_settings(sandbox: Sandbox, instance: SandboxInstance) -> None:
    with _block(sandbox, instance) as block:
        before = block.get_settings()
        assert "webhookUrl" in before
        assert block.set_settings({"webhookUrl": "https://bot.example/", "incomingWebhook": "yes"}) is True
        assert block.get_settings()["webhookUrl"] == "https://bot.example/"
        with pytest.raises(InputValidationError):
            block.set_settings({})
        with pytest.raises(InputValidationError):
            block.set_settings({"incomingWebhook": True})


async def test_async_twins(sandbox: Sandbox, instance: SandboxInstance) -> None:
    async with _block(sandbox, instance) as block:
        assert await block.aset_settings({"webhookUrl": ""}) is True
        assert (await block.aget_settings())["webhookUrl"] == ""
