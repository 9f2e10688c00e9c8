"""Loading provider plugins: through real entry points, restricted by HUB_PLUGINS, and with every
kind of broken plugin reported under its own name while the others still load.

The sample third-party package (tests/sample_provider) is installed with pip for this module and
uninstalled afterwards. Broken packages are made on the fly (tests/fake_distributions.py).
tests/test_plugin_collisions.py holds the collision policy: who serves a name several declare.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.metadata
import importlib.util
import logging
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from fake_distributions import fake_distribution  # noqa: F401 (a fixture)
from flask import Flask
from marshmallow import Schema, fields
from packaging.version import Version

from hub import hookimpl
from hub.plugins import (
    EXTENSION_KEY,
    PluginFailure,
    ProviderRegistry,
    declaration_problems,
    init_app,
    load_providers,
    plugins_disabled,
    plugins_to_load,
)
from hub.sdk import AuthMethod, Provider
from hub.verification.run import run_check

SAMPLE_SOURCE = Path(__file__).parent / "sample_provider"
SAMPLE_DISTRIBUTION = "hub-sample-provider"


def _pip(*args: str) -> None:
    completed = subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check",
                                "--quiet"], capture_output=True, text=True)
    if completed.returncode != 0:
        pytest.fail(f"pip {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")


def _setuptools_builds_wheels_here() -> bool:
    # Without build isolation pip builds with this environment's setuptools, which makes wheels by
    # itself only from 70.1; before that it needs the wheel package. Otherwise let pip fetch one.
    try:
        version = Version(importlib.metadata.version("setuptools"))
    except importlib.metadata.PackageNotFoundError:
        return False
    return version >= Version("70.1") or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="module")
def sample_package(tmp_path_factory):
    """hub-sample-provider, pip-installed into this environment for the module's tests."""
    # Built from a copy: a build leaves build/ and *.egg-info beside the sources it reads.
    source = tmp_path_factory.mktemp("sample") / "sample_provider"
    shutil.copytree(SAMPLE_SOURCE, source)
    isolation = ["--no-build-isolation"] if _setuptools_builds_wheels_here() else []
    _pip("install", "--no-deps", *isolation, str(source))
    importlib.invalidate_caches()
    try:
        yield SAMPLE_DISTRIBUTION
    finally:
        _pip("uninstall", "--yes", SAMPLE_DISTRIBUTION)
        importlib.invalidate_caches()
        sys.modules.pop("hub_sample_provider", None)


class Credentials(Schema):
    token = fields.String(required=True, metadata={"secret": True})


class Config(Schema):
    pass


def make_provider(name: str = "fake", **overrides) -> Provider:
    declaration = dict(name=name, display_name=name.title(), description="", version="1.0",
                       auth_methods=(AuthMethod("token", "Token", Credentials),),
                       config_schema=Config, verify=None)
    declaration.update(overrides)
    return Provider(**declaration)


class Declares:
    """A test plugin declaring the providers it is given."""

    def __init__(self, *providers):
        self.providers = providers

    @hookimpl
    def hub_register_providers(self, register):
        for provider in self.providers:
            register(provider)


def failure_of(registry: ProviderRegistry, plugin: str) -> str:
    errors = [failure.error for failure in registry.failures if failure.plugin == plugin]
    assert len(errors) == 1, registry.failures
    return errors[0]


# Through real entry points ---------------------------------------------------------------------

def test_the_sample_package_loads_through_its_entry_point(sample_package):
    import hub_sample_provider

    registry = load_providers(only={"sample"})

    assert registry.names() == ["sample"]
    assert registry.failures == []
    provider = registry.get("sample")
    assert provider.package == SAMPLE_DISTRIBUTION
    assert provider == dataclasses.replace(hub_sample_provider.PROVIDER, package=SAMPLE_DISTRIBUTION)


