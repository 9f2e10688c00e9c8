"""Checking a provider declaration before it is registered; each problem a sentence naming what to fix."""
from __future__ import annotations

import inspect
import re
from typing import Any

import marshmallow

from hub.plugins.describe import describe_provider
from hub.sdk import AuthMethod, Provider
from hub.sdk.checks import http_check_problems
from hub.sdk.oauth import oauth_problems

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")  # provider names and auth method ids


def declaration_problems(provider: Any) -> list[str]:
    """What is wrong with a provider declaration, as sentences; empty when it can be registered.

    Provider authors can assert on it in their own tests.
    """
    if not isinstance(provider, Provider):
        return [f"register() takes a hub.sdk.Provider, not {_describe(provider)}"]
    problems = []
    if not _is_name(provider.name):
        problems.append(f"the name {provider.name!r} must match {NAME_PATTERN.pattern} "
                        "(lower-case letters, digits, '_' and '-', starting with a letter)")
    for attribute in ("display_name", "description", "version"):
        if not isinstance(getattr(provider, attribute), str):
            problems.append(f"{attribute} must be a string")
    methods = provider.auth_methods
    if not isinstance(methods, (tuple, list)) or not methods:
        problems.append("it declares no auth method: give auth_methods at least one "
                        "hub.sdk.AuthMethod")
        methods = ()
    problems += _auth_method_problems(methods)
    if not _is_schema_class(provider.config_schema):
        problems.append("config_schema must be a marshmallow Schema class, "
                        f"not {_describe(provider.config_schema)}")
    # With declared checks, provider.verify was made from them; the hand-written one given to
    # the Provider (for the methods without a check) is what must be a proper verify.
    declared = hasattr(provider.verify, "hub_checks")
    verify = provider.verify.hub_fallback if declared else provider.verify
    if verify is not None and not callable(verify):
        problems.append("verify must be a function verify(auth_type, credentials, config, http) "
                        f"or None, not {_describe(verify)}")
    elif verify is not None:
        problems += _verify_signature_problems(verify)
    if declared:
        problems += _check_problems(provider, methods, has_fallback=verify is not None)
    if not problems:
        # Derive now what GET /v1/providers will show, so that a field the derivation cannot handle
        # fails at load time, with the plugin's name, rather than on every request.
        try:
            describe_provider(provider)
        except Exception as exc:
            problems.append(f"its schemas cannot be described as JSON Schema: {_exception(exc)}")
    return problems


def _verify_signature_problems(verify: Any) -> list[str]:
    # The hub calls verify(auth_type, credentials, config, http) positionally. A check that cannot
    # take that call would fail only when someone checks credentials, as a provider_error that
    # hides the cause; refusing it at load names the plugin and the fix at start-up instead.
    try:
        signature = inspect.signature(verify)
    except (TypeError, ValueError):  # some built-ins and C callables have no signature: trust them
        return []
    try:
        signature.bind("auth_type", {}, {}, None)
    except TypeError as exc:
        return [(f"verify{signature} cannot be called as verify(auth_type, credentials, config, "
                 f"http) ({exc}); make it take these four positional arguments")]
    return []


def _check_problems(provider: Provider, methods, *, has_fallback: bool) -> list[str]:
    problems = []
    config_fields = _field_names(provider.config_schema)
    for method in methods:
        if not isinstance(method, AuthMethod):
            continue
        if method.check is None:
            if not has_fallback:
                problems.append(f"auth method {method.id!r} has no check while others have one: "
                                "give it check=HttpCheck(...), or give the provider a verify "
                                "function for it")
            continue
        credentials_fields = _field_names(method.credentials_schema)
        problems += [f"auth method {method.id!r}: its check: {problem}" for problem in
                     http_check_problems(method.check, credentials_fields, config_fields)]
    return problems


def _field_names(schema: Any) -> list[str]:
    # The names the loaded credentials and config are keyed by (attribute names, not data_key).
    if not _is_schema_class(schema):
        return []
    try:
        return list(schema().fields)
    except Exception:  # reported by the schema checks
        return []


def _auth_method_problems(methods) -> list[str]:
    problems = []
    ids = []
    for method in methods:
        if not isinstance(method, AuthMethod):
            problems.append(f"auth_methods holds {_describe(method)}, not a hub.sdk.AuthMethod")
            continue
        if not _is_name(method.id):
            problems.append(f"the auth method id {method.id!r} must match {NAME_PATTERN.pattern}")
        if method.id in ids:
            problems.append(f"the auth method id {method.id!r} is declared more than once")
        ids.append(method.id)
        if not _is_schema_class(method.credentials_schema):
            problems.append(f"auth method {method.id!r}: credentials_schema must be a marshmallow "
                            f"Schema class, not {_describe(method.credentials_schema)}")
        if method.oauth is not None:
            problems += [f"auth method {method.id!r}: {problem}"
                         for problem in oauth_problems(method.oauth)]
    defaults = [m.id for m in methods if isinstance(m, AuthMethod) and m.default]
    if len(defaults) > 1:
        problems.append(f"auth methods {', '.join(map(repr, defaults))} are all marked default=True;"
                        " mark at most one (without any, the first is the default)")
    return problems


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and NAME_PATTERN.fullmatch(value) is not None


def _is_schema_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, marshmallow.Schema)


def _describe(value: Any) -> str:
    if isinstance(value, marshmallow.Schema):
        return f"an instance of {type(value).__name__} (pass the class itself)"
    return f"a {type(value).__name__}"


def _exception(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
