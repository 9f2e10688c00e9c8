"""Settings: defaults, then the instance folder's `config.py`, then `HUB_*` environment variables,
then whatever the caller of `create_app` passes (tests). Keys are stored without the prefix and
validated once, at start-up, so a typo stops the hub with a message instead of failing later.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from hub.egress import AllowList
from hub.errors import SettingsError

DEFAULTS = {
    "DATABASE_URL": None,  # None: SQLite at <instance>/hub.db
    "ROOT_KEY": None,  # base64 of 32 bytes; None: <instance>/root.key
    "VERIFY_TIMEOUT": 10,  # seconds, 1 to 60 (VERIFY_TIMEOUT_RANGE)
    "VERIFY_ALLOW_HOSTS": "",
    "VERIFY_MAX_PER_ORG": 4,  # checks that API requests start, running at once for one org
    "VERIFY_POOL_SIZE": 16,  # threads of a process's check pool (every org's checks together)
    "PLUGINS": None,  # comma-separated distributions or entry-point names to load; None: all
    "DISABLED_PLUGINS": None,  # comma-separated distributions or entry-point names never to load
    "PLUGINS_ENTRYPOINTS": True,
    "EXTRA_PLUGINS": (),
    "SQLITE_BUSY_TIMEOUT": 10,  # seconds a writer waits for SQLite's write lock
    "METRICS": False,  # GET /metrics (Prometheus), without a key; off: it is a 404
    "TRUSTED_PROXIES": "",  # whose X-Forwarded-For is believed: a count, or CIDRs; empty: none
    "PUBLIC_URL": "http://127.0.0.1:8080",  # where browsers reach the hub (OAuth redirects)
}

__all__ = ["DEFAULTS", "SettingsError", "instance_path", "allow_hosts_text", "load_settings", "problems",
           "public_url", "trusted_proxies", "verify_timeout", "verify_limit"]

# What a check's settings may be. A timeout is how long a request waits for a check (and how long
# a slot of the org's checks stays taken), so it is capped; the counts bound threads and leases.
VERIFY_TIMEOUT_RANGE = (1, 60)
VERIFY_LIMIT_RANGES = {"VERIFY_MAX_PER_ORG": (1, 64), "VERIFY_POOL_SIZE": (1, 256)}


def instance_path(overrides: dict | None = None) -> Path:
    """Where the instance folder is: an explicit setting, else HUB_INSTANCE_PATH, else ./instance."""
    path = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("HUB_INSTANCE_PATH") or "instance"
    return Path(path).resolve()


def load_settings(app_config, overrides: dict | None = None) -> None:
    """Fill a Flask config in precedence order (later wins), then validate it.

    :raises SettingsError: a setting is malformed; the message names it.
    """
    app_config.update(DEFAULTS)
    app_config.from_pyfile("config.py", silent=True)
    app_config.from_prefixed_env("HUB")
    if overrides:
        app_config.update(overrides)
    app_config["INSTANCE_PATH"] = str(instance_path(overrides))
    problem = problems(app_config)
    if problem:
        raise SettingsError(problem)


def problems(settings: Mapping[str, Any]) -> str | None:
    """What is wrong with the settings that can be checked without a database, or None."""
    try:
        verify_timeout(settings)
        for name in VERIFY_LIMIT_RANGES:
            verify_limit(settings, name)
    except ValueError as exc:
        return str(exc)
    try:
        AllowList.parse(allow_hosts_text(settings))
    except ValueError as exc:
        return str(exc)  # names HUB_VERIFY_ALLOW_HOSTS and the entry
    try:
        metrics_on(settings)
    except ValueError as exc:
        return str(exc)
    try:
        trusted_proxies(settings)
    except ValueError as exc:
        return str(exc)
    try:
        public_url(settings)
    except ValueError as exc:
        return str(exc)
    return None


def verify_timeout(settings: Mapping[str, Any]) -> float:
    """HUB_VERIFY_TIMEOUT in seconds, within VERIFY_TIMEOUT_RANGE.

    :raises ValueError: not a number, or out of range; the message names the setting.
    """
    low, high = VERIFY_TIMEOUT_RANGE
    value = settings.get("VERIFY_TIMEOUT", DEFAULTS["VERIFY_TIMEOUT"])
    try:
        if isinstance(value, bool):
            raise TypeError
        timeout = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"HUB_VERIFY_TIMEOUT must be a number of seconds ({low} to {high}), "
                         f"not {value!r}.") from None
    if not low <= timeout <= high:
        raise ValueError(f"HUB_VERIFY_TIMEOUT must be {low} to {high} seconds, not {timeout:g}.")
    return timeout


def verify_limit(settings: Mapping[str, Any], name: str) -> int:
    """HUB_VERIFY_MAX_PER_ORG or HUB_VERIFY_POOL_SIZE: a whole number within its range.

    :raises ValueError: not a whole number, or out of range; the message names the setting.
    """
    low, high = VERIFY_LIMIT_RANGES[name]
    value = settings.get(name, DEFAULTS[name])
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"HUB_{name} must be a whole number from {low} to {high}, not {value!r}.")
    return value


def public_url(settings: Mapping[str, Any]) -> str:
    """HUB_PUBLIC_URL without a trailing slash: where people's browsers reach the hub (the OAuth
    callback is HUB_PUBLIC_URL + /v1/oauth/callback).

    :raises ValueError: not an http(s) URL without query or fragment; the message names it.
    """
    value = str(settings.get("PUBLIC_URL") or DEFAULTS["PUBLIC_URL"]).strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment \
            or "@" in parts.netloc:
        raise ValueError(f"HUB_PUBLIC_URL must be an http(s) URL such as https://hub.example.com "
                         f"(no query, no user name), not {value!r}.")
    return value.rstrip("/")


_TRUSTED_PROXIES_USAGE = ("HUB_TRUSTED_PROXIES must be a count of proxies in front of the hub (such "
                          "as 1) or comma-separated addresses or CIDRs of trusted proxies (such as "
                          "10.0.0.0/8,192.168.1.5); empty trusts none")


def trusted_proxies(settings: Mapping[str, Any]) -> int | tuple:
    """HUB_TRUSTED_PROXIES: a count of proxies (int; 0 trusts none) or the trusted networks (a
    tuple of `ipaddress` networks). `HUB_TRUSTED_PROXIES=1` arrives as the int 1 (JSON).

    :raises ValueError: a malformed value; the message names HUB_TRUSTED_PROXIES.
    """
    value = settings.get("TRUSTED_PROXIES")
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool):  # True is no count: refused below
        count = value
    elif isinstance(value, str) and value.strip().isdigit():
        count = int(value.strip())
    else:
        entries = value if isinstance(value, (list, tuple)) else str(value).split(",")
        networks = []
        for entry in entries:
            text = str(entry).strip()
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ValueError(f"{_TRUSTED_PROXIES_USAGE}: {text!r} is neither.") from None
        return tuple(networks)
    if not 0 <= count <= 32:
        raise ValueError(f"{_TRUSTED_PROXIES_USAGE}; a count is 0 to 32, not {count}.")
    return count


_FLAGS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False, "": False}


def metrics_on(settings: Mapping[str, Any]) -> bool:
    """HUB_METRICS: whether GET /metrics answers. `HUB_METRICS=true` arrives as True (JSON); the
    words 1/0, true/false, yes/no, on/off are accepted too.

    :raises ValueError: any other value; the message names HUB_METRICS.
    """
    value = settings.get("METRICS", False)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise ValueError(f"HUB_METRICS must be true or false (1/0, yes/no, on/off), not {value!r}.")


def allow_hosts_text(settings: Mapping[str, Any]) -> str:
    """HUB_VERIFY_ALLOW_HOSTS as text (`HUB_VERIFY_ALLOW_HOSTS='["10.0.0.0/8"]'` arrives parsed)."""
    allow = settings.get("VERIFY_ALLOW_HOSTS") or ""
    if isinstance(allow, (list, tuple)):
        allow = ",".join(map(str, allow))
    return str(allow)