def test_every_entry_point_loads_by_default(sample_package):
    registry = load_providers()
    assert "sample" in registry.names()
    # The built-in providers may be in any state while they are written: judge only ours.
    assert [f for f in registry.failures if f.plugin == "sample"] == []


def test_hub_plugins_restricts_which_entry_points_load(sample_package):
    assert load_providers(only=set()).names() == []
    registry = load_providers(only={"sample", "smaple"})
    assert registry.names() == ["sample"]
    assert "HUB_PLUGINS names 'smaple'" in failure_of(registry, "smaple")


def test_entry_points_can_be_switched_off(sample_package):
    registry = load_providers(entrypoints=False)
    assert registry.names() == []
    assert registry.failures == []


def test_the_sample_check_runs(sample_package):
    provider = load_providers(only={"sample"}).get("sample")

    class Response:
        status = 200
        headers = {}

        def json(self):
            return {"user": "ada", "scopes": ["read"]}

    class Http:
        def request(self, method, url, *, headers=None, json=None, data=None):
            self.seen = (method, url, headers)
            return Response()

    http = Http()
    result = run_check(provider, None, {"api_key": "k-123"}, {"api_base_url": "https://s.test/"},
                       http)
    assert result["ok"] is True
    assert result["identity"] == {"user": "ada"}
    assert http.seen == ("GET", "https://s.test/whoami", {"Authorization": "Bearer k-123"})


def test_an_import_error_is_reported_and_the_others_still_load(sample_package, fake_distribution):
    fake_distribution("hub-broken-import", {"broken": "hub_fake_broken_import"},
                      {"hub_fake_broken_import": "import hub_fake_missing_dependency\n"})

    registry = load_providers(only={"sample", "broken"})

    assert registry.names() == ["sample"]
    error = failure_of(registry, "broken")
    assert "hub-broken-import" in error
    assert "ModuleNotFoundError" in error and "hub_fake_missing_dependency" in error


def test_a_hook_name_with_a_typo_is_reported_and_the_others_still_load(sample_package,
                                                                        fake_distribution):
    fake_distribution("hub-typo", {"typo": "hub_fake_typo"}, {"hub_fake_typo": """
        from hub import hookimpl
        from hub.sdk import AuthMethod, Provider

        @hookimpl
        def hub_register_provider(register):
            pass
    """})

    registry = load_providers(only={"sample", "typo"})

    assert registry.names() == ["sample"]
    error = failure_of(registry, "typo")
    assert "'hub_register_provider'" in error
    assert "did you mean 'hub_register_providers'" in error


def test_a_provider_name_declared_by_two_plugins_is_served_by_neither(sample_package):
    rival = Declares(make_provider("sample"), make_provider("other"))

    registry = load_providers(only={"sample"}, extra_plugins=[rival])

    assert registry.names() == ["other"]
    for plugin in ("sample", "test_plugins.Declares"):
        error = failure_of(registry, plugin)
        assert "provider 'sample' was not registered" in error
        assert f"plugin 'sample' (distribution {SAMPLE_DISTRIBUTION})" in error
        assert "plugin 'test_plugins.Declares' (distribution test_plugins)" in error
        assert "none of them serves it" in error


def test_an_entry_point_name_declared_by_two_packages(sample_package, fake_distribution):
    fake_distribution("hub-impostor", {"sample": "hub_fake_impostor"},
                      {"hub_fake_impostor": "X = 1\n"})

    registry = load_providers(only={"sample"})

    # Which one HUB_PLUGINS=sample means cannot be told, so neither loads.
    assert registry.names() == []
    errors = sorted(failure.error for failure in registry.failures if failure.plugin == "sample")
    assert len(errors) == 2, errors
    assert errors[0].startswith("the entry point 'sample' of distribution hub-impostor was not "
                                f"loaded: distribution {SAMPLE_DISTRIBUTION} declares one")
    assert errors[1].startswith(f"the entry point 'sample' of distribution {SAMPLE_DISTRIBUTION} "
                                "was not loaded: distribution hub-impostor declares one")
    assert "neither loads" in errors[0]


