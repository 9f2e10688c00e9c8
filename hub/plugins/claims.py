"""The collision policy: who serves a provider name that more than one plugin declares.

Plugins first *claim* names (every declaration that passed its checks); only when every plugin has
spoken does the hub decide, so the outcome never depends on which plugin happened to load first:

- A name that a provider of the hub's own distribution declares belongs to that built-in provider.
  A third party declaring it is refused and the built-in keeps serving: installing a package must
  never be a way to replace the Slack check, or to receive the Slack tokens that clients send.
  The name stays the built-in's even when the operator leaves the built-in out (HUB_PLUGINS,
  HUB_DISABLED_PLUGINS) or it fails to load, so that neither can hand it to someone else.
- A name that two or more third-party plugins declare is served by none of them: the hub cannot
  tell which one the operator meant, and guessing would send credentials to code nobody chose.
  Each of them gets a failure naming all of them, so the operator can uninstall or disable one.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping

from hub.sdk import Provider


@dataclasses.dataclass(frozen=True)
class Claim:
    """One provider declaration that passed its checks, and where it came from."""

    provider: Provider
    plugin: str  # the plugin's name: its entry point, or an extra plugin's qualified name
    distribution: str  # the distribution it came from (an extra plugin: its module)
    builtin: bool  # it came from an entry point of the hub's own distribution


@dataclasses.dataclass(frozen=True)
class Reservation:
    """A built-in provider's name, kept for it even when it does not claim the name itself."""

    plugin: str  # the built-in plugin (its entry point is named after its provider)
    loaded: bool  # False: the operator left it out; True: it was let load (and may have failed)


def resolve(claims: Iterable[Claim], reserved: Mapping[str, Reservation]) -> tuple[
        dict[str, Provider], list[tuple[str, str]]]:
    """The providers to serve, by name, and (plugin, error) for every claim refused.

    :param claims: the claims in the order they were made.
    :param reserved: provider name -> Reservation, for every built-in entry point found.
    """
    by_name: dict[str, list[Claim]] = {}
    for claim in claims:
        by_name.setdefault(claim.provider.name, []).append(claim)
    served: dict[str, Provider] = {}
    refused: list[tuple[str, str]] = []
    for name, rivals in by_name.items():
        builtin = next((claim for claim in rivals if claim.builtin), None)
        if builtin is not None:
            served[name] = builtin.provider
            refused += [(claim.plugin, _taken_from_builtin(claim, builtin.plugin, ""))
                        for claim in rivals if claim is not builtin]
        elif name in reserved:
            reservation = reserved[name]
            why = (" (it failed to load here: see its own failure; the name stays its)"
                   if reservation.loaded else
                   " (left out here by HUB_PLUGINS or HUB_DISABLED_PLUGINS; the name stays its)")
            refused += [(claim.plugin, _taken_from_builtin(claim, reservation.plugin, why))
                        for claim in rivals]
        elif len(rivals) == 1:
            served[name] = rivals[0].provider
        else:
            refused += [(claim.plugin, _declared_twice(name, rivals)) for claim in rivals]
    return served, refused


def _taken_from_builtin(claim: Claim, builtin_plugin: str, where: str) -> str:
    return (f"provider {claim.provider.name!r} of plugin {claim.plugin!r} (distribution "
            f"{claim.distribution}) was not registered: that name belongs to the built-in "
            f"provider of plugin {builtin_plugin!r} (distribution hub){where}, and no plugin can "
            "replace a built-in provider. Rename the provider in that distribution, or uninstall it "
            "if it was not meant to run here")


def _declared_twice(name: str, rivals: list[Claim]) -> str:
    who = " and ".join(f"plugin {claim.plugin!r} (distribution {claim.distribution})"
                       for claim in rivals)
    every = "both" if len(rivals) == 2 else "all"
    return (f"provider {name!r} was not registered: {who} {every} declare it, so none of them serves "
            "it rather than the hub guessing which one should receive its credentials. Uninstall "
            "all but one of these distributions, or leave the others out with "
            "HUB_DISABLED_PLUGINS=<distribution>")
