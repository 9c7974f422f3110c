"""Channel adapters: verify, translate to Incoming, hand to the handlers, send from the outbox.

`REGISTRY` names the modules of the service's channels; each has `from_app(app)`, which gives
its `Channel` (bot/channels/base.py) or None when the settings leave it off. Adding a channel
is one module and its line here: the server mounts whatever the channels give.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App
    from bot.channels.base import Channel

# Imported only when the service starts: the console and the CLI need neither library.
REGISTRY = ("bot.channels.whatsapp", "bot.channels.telegram")


def enabled_channels(app: App) -> list[Channel]:
    """The channels the settings switch on, in the order of `REGISTRY`."""
    channels = (importlib.import_module(name).from_app(app) for name in REGISTRY)
    return [channel for channel in channels if channel is not None]
