"""The providers that loaded, by name, and the plugins that failed with the reason."""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping

from hub.sdk import Provider

EXTENSION_KEY = "hub.providers"  # app.extensions[EXTENSION_KEY] is the ProviderRegistry


@dataclasses.dataclass(frozen=True)
class PluginFailure:
    """A plugin, or one provider it declared, that the hub did not load."""

    plugin: str  # the entry-point name (HUB_PLUGINS takes it, or the distribution's), or an
    # extra plugin's name; a misspelt HUB_PLUGINS / HUB_DISABLED_PLUGINS entry is reported under
    # the name as written
    error: str  # what went wrong, naming the distribution, and what to do; carries no credential


class ProviderRegistry:
    """The providers that loaded, by name, and what did not load."""

    def __init__(self, providers: Mapping[str, Provider], failures: Iterable[PluginFailure] = ()):
        self.providers: dict[str, Provider] = dict(sorted(providers.items()))
        self.failures: list[PluginFailure] = list(failures)

    def get(self, name: str) -> Provider | None:
        return self.providers.get(name)

    def names(self) -> list[str]:
        return list(self.providers)

    def __repr__(self) -> str:
        return f"<ProviderRegistry providers={self.names()} failures={len(self.failures)}>"