def test_a_distribution_name_chooses_between_two_entry_points_of_one_name(sample_package,
                                                                        fake_distribution):
    fake_distribution("hub-impostor", {"sample": "hub_fake_impostor"},
                      {"hub_fake_impostor": "X = 1\n"})

    registry = load_providers(only={"hub_Sample.provider"})  # compared as pip compares names

    assert registry.names() == ["sample"]
    assert registry.failures == []


# Declarations ----------------------------------------------------------------------------------

class Two(Schema):
    pass


@pytest.mark.parametrize("overrides, expected", [
    ({"name": "Bad Name"}, "the name 'Bad Name' must match"),
    ({"name": "x" * 64}, "must match"),
    ({"auth_methods": ()}, "declares no auth method"),
    ({"auth_methods": (AuthMethod("token", "A", Credentials), AuthMethod("token", "B", Two))},
     "auth method id 'token' is declared more than once"),
    ({"auth_methods": (AuthMethod("a", "A", Credentials, default=True),
                       AuthMethod("b", "B", Two, default=True))}, "'a', 'b' are all marked default"),
    ({"auth_methods": (AuthMethod("Token!", "A", Credentials),)}, "auth method id 'Token!'"),
    ({"auth_methods": ("token",)}, "auth_methods holds a str"),
    ({"auth_methods": (AuthMethod("token", "T", Credentials()),)},
     "credentials_schema must be a marshmallow Schema class, not an instance of Credentials"),
    ({"config_schema": dict}, "config_schema must be a marshmallow Schema class"),
    ({"verify": "https://example.com"}, "verify must be a function"),
    ({"verify": lambda auth_type, credentials, config: None},
     "verify(auth_type, credentials, config) cannot be called as verify(auth_type, credentials, "
     "config, http) (too many positional arguments); make it take these four positional"),
    ({"verify": lambda auth_type, credentials, config, *, http: None},
     "cannot be called as verify(auth_type, credentials, config, http)"),
    ({"verify": lambda auth_type, credentials, config, http, retries: None},
     "missing a required argument: 'retries'"),
    ({"version": 1}, "version must be a string"),
])
def test_a_bad_declaration_is_reported_and_the_plugins_other_providers_load(overrides, expected):
    registry = load_providers(entrypoints=False, extra_plugins=[
        Declares(make_provider("good"), make_provider(**{"name": "bad", **overrides}))])

    assert registry.names() == ["good"]
    error = failure_of(registry, "test_plugins.Declares")
    assert "was not registered" in error
    assert expected in error


def test_a_schema_that_cannot_be_used_is_reported():
    class Broken(Schema):
        class Meta:
            fields = ("no_such_field",)

    problems = declaration_problems(make_provider(config_schema=Broken))
    assert len(problems) == 1
    assert problems[0].startswith("its schemas cannot be described as JSON Schema: ")
    assert "no_such_field" in problems[0]


def test_register_takes_only_providers():
    registry = load_providers(entrypoints=False, extra_plugins=[Declares({"name": "dict"})])
    assert "register() takes a hub.sdk.Provider, not a dict" in failure_of(
        registry, "test_plugins.Declares")


def test_a_good_declaration_has_no_problems():
    assert declaration_problems(make_provider()) == []


class CallableCheck:
    def __call__(self, auth_type, credentials, config, http):
        pass


@pytest.mark.parametrize("verify", [
    lambda auth_type, credentials, config, http: None,
    lambda *args: None,
    lambda auth_type, credentials, config, http, retries=2, **options: None,
    CallableCheck(),
    functools.partial(lambda label, auth_type, credentials, config, http: None, "acme"),
], ids=["plain", "args", "extra-optional", "callable-object", "partial"])
def test_a_check_that_takes_the_four_arguments_is_accepted(verify):
    assert declaration_problems(make_provider(verify=verify)) == []


