"""Loading plugins and registering the providers they declare.

Plugins are found through the "hub" entry-point group (the built-in providers too: nothing here names
one) or handed in as objects (`extra_plugins`, for tests). Each plugin declares its providers through
the `hub_register_providers(register)` hook; `register` checks every declaration and records which
plugin made it. Nothing a plugin does wrong raises here: an import error, a hook name with a typo, a
bad declaration or a provider name already taken becomes a `PluginFailure` naming the plugin, and
every other plugin still loads.

Built-in providers take exactly this path; the one difference is the answer to "is it ours?" (the
entry point belongs to the hub's own distribution), which `hub.plugins.claims` uses to keep their
names from being taken over.
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata
import logging
import types
from typing import Any, Iterable

import pluggy

from hub import hookspecs
from hub.plugins.claims import Claim, Reservation, resolve
from hub.plugins.declaration import _exception, declaration_problems
from hub.plugins.registry import PluginFailure, ProviderRegistry
from hub.plugins.selection import PluginSelection, normalize_distribution
from hub.sdk import Provider

logger = logging.getLogger(__name__)
ENTRYPOINT_GROUP = "hub"
# The distribution the hub itself is installed as (pyproject.toml: [project] name): its entry points
# are the built-in providers. A third party cannot publish under this name without replacing the
# hub itself, so the name is a sound test of "is it ours".
HUB_DISTRIBUTION = "hub"


def load_providers(*, entrypoints: bool = True, only: Iterable[str] | None = None,
                   disabled: Iterable[str] | None = None,
                   extra_plugins: Iterable[Any] = ()) -> ProviderRegistry:
    """Load the plugins and collect the providers they declare.

    :param entrypoints: load the plugins of the "hub" entry-point group (tests switch this off).
    :param only: load only these entry points or distributions (HUB_PLUGINS); None loads all.
    :param disabled: never load these entry points or distributions (HUB_DISABLED_PLUGINS).
    :param extra_plugins: modules, classes or objects with ``@hookimpl`` functions, registered
        after the entry points under their module-qualified name; `only` and `disabled` do not
        apply to them, and they are never built-in.
    """
    loader = _Loader()
    if entrypoints:
        loader.load_entrypoints(PluginSelection.of(only, disabled))
    for plugin in extra_plugins:
        loader.register_extra(plugin)
    loader.drop_plugins_with_unknown_hooks()
    loader.report_plugins_without_hooks()
    providers = loader.collect_providers()
    return ProviderRegistry(providers, loader.failures)


def is_builtin(entry_point: importlib.metadata.EntryPoint) -> bool:
    """Whether an entry point ships with the hub (belongs to the hub's own distribution)."""
    return (entry_point.dist is not None
            and normalize_distribution(entry_point.dist.name) == HUB_DISTRIBUTION)


def _distribution(entry_point: importlib.metadata.EntryPoint) -> str:
    return entry_point.dist.name if entry_point.dist is not None else entry_point.module


class _Loader:
    """One run of plugin loading: the plugin manager, where each plugin came from, what failed."""

    def __init__(self):
        self.pm = pluggy.PluginManager(ENTRYPOINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.packages: dict[str, str] = {}  # plugin name -> distribution (or module) it came from
        self.builtin: set[str] = set()  # plugins from entry points of the hub's distribution
        # Every built-in entry point's name, with why a built-in might not claim it itself (left
        # out, or broken): the name stays the built-in's either way. This relies on a built-in
        # plugin's entry point being named after the provider it registers, which
        # tests/test_plugin_collisions.py holds the hub's own distribution to.
        self.reserved: dict[str, Reservation] = {}
        self.failures: list[PluginFailure] = []

    def fail(self, plugin: str, error: str) -> None:
        self.failures.append(PluginFailure(plugin, error))

    def load_entrypoints(self, selection: PluginSelection) -> None:
        found = list(importlib.metadata.entry_points(group=ENTRYPOINT_GROUP))
        for setting, name in selection.unknown_names((ep.name, _distribution(ep)) for ep in found):
            effect = "loads nothing" if setting == "HUB_PLUGINS" else "leaves nothing out"
            self.fail(name, f"{setting} names {name!r}, but no installed distribution of that name "
                      f"has a {ENTRYPOINT_GROUP!r} entry point and no entry point has that name, so "
                      f"it {effect}; check the spelling. Installed: {_installed(found)}")
        by_name: dict[str, list[importlib.metadata.EntryPoint]] = {}
        for ep in found:
            admitted = selection.admits(ep.name, _distribution(ep))
            if is_builtin(ep):
                self.reserved[ep.name] = Reservation(ep.name, loaded=admitted)
            if admitted:
                by_name.setdefault(ep.name, []).append(ep)
        # Sorted, so that the order plugins register in does not depend on the filesystem.
        for name in sorted(by_name):
            ep = self._one_entry_point(name, by_name[name])
            if ep is not None:
                self.load_entrypoint(ep)

    def _one_entry_point(self, name: str, eps: list[importlib.metadata.EntryPoint]):
        """The entry point to load among those of one name, reporting the others; None for none.

        The plugin name is what HUB_PLUGINS and the failures use, so two distributions may not
        share one: the built-in one wins, else neither loads (the same rule as provider names).
        """
        if len(eps) == 1:
            return eps[0]
        builtin = next((ep for ep in eps if is_builtin(ep)), None)
        for ep in eps:
            if builtin is not None and ep is not builtin:
                self.fail(name, f"the entry point {name!r} of distribution {_distribution(ep)} was "
                          "not loaded: the hub's own distribution has an entry point of that name, "
                          "and no plugin can replace a built-in one. Rename the entry point in "
                          f"{_distribution(ep)}, or uninstall it")
            elif builtin is None:
                others = ", ".join(_distribution(other) for other in eps if other is not ep)
                self.fail(name, f"the entry point {name!r} of distribution {_distribution(ep)} was "
                          f"not loaded: distribution {others} declares one of the same name too, "
                          "so neither loads. Uninstall one of them, or choose one by its "
                          "distribution name in HUB_PLUGINS or HUB_DISABLED_PLUGINS")
        return builtin

    def load_entrypoint(self, ep: importlib.metadata.EntryPoint) -> None:
        package = _distribution(ep)
        try:
            plugin = ep.load()
        except Exception as exc:
            logger.debug("importing plugin %s failed", ep.name, exc_info=True)
            self.fail(ep.name, f"could not import {ep.value!r} (package {package}): "
                      f"{_exception(exc)}")
            return
        if self.register(plugin, ep.name, package) and is_builtin(ep):
            self.builtin.add(ep.name)

    def register_extra(self, plugin: Any) -> None:
        name = _qualified_name(plugin)
        unique, n = name, 1
        while self.pm.has_plugin(unique):
            n += 1
            unique = f"{name}#{n}"
        self.register(plugin, unique, _module_name(plugin))

    def register(self, plugin: Any, name: str, package: str) -> bool:
        try:
            self.pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            # e.g. a hook implementation with an argument the hook does not have
            self.fail(name, f"could not be registered: {' '.join(str(exc).split())}")
            return False
        self.packages[name] = package
        return True

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
        made: list[Claim] = []
        # Built-in plugins first, so that their claims are the ones a refusal names.
        impls = sorted(self.pm.hook.hub_register_providers.get_hookimpls(),
                       key=lambda impl: impl.plugin_name not in self.builtin)
        for impl in impls:
            plugin = impl.plugin_name
            arguments = {"register": self._register_callback(plugin, made)}
            try:
                returned = impl.function(**{name: arguments[name] for name in impl.argnames})
            except Exception as exc:
                logger.debug("hub_register_providers of plugin %s raised", plugin, exc_info=True)
                self.fail(plugin, f"hub_register_providers raised {_exception(exc)}")
                continue
            if returned is not None:
                self.fail(plugin, "hub_register_providers returned a value, which the hub ignores: "
                          "hand each provider to register(provider) instead")
        providers, refused = resolve(made, self.reserved)
        for plugin, error in refused:
            self.fail(plugin, error)
        return providers

    def _register_callback(self, plugin: str, made: list[Claim]):
        def register(provider: Provider) -> None:
            problems = declaration_problems(provider)
            name = getattr(provider, "name", None)
            if problems:
                self.fail(plugin, f"provider {name!r} was not registered: {'; '.join(problems)}")
                return
            if any(claim.plugin == plugin and claim.provider.name == name for claim in made):
                self.fail(plugin, f"provider {name!r} was not registered: this plugin already "
                          "registered a provider of that name; rename one of the two")
                return
            package = self.packages[plugin]
            made.append(Claim(
                dataclasses.replace(provider, auth_methods=tuple(provider.auth_methods),
                                    package=package),
                plugin=plugin, distribution=package, builtin=plugin in self.builtin))

        return register


def _installed(found: list[importlib.metadata.EntryPoint]) -> str:
    listed = sorted({f"{ep.name} ({_distribution(ep)})" for ep in found})
    return ", ".join(listed) or "none"


def _module_name(plugin: Any) -> str:
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    return (plugin if isinstance(plugin, type) else type(plugin)).__module__


def _qualified_name(plugin: Any) -> str:
    if isinstance(plugin, types.ModuleType):
        return plugin.__name__
    cls = plugin if isinstance(plugin, type) else type(plugin)
    return f"{cls.__module__}.{cls.__qualname__}"
