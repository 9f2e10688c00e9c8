"""Writing a new provider plugin package (`hub plugin new NAME`): a pyproject with the `hub`
entry point, a provider declared with the SDK's declarative check, tests that use the shipped
kit (`hub.testing`) against a fake of the provider's API, and a README. The package's tests pass
as written, so an author starts from green and changes the check to the real API.
"""
from __future__ import annotations

import re
import string
from pathlib import Path

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class ScaffoldError(ValueError):
    """The name or the folder cannot be used; the message says why."""


def new_plugin(name: str, parent: Path) -> Path:
    """Write `hub-<name>/` under `parent` and return its path.

    :raises ScaffoldError: a name that cannot be a provider and module name, or a folder there.
    """
    if not NAME_RE.fullmatch(name):
        raise ScaffoldError(f"'{name}' cannot name a provider: use 1-41 lower-case letters, digits "
                            "and '_', starting with a letter (it becomes the module hub_<name>).")
    root = Path(parent) / f"hub-{name.replace('_', '-')}"
    if root.exists():
        raise ScaffoldError(f"{root} already exists; choose another name or move it away first.")
    values = {"name": name, "module": f"hub_{name}", "distribution": f"hub-{name.replace('_', '-')}",
              "title": name.replace("_", " ").title()}
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"{values['module']}/__init__.py": _PROVIDER,
        f"tests/test_{name}.py": _TESTS,
    }
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(string.Template(template).substitute(values))
    return root


_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "$title provider for the hub: credentials checked against the $title API."
requires-python = ">=3.11"
dependencies = ["hub"]

[project.optional-dependencies]
test = ["pytest>=8", "pytest-httpserver>=1.1"]

# The hub finds providers through this entry-point group, exactly as it finds its own.
[project.entry-points.hub]
$name = "$module"

[tool.setuptools]
packages = ["$module"]
'''

_README = '''\
# $distribution

A provider plugin for the hub: it keeps $title API tokens and checks them with
`GET {api_base_url}/v1/me`.

    pip install -e '.[test]'    # beside an installed hub
    pytest

`$module/__init__.py` declares the provider: its credentials and config (marshmallow schemas
whose metadata a UI renders), and its check as data (`HttpCheck`: the request, where the token
goes, which fields make the identity, which answers mean which error). Change the path, the
identity and the error rules to the real API, then the fake in `tests/` to answer as it does.
The hub's guide for plugin authors is docs/plugins.md in the hub's repository.
'''

_PROVIDER = '''\
"""$title: an API token checked with GET /v1/me."""
import marshmallow as ma

from hub import AuthMethod, BaseUrl, Bearer, ErrorRule, HttpCheck, Provider, hookimpl

DEFAULT_API_BASE_URL = "https://api.$name.example"


class Config(ma.Schema):
    api_base_url = ma.fields.URL(
        load_default=DEFAULT_API_BASE_URL, schemes={"http", "https"}, require_tld=False,
        metadata={"host": True, "display_name": "API base URL",
                  "description": "Where the $title API answers (for a self-hosted server or tests)."})


class TokenCredentials(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1), metadata={
        "secret": True, "display_name": "API token",
        "description": "A $title API token, from the account's settings page."})


PROVIDER = Provider(
    name="$name",
    display_name="$title",
    description="$title accounts, reached with an API token.",
    version="0.1.0",
    auth_methods=(AuthMethod(
        id="token", display_name="API token", credentials_schema=TokenCredentials, default=True,
        check=HttpCheck(
            path="/v1/me",
            base_url=BaseUrl(config="api_base_url", default=DEFAULT_API_BASE_URL),
            auth=Bearer("token"),
            identity={"id": "id", "name": "name"},
            errors=(ErrorRule("revoked", "$title says this token was revoked: make a new one.",
                              status=403),),
        )),),
    config_schema=Config,
)


@hookimpl
def hub_register_providers(register):
    register(PROVIDER)
'''

_TESTS = '''\
"""The $title check against a fake $title API, with the hub's test kit (`hub.testing`)."""
from hub.plugins import declaration_problems
from hub.testing import assert_no_echo, undocumented_fields, verify_credentials

from $module import PROVIDER

TOKEN = "$name-test-token-123"


def check(fake_provider, egress_client, token=TOKEN):
    return verify_credentials(PROVIDER, {"token": token}, http=egress_client,
                              config={"api_base_url": fake_provider.base_url})


def test_the_declaration_loads_and_every_field_is_documented():
    assert declaration_problems(PROVIDER) == []
    assert undocumented_fields(PROVIDER) == []


def test_a_good_token(fake_provider, egress_client):
    fake_provider.expect_request("/v1/me", headers={"Authorization": f"Bearer {TOKEN}"}) \\
        .respond_with_json({"id": "u-1", "name": "Ada"})
    result = check(fake_provider, egress_client)
    assert result.ok and result.identity == {"id": "u-1", "name": "Ada"}


def test_a_bad_token(fake_provider, egress_client):
    fake_provider.expect_request("/v1/me").respond_with_json({"error": "unauthorized"}, status=401)
    result = check(fake_provider, egress_client)
    assert not result.ok and result.error.code == "invalid_credentials"
    assert_no_echo(result, {"token": TOKEN})


def test_a_revoked_token(fake_provider, egress_client):
    fake_provider.expect_request("/v1/me").respond_with_json({}, status=403)
    assert check(fake_provider, egress_client).error.code == "revoked"


def test_rate_limited(fake_provider, egress_client):
    fake_provider.expect_request("/v1/me").respond_with_json(
        {}, status=429, headers={"Retry-After": "30"})
    result = check(fake_provider, egress_client)
    assert result.error.code == "rate_limited" and result.error.retry_after == 30


def test_stored_and_checked_through_the_hub(hub_app_with, fake_provider):
    fake_provider.expect_request("/v1/me").respond_with_json({"id": "u-1", "name": "Ada"})
    hub = hub_app_with(PROVIDER)
    made = hub.call("POST", f"/v1/projects/{hub.project}/integrations", json={
        "name": "main", "provider": "$name", "credentials": {"token": TOKEN},
        "config": {"api_base_url": fake_provider.base_url}})
    assert made.status_code == 201, made.json
    checked = hub.call("POST", f"/v1/projects/{hub.project}/integrations/{made.json['id']}:verifyConfig")
    assert checked.json["ok"] and checked.json["identity"]["name"] == "Ada"
    assert TOKEN not in made.get_data(as_text=True)
'''
