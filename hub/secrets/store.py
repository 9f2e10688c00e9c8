"""Versioned secrets: named slots in a project, each holding immutable versions of string values.

No Flask here: the API, the CLI and tests call these functions alike.

- A **secret** is a name in a project. A **version** is one frozen set of string values, sealed
  with the keyring bound to its row, number, secret, project and org (`secret_version_aad`; on
  read built from the parent rows it was reached through, `parent_aad`), with the SHA-256
  of the canonical JSON of its values kept beside it so a client can detect a change unseen.
- Writing (`create_secret`, `update_secret`) adds a version that is ENABLED; the one that was
  ENABLED becomes DISABLED. `enable_version` rolls back, `disable_version` leaves none enabled,
  `destroy_version` erases the ciphertext for good (metadata and sha256 stay). At most one version of
  a secret is ENABLED: a partial unique index says so in the database itself.
- Every change runs in one transaction that first locks the secret's row (SELECT ... FOR UPDATE on
  PostgreSQL; on SQLite every transaction of this app begins IMMEDIATE, which holds the write
  lock), so concurrent writers queue up and produce consecutive version numbers.
- Plaintext leaves this module only through `resolve` (the one door for values, audited: no
  event, no result). Every change writes its audit event in its transaction. Nothing here logs values
  or puts them in an exception message.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import peewee

from hub import crypto
from hub.audit import log as audit
from hub.crypto.canonical import canonical_json
from hub.errors import Conflict, Corrupted, InvalidInput, NotFound, invalid_field
from hub.storage.conflicts import atomic_or
from hub.storage.models import (
    Project,
    Secret,
    SecretVersion,
    database,
    secret_version_aad,
    utcnow,
)
from hub.storage.pagination import DEFAULT_LIMIT, Page, paginate
from hub.storage.storable_text import unstorable
from hub.tenancy import Principal, find_project
from hub.tenancy import permissions as perms

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}\Z")
KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,200}\Z")
MAX_DESCRIPTION = 500
MAX_VALUES_BYTES = 64 * 1024  # of the canonical JSON of one version's values
MAX_TEMPLATE_CHARS = 256 * 1024
MAX_RESULT_CHARS = 1024 * 1024
MAX_VERSION = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL
MAX_LISTED_PROBLEMS = 20  # a resolve error names this many bad references, then counts the rest

ENABLED = "ENABLED"
DISABLED = "DISABLED"
DESTROYED = "DESTROYED"
STATES = (ENABLED, DISABLED, DESTROYED)

_NAME_RULE = "Must be 1-100 characters: letters, digits, '_' and '-'."
_KEY_RULE = "Keys must be 1-200 characters: letters, digits, '_', '-' and '.'."

# `$${` is a literal `${`; `${secret:NAME.KEY}` a reference; any other `${...}` is left as it is.
_TEMPLATE_TOKEN = re.compile(r"\$\$\{|\$\{secret:([^}]*)(\}?)")
_REFERENCE = re.compile(r"([A-Za-z0-9_-]{1,100})\.([A-Za-z0-9_.-]{1,200})\Z")


@dataclasses.dataclass(frozen=True)
class Written:
    """What a write made: the secret (metadata) and the version just written."""

    secret: Secret
    version: SecretVersion


# -- values --------------------------------------------------------------------------------------

def values_sha256(values: dict[str, str]) -> str:
    return hashlib.sha256(canonical_json(values)).hexdigest()


def printable(text: str) -> str:
    """`text` safe to put in a message: NUL and lone surrogates written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _shown_key(key) -> str:
    text = printable(str(key))
    return text if len(text) <= 80 else text[:77] + "..."


def check_values(values) -> dict[str, str]:
    """A non-empty object of string keys to string values, or InvalidInput naming each bad key."""
    if not isinstance(values, dict):
        raise invalid_field("values", "Must be an object of string keys to string values.")
    if not values:
        raise invalid_field("values", "Must hold at least one key.")
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        field = f"values.{_shown_key(key)}"
        if not isinstance(key, str) or not KEY_RE.match(key):
            errors[field] = [_KEY_RULE]
        elif not isinstance(value, str):
            errors[field] = ["Must be a string."]
        elif problem := unstorable(value):
            errors[field] = [problem]  # lone surrogates cannot be UTF-8; NUL as the API refuses it
    if errors:
        listed = " ".join(f"{field}: {messages[0]}" for field, messages in errors.items())
        raise InvalidInput(f"Invalid values. {listed}", errors=errors)
    if len(canonical_json(values)) > MAX_VALUES_BYTES:
        raise invalid_field("values", f"Too large: at most {MAX_VALUES_BYTES} bytes of JSON per version.")
    return values


