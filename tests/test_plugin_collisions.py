"""The collision policy: a third party never takes over a built-in provider's name, two third
parties declaring one name are both refused, and HUB_PLUGINS / HUB_DISABLED_PLUGINS take
distribution names as well as entry-point names.

The built-in providers are the entry points of the hub's own distribution (slack, github, jira);
the rivals are fake distributions made on the fly (tests/fake_distributions.py). An entry point
named "aaa-..." sorts before every built-in, which is what let one take over before.
"""
from __future__ import annotations

import importlib.metadata
import textwrap

import pytest
from fake_distributions import fake_distribution  # noqa: F401 (a fixture)

from hub.plugins import load_providers
from hub.plugins.loader import ENTRYPOINT_GROUP, is_builtin

IMPOSTOR = """
    from marshmallow import Schema, fields
    from hub import hookimpl, AuthMethod, Provider

    class Credentials(Schema):
        token = fields.String(required=True, metadata={"secret": True})

    def verify(auth_type, credentials, config, http):
        raise AssertionError("the impostor's check must never run")

    @hookimpl
    def hub_register_providers(register):
        for name in NAMES:
            register(Provider(name=name, display_name=name, description="", version="6.6.6",
                              auth_methods=(AuthMethod("token", "Token", Credentials),),
                              config_schema=Schema, verify=verify))
"""


@pytest.fixture
def third_party(fake_distribution):
    """third_party(distribution, entry_point, *provider_names): a plugin declaring those names."""

    def make(distribution: str, entry_point: str, *names: str) -> None:
        module = f"hub_fake_{distribution.replace('-', '_')}"
        fake_distribution(distribution, {entry_point: module},
                          {module: f"NAMES = {list(names)!r}\n" + textwrap.dedent(IMPOSTOR)})

    return make


def errors_of(registry, plugin: str) -> list[str]:
    return [failure.error for failure in registry.failures if failure.plugin == plugin]


def builtin_entry_points() -> list[importlib.metadata.EntryPoint]:
    return [ep for ep in importlib.metadata.entry_points(group=ENTRYPOINT_GROUP) if is_builtin(ep)]


def test_the_built_in_providers_are_the_hubs_own_entry_points():
    assert sorted(ep.name for ep in builtin_entry_points()) == ["github", "jira", "slack"]


def test_each_built_in_entry_point_registers_the_provider_of_its_name():
    # The loader keeps a left-out built-in's name by its entry-point name: hold the hub to it.
    for ep in builtin_entry_points():
        registry = load_providers(only={ep.name})
        assert registry.names() == [ep.name], registry.failures
        assert registry.get(ep.name).package == "hub"


def test_a_third_party_cannot_take_over_a_built_in_name(third_party):
    third_party("hub-evil", "aaa-evil", "slack", "evil-extra")

    registry = load_providers(only={"aaa-evil", "slack"})

    assert registry.names() == ["evil-extra", "slack"]
    assert registry.get("slack").package == "hub"
    assert registry.get("slack").version != "6.6.6"
    [error] = errors_of(registry, "aaa-evil")
    assert error.startswith("provider 'slack' of plugin 'aaa-evil' (distribution hub-evil) was not "
                            "registered: that name belongs to the built-in provider of plugin "
                            "'slack' (distribution hub)")
    assert errors_of(registry, "slack") == []


def test_a_third_party_entry_point_named_like_a_built_in_is_not_loaded(third_party):
    third_party("hub-evil", "slack", "slack")

    registry = load_providers(only={"slack"})

    assert registry.names() == ["slack"]
    assert registry.get("slack").package == "hub"
    [error] = errors_of(registry, "slack")
    assert error.startswith("the entry point 'slack' of distribution hub-evil was not loaded: the "
                            "hub's own distribution has an entry point of that name")


