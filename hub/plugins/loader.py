"""Loading plugins and registering the providers they declare.

Plugins are found through the "hub" entry-point group (the built-in providers too: nothing here names
one) or handed in as objects (`extra_plugins`, for tests). Each plugin declares its providers through
the `hub_register_providers(register)` hook; `register` checks every declaration and records which
plugin made it. Nothing a plugin does wrong raises here: an import error, a hook name with a typo, a
bad declaration or a provider name already taken becomes a `PluginFailure` naming the plugin, and
every other plugin still loads.
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata
import logging
import types
from typing import Any, Callable, Iterable, Mapping

import pluggy

from hub import hookspecs
from hub.plugins.declaration import _exception, declaration_problems
from hub.plugins.registry import PluginFailure, ProviderRegistry
from hub.sdk import Provider

logger = logging.getLogger(__name__)


ENTRYPOINT_GROUP = "hub"


def load_providers(*, entrypoints: bool = True, only: set[str] | None = None,
                   extra_plugins: Iterable[Any] = ()) -> ProviderRegistry:
    """Load the plugins and collect the providers they declare.

    :param entrypoints: load the plugins of the "hub" entry-point group (tests switch this off).
    :param only: load only the entry points of these names (HUB_PLUGINS); None loads all.
    :param extra_plugins: modules, classes or objects with ``@hookimpl`` functions, registered
        after the entry points under their module-qualified name.
    """
    loader = _Loader()
    if entrypoints:
        loader.load_entrypoints(only)
    for plugin in extra_plugins:
        loader.register_extra(plugin)
    loader.drop_plugins_with_unknown_hooks()
    loader.report_plugins_without_hooks()
    providers = loader.collect_providers()
    return ProviderRegistry(providers, loader.failures)


def plugins_to_load(config: Mapping[str, Any]) -> set[str] | None:
    """The entry-point names to load: `PLUGINS_ONLY` (a set), else `PLUGINS` (HUB_PLUGINS, names
    separated by commas; an empty value loads none), else None: all of them."""
    only = config.get("PLUGINS_ONLY")
    if only is not None:
        return set(only)
    listed = config.get("PLUGINS")
    if listed is None:
        return None
    if isinstance(listed, (list, tuple, set, frozenset)):  # HUB_PLUGINS='["a"]' arrives parsed
        return {str(name) for name in listed}
    return {name.strip() for name in str(listed).split(",") if name.strip()}


class _Loader:
    """One run of plugin loading: the plugin manager, where each plugin came from, what failed."""

    def __init__(self):
        self.pm = pluggy.PluginManager(ENTRYPOINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.packages: dict[str, str] = {}  # plugin name -> distribution (or module) it came from
        self.failures: list[PluginFailure] = []

    def fail(self, plugin: str, error: str) -> None:
        self.failures.append(PluginFailure(plugin, error))

    def load_entrypoints(self, only: set[str] | None) -> None:
        # Sorted, so that which of two same-named providers wins does not depend on the filesystem.
        entry_points = sorted(importlib.metadata.entry_points(group=ENTRYPOINT_GROUP),
                              key=lambda ep: ep.name)
        first_package: dict[str, str] = {}
        for ep in entry_points:
            if only is not None and ep.name not in only:
                continue
            package = ep.dist.name if ep.dist is not None else ep.module
            if ep.name in first_package:
                self.fail(ep.name, f"the entry point {ep.name!r} of package {package} was not "
                          f"loaded: package {first_package[ep.name]} declares one of the same name; "
                          "uninstall one of them")
                continue
            first_package[ep.name] = package
            try:
                plugin = ep.load()
            except Exception as exc:
                logger.debug("importing plugin %s failed", ep.name, exc_info=True)
                self.fail(ep.name, f"could not import {ep.value!r} (package {package}): "
                          f"{_exception(exc)}")
                continue
            self.register(plugin, ep.name, package)
        for name in sorted((only or set()) - set(first_package)):
            self.fail(name, f"HUB_PLUGINS names {name!r}, but no installed package has a "
                      f"{ENTRYPOINT_GROUP!r} entry point of that name")

    def register_extra(self, plugin: Any) -> None:
        name = _qualified_name(plugin)
        unique, n = name, 1
        while self.pm.has_plugin(unique):
            n += 1
            unique = f"{name}#{n}"
        self.register(plugin, unique, _module_name(plugin))

    def register(self, plugin: Any, name: str, package: str) -> None:
        try:
            self.pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            # e.g. a hook implementation with an argument the hook does not have
            self.fail(name, f"could not be registered: {' '.join(str(exc).split())}")
            return
        self.packages[name] = package

    def drop_plugins_with_unknown_hooks(self) -> None:
        # pluggy's check_pending() rule, applied per plugin: a typo names its own plugin and does
        # not stop the others. A hook meant for a newer hub can be marked optionalhook=True.
        known = sorted(name for name, caller in vars(self.pm.hook).items()
                       if not name.startswith("_") and caller.has_spec())
        unknown: dict[str, list[str]] = {}
        for hook_name, caller in vars(self.pm.hook).items():
            if hook_name.startswith("_") or caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if not impl.optionalhook:
                    unknown.setdefault(impl.plugin_name, []).append(hook_name)
        for plugin_name, hook_names in unknown.items():
            hints = [f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)
                     for name in hook_names
                     for close in [difflib.get_close_matches(name, known, n=1)]]
            self.fail(plugin_name, f"implements {', '.join(hints)}, which is not a hub hook "
                      f"(hub hooks: {', '.join(known)}); the plugin was not loaded. Fix the name, "
                      "or mark it @hookimpl(optionalhook=True) if it is meant for a newer hub")
            self.pm.unregister(name=plugin_name)
            self.packages.pop(plugin_name, None)
        self.pm.check_pending()  # cannot fail any more; kept as the statement of the rule

    def report_plugins_without_hooks(self) -> None:
        for name, plugin in self.pm.list_name_plugin():
            if not self.pm.get_hookcallers(plugin):
                hint = ""
                if isinstance(plugin, types.ModuleType) and getattr(plugin, "__file__", None) is None:
                    # Typically an editable install made before the package had an __init__.py.
                    hint = (f"; {plugin.__name__!r} was imported as a namespace package, without "
                            "its __init__.py: if it has one, reinstall the package")
                self.fail(name, "implements no hub hook: decorate its hook functions with "
                          f"@hookimpl (from hub import hookimpl){hint}")

    def collect_providers(self) -> dict[str, Provider]:
        providers: dict[str, Provider] = {}
        owners: dict[str, str] = {}  # provider name -> plugin that registered it
        for impl in self.pm.hook.hub_register_providers.get_hookimpls():
            plugin = impl.plugin_name
            register = self._register_callback(plugin, providers, owners)
            arguments = {"register": register}
            try:
                returned = impl.function(**{name: arguments[name] for name in impl.argnames})
            except Exception as exc:
                logger.debug("hub_register_providers of plugin %s raised", plugin, exc_info=True)
                self.fail(plugin, f"hub_register_providers raised {_exception(exc)}")
                continue
            if returned is not None:
                self.fail(plugin, "hub_register_providers returned a value, which the hub ignores: "
                          "hand each provider to register(provider) instead")
        return providers

    def _register_callback(self, plugin: str, providers: dict[str, Provider],
                           owners: dict[str, str]) -> Callable[[Provider], None]:
        def register(provider: Provider) -> None:
            problems = declaration_problems(provider)
            name = getattr(provider, "name", None)
            if problems:
                self.fail(plugin, f"provider {name!r} was not registered: {'; '.join(problems)}")
                return
            if name in owners:
                who = "this plugin" if owners[name] == plugin else f"plugin {owners[name]!r}"
                self.fail(plugin, f"provider {name!r} was not registered: {who} already registered "
                          "a provider of that name; uninstall one of the two or rename one")
                return
            owners[name] = plugin
            providers[name] = dataclasses.replace(
                provider, auth_methods=tuple(provider.auth_methods), package=self.packages[plugin])

        return register


def _module_name(plugin: Any) -> str:
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    return (plugin if isinstance(plugin, type) else type(plugin)).__module__


def _qualified_name(plugin: Any) -> str:
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    cls = plugin if isinstance(plugin, type) else type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"