def _check_name(name) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise invalid_field("name", _NAME_RULE)
    return name


def _check_description(description) -> str | None:
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise invalid_field("description", f"Must be a string of at most {MAX_DESCRIPTION} characters.")
    if description is not None and (problem := unstorable(description)):
        raise invalid_field("description", problem)
    return description


def version_key(text: str) -> int:
    """A versions cursor's key: a version number 1..MAX_VERSION written in ASCII digits, else
    ValueError (which `paginate` answers with a 400 naming `cursor`)."""
    if not re.fullmatch(r"[1-9][0-9]{0,9}", text, flags=re.ASCII) or int(text) > MAX_VERSION:
        raise ValueError("not a version number")
    return int(text)


def _check_cas(cas) -> int | None:
    if cas is not None and (isinstance(cas, bool) or not isinstance(cas, int) or cas < 1):
        raise invalid_field("cas", "Must be a version number (an integer >= 1).")
    return cas


def _seal(keyring, row: SecretVersion, values: dict[str, str]) -> None:
    sealed = keyring.seal(canonical_json(values), row.sealed_aad("values"))
    row.values_key_id, row.values_ciphertext = sealed.key_id, sealed.ciphertext


def parent_aad(row: SecretVersion, secret: Secret, project: Project) -> bytes:
    """The associated data a version must open with, built from the parent rows it was read
    through (never from the row's own copies): a version row moved to another secret, a secret
    moved to another project or a project to another org no longer opens."""
    return secret_version_aad(row.id, org_id=project.org_id, project_id=secret.project_id,
                              secret_id=secret.id, version=row.version)


def open_values(keyring, row: SecretVersion, secret: Secret | None = None,
                project: Project | None = None) -> dict[str, str]:
    """The decrypted values of a version, checked against the secret and project it was read
    through (looked up by the row's secret when not given). Only `resolve` (the one door for
    values) returns them."""
    if secret is None:
        secret = Secret.get_or_none(Secret.id == row.secret_id)
    if project is None and secret is not None:
        project = Project.get_or_none(Project.id == secret.project_id)
    # With no parent to bind to, nothing opens (the empty associated data matches no seal).
    aad = parent_aad(row, secret, project) if secret is not None and project is not None else b""
    try:
        plaintext = keyring.open_sealed(row.values_key_id, row.values_ciphertext, aad)
    except crypto.DecryptionFailed:
        raise Corrupted(f"The stored values of version {row.version} of a secret (row {row.id}) do not "
                        f"decrypt (key {row.values_key_id}): the row was altered or its data key is "
                        "gone. Write a new version with PUT.") from None
    return json.loads(plaintext.decode("utf-8"))


# -- finding -------------------------------------------------------------------------------------

def _missing(name: str, project: Project) -> NotFound:
    return NotFound(f"No secret '{printable(str(name))}' in project '{project.handle}'.")


def _find(project: Project, name: str, *, for_update: bool = False) -> Secret:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise _missing(name, project)
    query = Secret.select().where((Secret.project == project.id) & (Secret.name == name))
    if for_update and not isinstance(database.obj, peewee.SqliteDatabase):
        query = query.for_update()  # SQLite: the transaction's BEGIN IMMEDIATE holds the write lock
    secret = query.first()
    if secret is None:
        raise _missing(name, project)
    return secret


def _find_version(secret: Secret, number: int) -> SecretVersion:
    in_range = isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= MAX_VERSION
    row = (SecretVersion.select()
           .where((SecretVersion.secret == secret.id) & (SecretVersion.version == number)).first()
           if in_range else None)  # no driver is asked about a number no column can hold
    if row is None:
        raise NotFound(f"Secret '{secret.name}' has no version {number} (the newest is "
                       f"{secret.current_version}).")
    return row


def _reading(principal: Principal, project_ref: str) -> Project:
    principal.require(perms.SECRETS_READ)
    return find_project(principal, project_ref)


def get_secret(principal: Principal, project_ref: str, name: str) -> Secret:
    """A secret's metadata (secrets:read)."""
    return _find(_reading(principal, project_ref), name)


def list_secrets(principal: Principal, project_ref: str):
    """The project's secrets, a query to page by `Secret.id` (secrets:read)."""
    project = _reading(principal, project_ref)
    return Secret.select().where(Secret.project == project.id)