@pytest.mark.parametrize("selection", [
    {"disabled": {"slack"}},
    {"disabled": {"hub"}},  # the hub's own distribution: every built-in
    {"only": {"aaa-evil"}},
    {"only": {"hub-evil"}},
])
def test_a_built_in_left_out_keeps_its_name(third_party, selection):
    third_party("hub-evil", "aaa-evil", "slack")

    registry = load_providers(**selection)

    assert "slack" not in registry.names()
    [error] = errors_of(registry, "aaa-evil")
    assert "belongs to the built-in provider of plugin 'slack' (distribution hub) (left out " \
           "here by HUB_PLUGINS or HUB_DISABLED_PLUGINS; the name stays its)" in error


def test_a_built_in_that_fails_to_load_keeps_its_name(third_party, monkeypatch):
    import hub_slack

    monkeypatch.delattr(hub_slack, "hub_register_providers")  # no hook left: it cannot load
    third_party("hub-evil", "aaa-evil", "slack")

    registry = load_providers(only={"aaa-evil", "slack"})

    assert "slack" not in registry.names()
    assert "implements no hub hook" in errors_of(registry, "slack")[0]
    [error] = errors_of(registry, "aaa-evil")
    assert "belongs to the built-in provider of plugin 'slack' (distribution hub) (it failed to " \
           "load here" in error


def test_two_third_parties_declaring_one_name_are_both_refused(third_party):
    third_party("hub-acme", "acme", "acme", "acme-only")
    third_party("hub-acme-fork", "acme-fork", "acme")

    registry = load_providers(only={"acme", "acme-fork"})

    assert registry.names() == ["acme-only"]
    for plugin in ("acme", "acme-fork"):
        [error] = errors_of(registry, plugin)
        assert error.startswith("provider 'acme' was not registered: plugin 'acme' (distribution "
                                "hub-acme) and plugin 'acme-fork' (distribution hub-acme-fork) "
                                "both declare it, so none of them serves it")
        assert "HUB_DISABLED_PLUGINS=<distribution>" in error


def test_disabling_one_of_two_rivals_by_distribution_lets_the_other_serve(third_party):
    third_party("hub-acme", "acme", "acme")
    third_party("hub-acme-fork", "acme-fork", "acme")

    registry = load_providers(only={"acme", "acme-fork"}, disabled={"Hub_Acme.Fork"})

    assert registry.names() == ["acme"]
    assert registry.get("acme").package == "hub-acme"
    assert registry.failures == []


def test_hub_plugins_takes_distribution_names(third_party):
    third_party("hub-acme", "acme", "acme")

    registry = load_providers(only={"hub-acme", "jira"})

    assert registry.names() == ["acme", "jira"]
    assert registry.failures == []


def test_hub_disabled_plugins_takes_entry_point_names_and_wins_over_hub_plugins(third_party):
    third_party("hub-acme", "acme", "acme")

    registry = load_providers(only={"hub-acme", "jira"}, disabled={"acme"})

    assert registry.names() == ["jira"]


def test_disabling_the_hub_distribution_leaves_out_every_built_in(third_party):
    third_party("hub-acme", "acme", "acme")

    registry = load_providers(disabled={"hub"})

    assert registry.names() == ["acme"]


def test_a_misspelt_name_in_either_setting_is_reported(third_party):
    third_party("hub-acme", "acme", "acme")

    registry = load_providers(only={"acme", "jria"}, disabled={"hub-acmee"})

    assert registry.names() == ["acme"]
    [unknown] = errors_of(registry, "jria")
    assert unknown.startswith("HUB_PLUGINS names 'jria', but no installed distribution")
    assert "acme (hub-acme)" in unknown and "jira (hub)" in unknown
    [misspelt] = errors_of(registry, "hub-acmee")
    assert misspelt.startswith("HUB_DISABLED_PLUGINS names 'hub-acmee'")
    assert "leaves nothing out" in misspelt


def test_an_extra_plugin_is_never_built_in(third_party):
    from hub_slack import PROVIDER

    from hub import hookimpl

    class Copy:
        @hookimpl
        def hub_register_providers(self, register):
            register(PROVIDER)

    registry = load_providers(only={"slack"}, extra_plugins=[Copy()])

    assert registry.get("slack").package == "hub"
    [error] = [failure.error for failure in registry.failures if failure.plugin.endswith(".Copy")]
    assert "belongs to the built-in provider of plugin 'slack'" in error
