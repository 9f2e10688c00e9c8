"""Settings: defaults, then the instance folder's `config.py`, then `HUB_*` environment variables,
then whatever the caller of `create_app` passes (tests). Keys are stored without the prefix."""
from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "DATABASE_URL": None,  # None: SQLite at <instance>/hub.db
    "ROOT_KEY": None,  # base64 of 32 bytes; None: <instance>/root.key
    "VERIFY_TIMEOUT": 10,
    "VERIFY_ALLOW_HOSTS": "",
    "PLUGINS": None,  # comma-separated entry-point names to load; None: all
    "PLUGINS_ENTRYPOINTS": True,
    "EXTRA_PLUGINS": (),
    "SQLITE_BUSY_TIMEOUT": 10,  # seconds a writer waits for SQLite's write lock
}


class SettingsError(Exception):
    """A setting is malformed; the message names it and says what it must be."""


def instance_path(overrides: dict | None = None) -> Path:
    """Where the instance folder is: an explicit setting, else HUB_INSTANCE_PATH, else ./instance."""
    path = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("HUB_INSTANCE_PATH") or "instance"
    return Path(path).resolve()


def load_settings(app_config, overrides: dict | None = None) -> None:
    """Fill a Flask config in precedence order (later wins)."""
    app_config.update(DEFAULTS)
    app_config.from_pyfile("config.py", silent=True)
    app_config.from_prefixed_env("HUB")
    if overrides:
        app_config.update(overrides)
    app_config["INSTANCE_PATH"] = str(instance_path(overrides))
