"""Which plugins an operator lets load: HUB_PLUGINS and HUB_DISABLED_PLUGINS.

Both list names separated by commas, and a name is either an entry-point name (`slack`, what the
hub has always accepted) or a distribution name (`hub-acme`, what `pip install` took), so an
operator can keep out everything one package brings without reading its metadata. Distribution
names are compared as pip compares them (`Hub_Acme` is `hub-acme`).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterable, Mapping


def normalize_distribution(name: str) -> str:
    """A distribution name as PEP 503 compares it: lower case, runs of `-_.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def plugins_to_load(config: Mapping[str, Any]) -> set[str] | None:
    """The names HUB_PLUGINS lets load: `PLUGINS_ONLY` (a set, for tests), else `PLUGINS`
    (HUB_PLUGINS; an empty value loads none), else None: all of them."""
    only = config.get("PLUGINS_ONLY")
    if only is not None:
        return set(only)
    return _names(config.get("PLUGINS"))


def plugins_disabled(config: Mapping[str, Any]) -> set[str]:
    """The names HUB_DISABLED_PLUGINS keeps out (empty when unset)."""
    return _names(config.get("DISABLED_PLUGINS")) or set()


def _names(listed: Any) -> set[str] | None:
    if listed is None:
        return None
    if isinstance(listed, (list, tuple, set, frozenset)):  # HUB_PLUGINS='["a"]' arrives parsed
        return {str(name).strip() for name in listed if str(name).strip()}
    return {name.strip() for name in str(listed).split(",") if name.strip()}


@dataclasses.dataclass(frozen=True)
class PluginSelection:
    """HUB_PLUGINS (`only`, None for all) and HUB_DISABLED_PLUGINS (`disabled`) together."""

    only: frozenset[str] | None = None
    disabled: frozenset[str] = frozenset()

    @classmethod
    def of(cls, only: Iterable[str] | None, disabled: Iterable[str] | None) -> "PluginSelection":
        return cls(None if only is None else frozenset(only), frozenset(disabled or ()))

    def admits(self, entry_point: str, distribution: str) -> bool:
        """Whether the entry point `entry_point` of `distribution` may load."""
        if _matches(self.disabled, entry_point, distribution):
            return False
        return self.only is None or _matches(self.only, entry_point, distribution)

    def unknown_names(self, installed: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """(setting, name) for each listed name that is neither an installed entry point nor a
        distribution with one: most likely a typo, which the operator must hear about, since a
        misspelt HUB_DISABLED_PLUGINS entry leaves the plugin it meant running."""
        installed = list(installed)
        known = ({ep for ep, _ in installed}
                 | {normalize_distribution(dist) for _, dist in installed})
        unknown = []
        for setting, names in (("HUB_PLUGINS", self.only or ()), ("HUB_DISABLED_PLUGINS",
                                                                   self.disabled)):
            for name in sorted(names):
                if name not in known and normalize_distribution(name) not in known:
                    unknown.append((setting, name))
        return unknown


def _matches(names: frozenset[str], entry_point: str, distribution: str) -> bool:
    if entry_point in names:
        return True
    wanted = normalize_distribution(distribution)
    return any(normalize_distribution(name) == wanted for name in names)