def test_auth_methods_given_as_a_list_are_stored_as_a_tuple():
    provider = make_provider(auth_methods=[AuthMethod("token", "Token", Credentials)])
    registry = load_providers(entrypoints=False, extra_plugins=[Declares(provider)])
    assert registry.get("fake").auth_methods == (AuthMethod("token", "Token", Credentials),)


def test_the_same_name_twice_from_one_plugin():
    registry = load_providers(entrypoints=False, extra_plugins=[
        Declares(make_provider("twin"), make_provider("twin"))])
    assert registry.names() == ["twin"]
    assert "this plugin already registered" in failure_of(registry, "test_plugins.Declares")


# Broken plugins --------------------------------------------------------------------------------

class Raises:
    @hookimpl
    def hub_register_providers(self, register):
        register(make_provider("early"))
        raise RuntimeError("config file missing")


class Returns:
    @hookimpl
    def hub_register_providers(self, register):
        return make_provider("returned")


class WrongArgument:
    @hookimpl
    def hub_register_providers(self, registry):
        pass


class NoHooks:
    def hub_register_providers(self, register):  # no @hookimpl: pluggy never sees it
        register(make_provider("unseen"))


class Typo:
    @hookimpl
    def hub_register_provider(self, register):
        pass


def test_each_broken_plugin_is_reported_by_name_and_the_good_one_loads():
    registry = load_providers(entrypoints=False, extra_plugins=[
        Raises(), Returns(), WrongArgument(), NoHooks(), Typo(), Declares(make_provider("good"))])

    assert registry.names() == ["early", "good"]
    assert failure_of(registry, "test_plugins.Raises") == (
        "hub_register_providers raised RuntimeError: config file missing")
    assert "returned a value" in failure_of(registry, "test_plugins.Returns")
    assert "could not be registered" in failure_of(registry, "test_plugins.WrongArgument")
    assert "'registry'" in failure_of(registry, "test_plugins.WrongArgument")
    assert "implements no hub hook" in failure_of(registry, "test_plugins.NoHooks")
    assert "did you mean 'hub_register_providers'" in failure_of(registry, "test_plugins.Typo")
    assert len(registry.failures) == 5


def test_a_hook_for_a_newer_hub_can_be_optional():
    class Newer:
        @hookimpl
        def hub_register_providers(self, register):
            register(make_provider())

        @hookimpl(optionalhook=True)
        def hub_some_future_hook(self):
            pass

    registry = load_providers(entrypoints=False, extra_plugins=[Newer()])
    assert registry.names() == ["fake"]
    assert registry.failures == []


def test_a_namespace_package_gets_a_hint(fake_distribution, tmp_path):
    fake_distribution("hub-namespace", {"ns": "hub_fake_namespace"}, {})
    (tmp_path / "hub-namespace" / "hub_fake_namespace").mkdir()  # a folder with no __init__.py

    try:
        registry = load_providers(only={"ns"})
    finally:
        sys.modules.pop("hub_fake_namespace", None)

    error = failure_of(registry, "ns")
    assert "implements no hub hook" in error
    assert "'hub_fake_namespace' was imported as a namespace package" in error


# Extra plugins ---------------------------------------------------------------------------------

def test_extra_plugins_may_be_modules_classes_or_objects():
    module = types.ModuleType("hub_fake_module_plugin")

    @hookimpl
    def hub_register_providers(register):
        register(make_provider("from-module"))

    module.hub_register_providers = hub_register_providers

    class AsClass:
        @staticmethod
        @hookimpl
        def hub_register_providers(register):
            register(make_provider("from-class"))

    registry = load_providers(entrypoints=False, extra_plugins=[
        module, AsClass, Declares(make_provider("from-object")), Declares(make_provider("again"))])

    assert registry.names() == ["again", "from-class", "from-module", "from-object"]
    assert registry.failures == []
    assert registry.get("from-module").package == "hub_fake_module_plugin"
    assert registry.get("from-object").package == "test_plugins"
    assert registry.get("from-class").package == "test_plugins"