def list_versions(principal: Principal, project_ref: str, name: str, *, limit: int = DEFAULT_LIMIT,
                  cursor: str | None = None) -> Page:
    """One page of a secret's versions, by version number (secrets:read)."""
    secret = _find(_reading(principal, project_ref), name)
    query = SecretVersion.select().where(SecretVersion.secret == secret.id)
    return paginate(query, SecretVersion.version, limit=limit, cursor=cursor, key_type=version_key)


def get_version(principal: Principal, project_ref: str, name: str, number: int) -> SecretVersion:
    """One version's metadata (secrets:read). Never its values."""
    return _find_version(_find(_reading(principal, project_ref), name), number)


# -- writing -------------------------------------------------------------------------------------

def _new_version(keyring, project: Project, secret: Secret, number: int, values: dict[str, str],
                 now) -> SecretVersion:
    row = SecretVersion(secret=secret.id, project_id=secret.project_id, org_id=project.org_id,
                        version=number, state=ENABLED,
                        sha256=values_sha256(values), created_at=now, state_changed_at=now)
    _seal(keyring, row, values)
    row.save(force_insert=True)
    return row


def _disable_enabled(secret: Secret, now) -> None:
    (SecretVersion.update(state=DISABLED, state_changed_at=now)
     .where((SecretVersion.secret == secret.id) & (SecretVersion.state == ENABLED)).execute())


def _save_secret(secret: Secret, now, **changes) -> None:
    changes["updated_at"] = now
    for field, value in changes.items():
        setattr(secret, field, value)
    Secret.update(**changes).where(Secret.id == secret.id).execute()


def _racing() -> Conflict:
    return Conflict("Another write to this secret happened at the same moment; read it again and retry.")


def create_secret(keyring, principal: Principal, project_ref: str, *, name: str, values: dict,
                  description: str | None = None) -> Written:
    """A new secret with version 1 ENABLED (secrets:write). Name taken in the project: Conflict."""
    principal.require(perms.SECRETS_WRITE)
    project = find_project(principal, project_ref)
    _check_name(name)
    _check_description(description)
    check_values(values)
    now = utcnow()
    taken = Conflict(f"A secret named '{name}' already exists in project '{project.handle}'. "
                     "Write a new version of it with PUT, or choose another name.",
                     errors={"name": ["Already taken."]})
    with atomic_or(taken):
        secret = Secret.create(project=project.id, name=name, description=description,
                               current_version=1, enabled_version=1, created_at=now, updated_at=now)
        version = _new_version(keyring, project, secret, 1, values, now)
        audit.record(principal, "secret.create", project=project, target_type="secret",
                     target_id=secret.id)
    return Written(secret, version)


_KEEP = object()


def update_secret(keyring, principal: Principal, project_ref: str, name: str, *, values: dict,
                  description=_KEEP, cas: int | None = None) -> Written:
    """A new ENABLED version; the previously ENABLED one becomes DISABLED (secrets:write).

    With `cas`, the write happens only if the newest version is `cas`, else Conflict naming the
    newest (`current_version`). A `description` given (even None) replaces the old one.
    """
    principal.require(perms.SECRETS_WRITE)
    project = find_project(principal, project_ref)
    check_values(values)
    _check_cas(cas)
    changes = {}
    if description is not _KEEP:
        changes["description"] = _check_description(description)
    # The constraints catch what the row lock should have prevented.
    with atomic_or(_racing):
        secret = _find(project, name, for_update=True)
        if cas is not None and cas != secret.current_version:
            raise Conflict(
                f"Check-and-set failed: the newest version of secret '{name}' is "
                f"{secret.current_version}, not {cas}. Read it again and retry with "
                f"cas: {secret.current_version}.",
                errors={"cas": [f"The newest version is {secret.current_version}."]},
                current_version=secret.current_version)
        now = utcnow()
        number = secret.current_version + 1
        _disable_enabled(secret, now)
        version = _new_version(keyring, project, secret, number, values, now)
        _save_secret(secret, now, current_version=number, enabled_version=number, **changes)
        audit.record(principal, "secret.update", project=project, target_type="secret",
                     target_id=secret.id)
    return Written(secret, version)


def _version_change(principal: Principal, project_ref: str, name: str, number: int, change) -> SecretVersion:
    """Run `change(secret, row, now)` on one version, in a transaction holding the secret's lock."""
    principal.require(perms.SECRETS_WRITE)
    project = find_project(principal, project_ref)
    purge = False
    with atomic_or(_racing):
        secret = _find(project, name, for_update=True)
        row = _find_version(secret, number)
        action, purge = change(secret, row, utcnow())
        if action:
            audit.record(principal, action, project=project,
                         target_type="secret_version", target_id=row.id)
    if purge:
        _purge_free_space()
    return row


