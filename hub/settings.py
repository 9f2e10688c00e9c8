"""Settings: defaults, then the instance folder's `config.py`, then `HUB_*` environment variables,
then whatever the caller of `create_app` passes (tests). Keys are stored without the prefix and
validated once, at start-up, so a typo stops the hub with a message instead of failing later.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from hub.egress import AllowList
from hub.errors import SettingsError

DEFAULTS = {
    "DATABASE_URL": None,  # None: SQLite at <instance>/hub.db
    "ROOT_KEY": None,  # base64 of 32 bytes; None: <instance>/root.key
    "VERIFY_TIMEOUT": 10,
    "VERIFY_ALLOW_HOSTS": "",
    "PLUGINS": None,  # comma-separated distributions or entry-point names to load; None: all
    "DISABLED_PLUGINS": None,  # comma-separated distributions or entry-point names never to load
    "PLUGINS_ENTRYPOINTS": True,
    "EXTRA_PLUGINS": (),
    "SQLITE_BUSY_TIMEOUT": 10,  # seconds a writer waits for SQLite's write lock
}

__all__ = ["DEFAULTS", "SettingsError", "instance_path", "allow_hosts_text", "load_settings", "problems"]


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
        timeout = float(settings.get("VERIFY_TIMEOUT", 10))
    except (TypeError, ValueError):
        return "HUB_VERIFY_TIMEOUT must be a number of seconds."
    if not 0 < timeout <= 300:
        return "HUB_VERIFY_TIMEOUT must be more than 0 and at most 300 seconds."
    try:
        AllowList.parse(allow_hosts_text(settings))
    except ValueError as exc:
        return str(exc)  # names HUB_VERIFY_ALLOW_HOSTS and the entry
    return None


def allow_hosts_text(settings: Mapping[str, Any]) -> str:
    """HUB_VERIFY_ALLOW_HOSTS as text (`HUB_VERIFY_ALLOW_HOSTS='["10.0.0.0/8"]'` arrives parsed)."""
    allow = settings.get("VERIFY_ALLOW_HOSTS") or ""
    if isinstance(allow, (list, tuple)):
        allow = ",".join(map(str, allow))
    return str(allow)
