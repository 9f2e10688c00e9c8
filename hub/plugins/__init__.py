"""Plugins: loading them, the provider registry and its collision policy, and what clients see of
a provider (JSON Schema and UI metadata derived from its marshmallow schemas).

Plugins are found through the "hub" entry-point group, the built-in providers exactly like a third
party's; nothing here names one. HUB_PLUGINS and HUB_DISABLED_PLUGINS choose which load
(`selection`); `claims` decides who serves a provider name that several plugins declare. May import
`hub.sdk`, `hub.hookspecs` and `hub.errors`; no Flask beyond the `init_app` seam, which only reads
the app's settings and stores the registry.
"""
from __future__ import annotations

import logging

from hub.plugins.declaration import declaration_problems
from hub.plugins.loader import load_providers
from hub.plugins.registry import EXTENSION_KEY, PluginFailure, ProviderRegistry
from hub.plugins.selection import plugins_disabled, plugins_to_load

__all__ = ["EXTENSION_KEY", "PluginFailure", "ProviderRegistry", "declaration_problems", "init_app",
           "load_providers", "plugins_disabled", "plugins_to_load"]

logger = logging.getLogger(__name__)


def init_app(app) -> None:
    """Build the registry from the app's settings, log what failed, keep it in app.extensions."""
    registry = load_providers(
        entrypoints=app.config.get("PLUGINS_ENTRYPOINTS", True),
        only=plugins_to_load(app.config),
        disabled=plugins_disabled(app.config),
        extra_plugins=app.config.get("EXTRA_PLUGINS") or (),
    )
    for failure in registry.failures:
        logger.error("plugin %s: %s", failure.plugin, failure.error)
    app.extensions[EXTENSION_KEY] = registry