def _refuse_destroyed(secret: Secret, row: SecretVersion, what: str) -> None:
    if row.state == DESTROYED:
        raise Conflict(f"Version {row.version} of secret '{secret.name}' is destroyed: its values are "
                       f"gone, so it cannot be {what}. Enable another version or write a new one.",
                       state=DESTROYED)


def enable_version(principal: Principal, project_ref: str, name: str, number: int) -> SecretVersion:
    """Make this version the one ENABLED (a rollback); the enabled one becomes DISABLED.
    Enabling the enabled version changes nothing; a destroyed one cannot be enabled (Conflict)."""

    def change(secret, row, now):
        _refuse_destroyed(secret, row, "enabled")
        if row.state == ENABLED:
            return None, False
        _disable_enabled(secret, now)
        _set_state(row, ENABLED, now)
        _save_secret(secret, now, enabled_version=row.version)
        return "secret.version.enable", False

    return _version_change(principal, project_ref, name, number, change)


def disable_version(principal: Principal, project_ref: str, name: str, number: int) -> SecretVersion:
    """Disable this version; if it was the enabled one, the secret has none enabled until one is.
    Disabling a disabled version changes nothing; a destroyed one: Conflict."""

    def change(secret, row, now):
        _refuse_destroyed(secret, row, "disabled")
        if row.state == DISABLED:
            return None, False
        _set_state(row, DISABLED, now)
        _save_secret(secret, now, enabled_version=None)
        return "secret.version.disable", False

    return _version_change(principal, project_ref, name, number, change)


def destroy_version(principal: Principal, project_ref: str, name: str, number: int) -> SecretVersion:
    """Erase this version's ciphertext for good; its metadata and sha256 stay and it reads DESTROYED.
    Destroying the enabled version leaves none enabled. Destroying twice: Conflict."""

    def change(secret, row, now):
        if row.state == DESTROYED:
            raise Conflict(f"Version {row.version} of secret '{secret.name}' is already destroyed.",
                           state=DESTROYED)
        was_enabled = row.state == ENABLED
        _secure_delete_on()
        _set_state(row, DESTROYED, now, values_key_id=None, values_ciphertext=None)
        if was_enabled:
            _save_secret(secret, now, enabled_version=None)
        else:
            _save_secret(secret, now)
        return "secret.version.destroy", True

    return _version_change(principal, project_ref, name, number, change)


def _set_state(row: SecretVersion, state: str, now, **more) -> None:
    changes = {"state": state, "state_changed_at": now, **more}
    SecretVersion.update(**changes).where(SecretVersion.id == row.id).execute()
    for field, value in changes.items():
        setattr(row, field, value)


def delete_secret(principal: Principal, project_ref: str, name: str) -> None:
    """The secret and every version with its ciphertext (secrets:write)."""
    principal.require(perms.SECRETS_WRITE)
    project = find_project(principal, project_ref)
    with database.atomic():
        secret = _find(project, name, for_update=True)
        _secure_delete_on()
        SecretVersion.delete().where(SecretVersion.secret == secret.id).execute()
        Secret.delete().where(Secret.id == secret.id).execute()
        audit.record(principal, "secret.delete", project=project, target_type="secret",
                     target_id=secret.id)
    _purge_free_space()


# -- erasing for good (SQLite) -------------------------------------------------------------------
# PostgreSQL: an updated or deleted tuple stays in the table file, unreachable by SQL, until
# (auto)vacuum reuses its space. SQLite: without `secure_delete`, freed cells keep their old bytes
# in the database file, and the WAL keeps old page images until it is checkpointed and truncated.

def _secure_delete_on() -> None:
    """SQLite: zero freed space from now on, on this connection (inside the transaction)."""
    if isinstance(database.obj, peewee.SqliteDatabase):
        database.execute_sql("PRAGMA secure_delete = ON")


def _purge_free_space() -> None:
    """SQLite, after a commit that erased ciphertext: copy the WAL into the database and truncate
    it, so no old page image outlives the erase. Best effort and without waiting: when readers are
    busy it is left to SQLite's next automatic checkpoint."""
    if not isinstance(database.obj, peewee.SqliteDatabase) or database.in_transaction():
        return
    previous = database.execute_sql("PRAGMA busy_timeout").fetchone()[0]
    try:
        database.execute_sql("PRAGMA busy_timeout = 0")
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except peewee.OperationalError:
        pass
    finally:
        database.execute_sql(f"PRAGMA busy_timeout = {int(previous)}")