def test_the_same_object_twice_is_reported():
    plugin = Declares(make_provider())
    registry = load_providers(entrypoints=False, extra_plugins=[plugin, plugin])
    assert registry.names() == ["fake"]
    assert "could not be registered" in failure_of(registry, "test_plugins.Declares#2")


# Registry and app ------------------------------------------------------------------------------

def test_the_registry_is_sorted_by_name():
    registry = ProviderRegistry({"b": make_provider("b"), "a": make_provider("a")})
    assert registry.names() == ["a", "b"]
    assert list(registry.providers) == ["a", "b"]
    assert registry.get("a").name == "a"
    assert registry.get("c") is None
    assert registry.failures == []


@pytest.mark.parametrize("config, expected", [
    ({}, None),
    ({"PLUGINS": None}, None),
    ({"PLUGINS": "slack, github,,"}, {"slack", "github"}),
    ({"PLUGINS": ""}, set()),
    ({"PLUGINS": ["jira"]}, {"jira"}),
    ({"PLUGINS_ONLY": {"sample"}, "PLUGINS": "slack"}, {"sample"}),
])
def test_plugins_to_load(config, expected):
    assert plugins_to_load(config) == expected


@pytest.mark.parametrize("config, expected", [
    ({}, set()),
    ({"DISABLED_PLUGINS": None}, set()),
    ({"DISABLED_PLUGINS": "hub-acme, github,,"}, {"hub-acme", "github"}),
    ({"DISABLED_PLUGINS": ["jira"]}, {"jira"}),
])
def test_plugins_disabled(config, expected):
    assert plugins_disabled(config) == expected


def test_init_app_keeps_the_registry_and_logs_failures(caplog):
    app = Flask(__name__)
    app.config.update(PLUGINS_ENTRYPOINTS=False,
                      EXTRA_PLUGINS=[Declares(make_provider("good")), Typo()])

    with caplog.at_level(logging.ERROR, logger="hub.plugins"):
        init_app(app)

    registry = app.extensions[EXTENSION_KEY]
    assert registry.names() == ["good"]
    assert registry.failures == [PluginFailure("test_plugins.Typo", registry.failures[0].error)]
    assert "test_plugins.Typo" in caplog.text and "hub_register_provider" in caplog.text


def test_init_app_reads_hub_plugins(sample_package):
    app = Flask(__name__)
    app.config.update(PLUGINS="sample")
    init_app(app)
    assert app.extensions[EXTENSION_KEY].names() == ["sample"]


def test_third_party_provider_through_the_api(sample_package, hub, httpserver):
    """An installed third-party package shows in GET /v1/providers and its integrations work."""
    listed = {p["name"]: p for p in hub.call("GET", "/v1/providers").json["items"]}
    assert listed["sample"]["package"] == SAMPLE_DISTRIBUTION
    assert listed["sample"]["auth_methods"][0]["credentials_schema"]["properties"]["api_key"]["writeOnly"]
    httpserver.expect_request("/whoami", headers={"Authorization": "Bearer sk-sample-123"}).respond_with_json(
        {"user": "ada", "scopes": ["read"]})
    created = hub.call("POST", "/v1/projects/payments/integrations?verify=true", json={
        "name": "sample-one", "provider": "sample", "credentials": {"api_key": "sk-sample-123"},
        "config": {"api_base_url": httpserver.url_for("/").rstrip("/")}})
    assert created.status_code == 201, created.json
    assert created.json["auth_type"] == "api_key"
    assert created.json["last_verification"]["identity"] == {"user": "ada"}
    assert "sk-sample-123" not in created.get_data(as_text=True)
    again = hub.call("POST", f"/v1/projects/payments/integrations/{created.json['id']}:verifyConfig")
    assert again.status_code == 200 and again.json["ok"] is True and again.json["scopes"] == ["read"]
