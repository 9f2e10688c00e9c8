"""The pytest kit provider authors get (hub.testing): it contains a check's errors exactly as the
hub does, and it loads in any environment where the hub is installed, pytest-httpserver or not.
"""
from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap

import pytest
from marshmallow import Schema, fields

from hub.egress import EgressError
from hub.sdk import AuthMethod, Provider, VerificationResult, VerifyError
from hub.testing import MISSING_HTTPSERVER, verify_credentials
from hub.verification.run import VerificationNotSupported, run_check

SECRET = "sk-very-s3cret"


class Credentials(Schema):
    api_key = fields.String(required=True, metadata={"secret": True})


class Config(Schema):
    region = fields.String(load_default="eu")


def provider_checking_with(verify) -> Provider:
    return Provider(name="kit", display_name="Kit", description="", version="1.0",
                    auth_methods=(AuthMethod("api_key", "API key", Credentials),),
                    config_schema=Config, verify=verify)


def test_a_success_reads_as_the_hub_stores_it():
    expiry = datetime.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)

    def verify(auth_type, credentials, config, http):
        assert (auth_type, credentials, config) == ("api_key", {"api_key": SECRET}, {"region": "eu"})
        return VerificationResult.success(identity={"user": "ada"}, scopes=("read",),
                                          expires_at=expiry)

    result = verify_credentials(provider_checking_with(verify), {"api_key": SECRET}, http=None)

    assert result == VerificationResult(
        ok=True, identity={"user": "ada"}, scopes=["read"],
        expires_at=datetime.datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc))


def test_an_exception_in_the_check_is_a_provider_error_as_in_the_hub():
    def verify(auth_type, credentials, config, http):
        raise KeyError(f"no 'user' in the answer to {credentials['api_key']}")

    provider = provider_checking_with(verify)
    result = verify_credentials(provider, {"api_key": SECRET}, http=None)

    assert not result.ok and result.error.code == "provider_error"
    assert "'kit' provider plugin" in result.error.message
    assert SECRET not in repr(result)
    hub_says = run_check(provider, None, {"api_key": SECRET}, {"region": "eu"}, None)
    assert result.error == VerifyError(**hub_says["error"])


def test_an_egress_error_keeps_its_code():
    def verify(auth_type, credentials, config, http):
        raise EgressError("timeout", "api.kit.example did not answer within 1 s.")

    result = verify_credentials(provider_checking_with(verify), {"api_key": SECRET}, http=None)

    assert result.error == VerifyError("timeout", "api.kit.example did not answer within 1 s.")


def test_a_malformed_result_is_a_provider_error():
    result = verify_credentials(provider_checking_with(lambda *args: {"ok": True}),
                                {"api_key": SECRET}, http=None)
    assert result.error.code == "provider_error"


def test_a_failure_keeps_its_retry_after():
    def verify(auth_type, credentials, config, http):
        return VerificationResult.failure("rate_limited", "Kit is rate limiting the hub.",
                                          retry_after=30)

    result = verify_credentials(provider_checking_with(verify), {"api_key": SECRET}, http=None)

    assert result.error == VerifyError("rate_limited", "Kit is rate limiting the hub.", 30)


def test_input_is_loaded_through_the_schemas_and_unknown_methods_are_named():
    provider = provider_checking_with(lambda *args: VerificationResult.success())
    with pytest.raises(Exception, match="Missing data for required field"):
        verify_credentials(provider, {}, http=None)
    with pytest.raises(ValueError, match="has no auth method 'oauth'; use one of: api_key"):
        verify_credentials(provider, {"api_key": SECRET}, http=None, auth_type="oauth")
    with pytest.raises(VerificationNotSupported):
        verify_credentials(provider_checking_with(None), {"api_key": SECRET}, http=None)


# Without pytest-httpserver ----------------------------------------------------------------------

SUITE = '''
    def test_the_kit_works_without_a_fake_server(egress_client):
        from hub.testing import undocumented_fields, verify_credentials
        assert egress_client.timeout == 1.0

    def test_a_fake_server_says_what_to_install(fake_provider):
        pass
'''


# A package of that name ahead of site-packages on sys.path, whose import fails as a missing one
# does. (A None in sys.modules, or a meta-path finder, would be bypassed or tripped over by pytest's
# assertion-rewriting importer, which handles pytest plugins' modules itself.)
MISSING_MODULE = 'raise ModuleNotFoundError("No module named \'pytest_httpserver\'", name="pytest_httpserver")\n'


def test_the_pytest_plugin_loads_without_pytest_httpserver(tmp_path):
    """`pip install hub` then `pytest`, in a project that has no pytest-httpserver."""
    hidden = tmp_path / "hidden"
    (hidden / "pytest_httpserver").mkdir(parents=True)
    (hidden / "pytest_httpserver" / "__init__.py").write_text(MISSING_MODULE)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "test_suite.py").write_text(textwrap.dedent(SUITE))
    environment = {**os.environ, "PYTHONPATH": str(hidden)}
    environment.pop("PYTEST_ADDOPTS", None)
    environment.pop("PYTEST_PLUGINS", None)

    # Uninstalled, pytest-httpserver would have no pytest11 entry point either: leave its own out.
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "no:pytest_httpserver", "test_suite.py"],
        cwd=project, env=environment, capture_output=True, text=True, timeout=60)

    output = completed.stdout + completed.stderr
    assert "Error while loading plugin" not in output, output
    assert "1 passed, 1 error" in output, output
    assert "pip install pytest-httpserver" in output and "pip install 'hub[test]'" in output, output
    assert MISSING_HTTPSERVER.split(". ")[0] in " ".join(output.split()), output
