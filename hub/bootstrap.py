"""Setting up a hub: schema, root key, keyring, and an org with a project and an owner key.

Safe to run again: each step reuses what exists. It never makes a new root key over a database
that already holds a keyring.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from hub import crypto, settings, tenancy
from hub.crypto import access as keyring_access
from hub.errors import Conflict, KeyringUnavailable
from hub.storage import migrate
from hub.storage.database import sqlite_path
from hub.storage.models import ApiKey, KeyringEntry, Org, Project


@dataclasses.dataclass
class OrgSetup:
    org: Org
    project: Project | None
    key: ApiKey | None
    secret: str | None  # None when the org already had keys: secrets are shown only once


def ensure_keyring(config) -> "crypto.KeyRing":
    """The keyring, creating the root key file and the keyring on a brand-new hub only."""
    try:
        root = keyring_access.root_key(config)
    except crypto.RootKeyError as exc:  # malformed HUB_ROOT_KEY or key file
        raise KeyringUnavailable(str(exc)) from None
    if root is None:
        if KeyringEntry.select().exists():
            raise KeyringUnavailable(
                "This database already holds a keyring, but no root key was found (HUB_ROOT_KEY "
                f"unset, {keyring_access.root_key_path(config)} missing). Restore the root key the "
                "database was created with; a new key is never made over existing data.")
        root = crypto.create_root_key_file(keyring_access.root_key_path(config))
    try:
        keyring = crypto.KeyRing.load(root)
    except crypto.KeyRingMissing:
        return crypto.KeyRing.initialize(root)
    except crypto.CryptoError as exc:
        raise KeyringUnavailable(str(exc)) from None
    keyring.ensure_signing_key()  # a keyring made before the audit log gets its signing key
    return keyring


def ensure_org(keyring, org_name: str, project_handle: str | None, *, must_be_new: bool = False) -> OrgSetup:
    org = Org.get_or_none(Org.name == org_name)
    if org is not None and must_be_new:
        raise Conflict(f"An org named '{org_name}' already exists.")
    if org is None:
        try:
            org = tenancy.create_org(org_name)
        except Conflict:  # made by a concurrent run a moment ago
            org = Org.get(Org.name == org_name)
    operator = tenancy.operator(org, signer=keyring)
    project = None
    if project_handle:
        project = Project.get_or_none(Project.handle == project_handle)
        if project is not None and project.org_id != org.id:
            raise Conflict(f"The project handle '{project_handle}' belongs to another org; choose "
                           "another with --project.")
        if project is None:
            project = tenancy.create_project(operator, project_handle)
    if ApiKey.select().where(ApiKey.org == org.id).exists():
        owner = (ApiKey.select().where((ApiKey.org == org.id) & (ApiKey.role == "owner")
                                       & ApiKey.revoked_at.is_null()).order_by(ApiKey.id).first())
        return OrgSetup(org, project, owner, None)
    key, secret = tenancy.create_api_key(keyring, operator, name="owner", role="owner")
    return OrgSetup(org, project, key, secret)


def initialize(config, db, org_name: str = "default", project_handle: str | None = "default") -> OrgSetup:
    """Every step under the migration lock: several `hub init` started together run one after
    the other (the later ones find everything made), never racing the DDL, the root key file or
    the first keyring."""
    instance = settings.instance_path(config)
    if keeps_files_in(instance, config, db) or instance.exists():
        private_instance_folder(instance)
    with db.connection_context(), migrate.exclusive(db):
        migrate.upgrade(db, keyring=lambda: keyring_access.open_keyring(config))  # for 0007's rows
        keyring = ensure_keyring(config)
        return ensure_org(keyring, org_name, project_handle)


def keeps_files_in(instance: Path, config, db) -> bool:
    """Whether the hub puts a file in the instance folder: the root key file (no HUB_ROOT_KEY) or
    a SQLite database inside it. A hub on PostgreSQL with HUB_ROOT_KEY needs no folder at all
    (a container's working directory may be read-only)."""
    database_file = sqlite_path(db)
    return config.get("ROOT_KEY") is None or (
        database_file is not None and Path(instance) in database_file.resolve().parents)


def private_instance_folder(path: Path) -> None:
    """The instance folder holds the root key and the SQLite database: mode 0700 (made so, or
    tightened when it is ours and open to others)."""
    path = Path(path)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise KeyringUnavailable(f"Cannot make the instance folder {path} private "
                                 f"({exc.strerror}).") from None