# -- resolving references (the one door for values) ------------------------------------------

def _shown_reference(body: str) -> str:
    text = "${secret:" + body
    return text if len(text) <= 120 else text[:117] + "..."


def resolve(keyring, principal: Principal, project_ref: str, template) -> str:
    """`template` with every `${secret:NAME.KEY}` replaced by that key's value in the ENABLED
    version of secret NAME of the project; `$${` stands for a literal `${` (secrets:access).

    An unknown secret, a key missing from it, a secret with no enabled version or a malformed
    reference: InvalidInput naming every such reference (and no value).
    """
    project = find_project(principal, project_ref)
    audit.require(principal, perms.SECRETS_ACCESS, "secret.resolve", project=project,
                  target_type="project", target_id=project.id)
    if not isinstance(template, str):
        raise invalid_field("template", "Must be a string.")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise invalid_field("template", f"Too long: at most {MAX_TEMPLATE_CHARS} characters.")
    if problem := unstorable(template):
        raise invalid_field("template", problem)

    problems: list[str] = []
    wanted: dict[str, dict[str, str]] = {}  # name -> key -> the reference as written
    for match in _TEMPLATE_TOKEN.finditer(template):
        if match.group(0) == "$${":
            continue
        body, closed = match.group(1), match.group(2)
        reference = _REFERENCE.match(body) if closed else None
        if reference is None:
            problems.append(f"{_shown_reference(body)}{closed}: not a reference of the form "
                            "${secret:NAME.KEY}.")
            continue
        name, key = reference.groups()
        wanted.setdefault(name, {})[key] = "${secret:" + body + "}"

    values: dict[str, dict[str, str]] = {}
    secret_ids: list[str] = []
    if wanted:
        # One statement, so every reference is read from the same snapshot.
        rows = (Secret.select(Secret, SecretVersion)
                .join(SecretVersion, peewee.JOIN.LEFT_OUTER,
                      on=((SecretVersion.secret == Secret.id) & (SecretVersion.state == ENABLED)),
                      attr="enabled")
                .where((Secret.project == project.id) & Secret.name.in_(sorted(wanted))))
        found = {secret.name: secret for secret in rows}
        for name, keys in wanted.items():
            secret = found.get(name)
            if secret is None:
                problems.extend(f"{written}: no secret '{name}' in project '{project.handle}'."
                                for written in keys.values())
                continue
            secret_ids.append(secret.id)
            enabled = getattr(secret, "enabled", None)
            if enabled is None or enabled.id is None:
                problems.extend(f"{written}: secret '{name}' has no enabled version."
                                for written in keys.values())
                continue
            opened = open_values(keyring, enabled, secret, project)
            problems.extend(f"{written}: the enabled version ({enabled.version}) of secret "
                            f"'{name}' has no key '{key}'."
                            for key, written in keys.items() if key not in opened)
            values[name] = opened

    if problems:
        audit.record(principal, "secret.resolve", project=project, target_type="project",
                     target_id=project.id, outcome="failed",
                     details={"problems": len(problems)})
        if len(problems) > MAX_LISTED_PROBLEMS:
            problems = [*problems[:MAX_LISTED_PROBLEMS],
                        f"\u2026and {len(problems) - MAX_LISTED_PROBLEMS} more."]
        raise InvalidInput("Cannot resolve the template: " + " ".join(problems),
                           errors={"template": problems})

    def replacement(match: re.Match) -> str:
        if match.group(0) == "$${":
            return "${"
        name, key = _REFERENCE.match(match.group(1)).groups()
        return values[name][key]

    # The result's length first, from the lengths alone, so an oversized one is never built: the
    # length of the result up to each token's end only grows, so the first time it passes the
    # limit is the time to stop.
    length, done = 0, 0
    for match in _TEMPLATE_TOKEN.finditer(template):
        length += match.start() - done + len(replacement(match))
        done = match.end()
        if length > MAX_RESULT_CHARS:
            break
    if length + len(template) - done > MAX_RESULT_CHARS:
        raise invalid_field("template", f"The result would exceed {MAX_RESULT_CHARS} characters.")
    result = _TEMPLATE_TOKEN.sub(replacement, template)
    # The values leave only once their reads are on record: no event, no result (503).
    with database.atomic():
        for secret_id in secret_ids:
            audit.record(principal, "secret.resolve", project=project, target_type="secret",
                         target_id=secret_id)
    return result
