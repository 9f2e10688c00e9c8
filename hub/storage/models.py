"""The hub's tables, as peewee models whose database is the one bound in the current context.

The schema itself is created and changed only by the versioned migrations in `hub/storage/migrations/`;
these classes describe the current state of it for queries.

Ids are UUIDv7 strings: they sort by creation time, so keyset pagination can walk the primary key
(or an index ending in it) and a page costs the same at any depth.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import os
import time
import uuid
from typing import Iterator

import peewee

_bound: contextvars.ContextVar[peewee.Database | None] = contextvars.ContextVar(
    "hub_database", default=None)


class ContextDatabase(peewee.DatabaseProxy):
    """The models' database: whichever database is bound in the current context.

    Each app binds its own database while one of its app contexts is active (a request, a CLI
    command, `with app.app_context()`), so two apps in one process never see each other's data:
    a process-global proxy would let the second `create_app` silently rebind the first app's
    models. Worker threads start with nothing bound; hand them the context
    (`contextvars.copy_context().run`) or bind explicitly with `bound(db)`.
    """

    __slots__ = ()

    def __setattr__(self, attr, value):
        if attr not in ("obj", "_callbacks", "_Model"):  # peewee's Proxy allows only its slots
            raise AttributeError("Cannot set attribute on proxy.")
        object.__setattr__(self, attr, value)

    @property
    def obj(self) -> peewee.Database | None:
        return _bound.get()

    @obj.setter
    def obj(self, value) -> None:
        if value is not None:  # peewee's Proxy.__init__ sets None; anything else is a rebind
            raise TypeError("Bind a database per context with hub.storage.models.bound(db), "
                            "not by initializing the shared proxy.")

    def __getattr__(self, attr):
        db = _bound.get()
        if db is None:
            raise peewee.InterfaceError(
                "No hub database is bound here: use the models inside an app context "
                "(`with app.app_context():`) or `with bound(db):`.")
        return getattr(db, attr)


database = ContextDatabase()


@contextlib.contextmanager
def bound(db: peewee.Database) -> Iterator[peewee.Database]:
    """Bind `db` as the models' database for the code inside the block (this context only)."""
    token = _bound.set(db)
    try:
        yield db
    finally:
        _bound.reset(token)


def bind(db: peewee.Database) -> contextvars.Token:
    """Bind `db` in the current context until `unbind(token)`; for context hooks that cannot
    wrap a block (Flask's app context push and teardown)."""
    return _bound.set(db)


def unbind(token: contextvars.Token) -> None:
    _bound.reset(token)


def new_id() -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value &= ~(0xF << 76)
    value |= 0x7 << 76  # version 7
    value &= ~(0x3 << 62)
    value |= 0x2 << 62  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def utcnow() -> datetime.datetime:
    """Naive UTC, which is how every timestamp is stored (portable between SQLite and PostgreSQL)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class JSONField(peewee.TextField):
    """JSON kept as text, so the same schema works on SQLite and PostgreSQL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


# Every sealed column pair: (model, prefix), where the model has `<prefix>_key_id` (the data key
# that sealed it) and `<prefix>_ciphertext`, and a method `sealed_aad(prefix) -> bytes` that
# rebuilds the associated data from the row. `hub crypto status` counts these; rewrap walks them.
SEALED_COLUMNS: list[tuple[type, str]] = []


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False

    def __repr__(self):
        # Never include field values: some rows hold ciphertext or hashes.
        return f"<{type(self).__name__} {getattr(self, 'id', None)}>"


class KeyringEntry(BaseModel):
    """A key of the keyring, wrapped (encrypted) by the root key, which never enters the database.

    purpose "data": seals records; exactly one is `primary` (new writes), `active` ones still open
    old records, `retired` ones protect nothing any more. purpose "mac": the keyed-hash key from
    which the API-key pepper, the fingerprint key and the row-MAC key are derived; there is one.
    """

    id = peewee.CharField(primary_key=True, max_length=32)
    purpose = peewee.CharField(max_length=16)
    state = peewee.CharField(max_length=16)
    wrapped = peewee.BlobField()
    created_at = peewee.DateTimeField(default=utcnow)
    state_changed_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "keyring"
        indexes = ((("purpose", "state"), False),)


class Org(BaseModel):
    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    name = peewee.CharField(max_length=63, unique=True)
    created_at = peewee.DateTimeField(default=utcnow)


class Project(BaseModel):
    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    org = peewee.ForeignKeyField(Org, backref="projects", on_delete="CASCADE", index=False)
    handle = peewee.CharField(max_length=63, unique=True)
    display_name = peewee.CharField(max_length=255, null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("org", "id"), False),)


class ApiKey(BaseModel):
    """An API key. Its secret is stored only as a keyed hash (HMAC with the keyring's pepper)."""

    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    org = peewee.ForeignKeyField(Org, backref="api_keys", on_delete="CASCADE", index=False)
    name = peewee.CharField(max_length=255)
    public_id = peewee.CharField(max_length=64, unique=True)
    secret_hash = peewee.CharField(max_length=64, unique=True)
    role = peewee.CharField(max_length=32, null=True)
    permissions = JSONField()  # sorted list of permission names
    projects = JSONField(null=True)  # list of project ids; null = every project of the org
    created_by = peewee.CharField(max_length=36, null=True)  # the key that made it (None: the CLI)
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)
    # MAC of the fields that decide what the key may do (hub/tenancy/key_integrity.py; 0007).
    integrity = peewee.CharField(max_length=64, null=True)

    class Meta:
        table_name = "api_key"
        indexes = (
            (("org", "name"), True),
            (("org", "id"), False),
        )


class Integration(BaseModel):
    """A provider's credentials and config. The credentials are sealed, bound to this row."""

    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    org = peewee.ForeignKeyField(Org, on_delete="CASCADE", index=False)
    project = peewee.ForeignKeyField(Project, null=True, on_delete="CASCADE", index=False)
    name = peewee.CharField(max_length=100)
    provider = peewee.CharField(max_length=63)
    auth_type = peewee.CharField(max_length=63)
    display_name = peewee.CharField(max_length=100, null=True)
    description = peewee.CharField(max_length=500, null=True)
    config = JSONField()
    tags = JSONField()  # sorted list of strings
    status = peewee.CharField(max_length=16)  # "active" | "inactive", as set by users
    expired_reason = peewee.CharField(max_length=16, null=True)  # "expired" | "revoked", from a check
    credentials_key_id = peewee.CharField(max_length=32)
    credentials_ciphertext = peewee.BlobField()
    credential_fields = JSONField()
    fingerprint = peewee.CharField(max_length=64)
    credentials_updated_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField(null=True)
    last_verification = JSONField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    # Org-wide integrations (project is null): every project of the org may use it, or only the
    # projects listed in integration_project (migration 0006).
    is_global = peewee.BooleanField(default=False)
    # MAC of the fields that decide where the credentials go and who may read them
    # (hub/integrations/integrity.py; migration 0007).
    integrity = peewee.CharField(max_length=64, null=True)

    class Meta:
        indexes = (
            (("project", "provider", "name"), True),
            (("project", "id"), False),
            (("project", "provider", "id"), False),  # migration 0004
            (("org", "id"), False),
            (("credentials_key_id",), False),
        )

    def sealed_aad(self, prefix: str = "credentials") -> bytes:
        # Bound to kind, row and scope: a ciphertext copied onto another row does not open.
        scope = f"project:{self.project_id}" if self.project_id else f"org:{self.org_id}"
        return f"integration:{self.id}:{scope}:{prefix}".encode()


SEALED_COLUMNS.append((Integration, "credentials"))
# An org's org-wide integrations have unique (provider, name), as a project's do (migration 0006).
Integration.add_index(Integration.index(
    Integration.org, Integration.provider, Integration.name, unique=True,
    where=Integration.project.is_null(), name="integration_org_wide_name"))


class IntegrationProject(BaseModel):
    """A project an org-wide integration is shared with (when it is not `is_global`)."""

    integration = peewee.ForeignKeyField(Integration, on_delete="CASCADE", index=False)
    project = peewee.ForeignKeyField(Project, on_delete="CASCADE", index=False)
    # MAC of (org, integration, project): a link the hub did not write shares nothing (0007).
    integrity = peewee.CharField(max_length=64, null=True)

    class Meta:
        table_name = "integration_project"
        primary_key = False
        indexes = ((("integration", "project"), True), (("project", "integration"), False))


class IntegrationTag(BaseModel):
    """One row per tag of an integration, so `?tag=` filters on an index (tags are also kept on
    the integration row, in order, for reading)."""

    integration = peewee.ForeignKeyField(Integration, on_delete="CASCADE", index=False)
    tag = peewee.CharField(max_length=64)

    class Meta:
        table_name = "integration_tag"
        primary_key = False
        indexes = ((("integration", "tag"), True), (("tag", "integration"), False))


class Secret(BaseModel):
    """A named slot of a project (hub/secrets/store.py). `current_version` is the newest version's
    number (what `cas` compares with); `enabled_version` the one ENABLED, or None. Both change only
    in a transaction holding this row's lock."""

    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    project = peewee.ForeignKeyField(Project, on_delete="CASCADE", index=False)
    name = peewee.CharField(max_length=100)
    description = peewee.CharField(max_length=500, null=True)
    current_version = peewee.IntegerField(default=0)
    enabled_version = peewee.IntegerField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("project", "name"), True),
            (("project", "id"), False),
        )


class SecretVersion(BaseModel):
    """One frozen set of string values of a secret, sealed bound to this row and its project.
    Destroying it clears the two `values_*` columns; the metadata and sha256 stay."""

    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    secret = peewee.ForeignKeyField(Secret, on_delete="CASCADE", index=False)
    project_id = peewee.CharField(max_length=36)  # the secret's project, for the sealed AAD
    org_id = peewee.CharField(max_length=36, null=True)  # the project's org, for the AAD (0007)
    version = peewee.IntegerField()
    state = peewee.CharField(max_length=16)  # ENABLED | DISABLED | DESTROYED
    sha256 = peewee.CharField(max_length=64)
    values_key_id = peewee.CharField(max_length=32, null=True)
    values_ciphertext = peewee.BlobField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    state_changed_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "secret_version"
        indexes = (
            (("secret", "version"), True),
            (("values_key_id",), False),
        )

    def sealed_aad(self, prefix: str = "values") -> bytes:
        # From the row's own copies (rewrap re-seals under the associated data it opened with);
        # reading values builds it from the parent rows instead (hub/secrets/store.open_values).
        return secret_version_aad(self.id, org_id=self.org_id, project_id=self.project_id,
                                  secret_id=self.secret_id, version=self.version, prefix=prefix)


def secret_version_aad(row_id, *, org_id, project_id, secret_id, version, prefix="values") -> bytes:
    """A version's associated data: bound to its row, number, secret, project and org (migration
    0007), so a row moved to another secret, project or org, or renumbered, does not open."""
    return (f"secret_version-v2:{row_id}:org:{org_id}:project:{project_id}:secret:{secret_id}"
            f":version:{version}:{prefix}").encode()


# At most one ENABLED version per secret, enforced by the database (a partial unique index).
SecretVersion.add_index(SecretVersion.index(
    SecretVersion.secret, unique=True, where=(SecretVersion.state == "ENABLED"),
    name="secret_version_one_enabled"))

SEALED_COLUMNS.append((SecretVersion, "values"))


class AuditEvent(BaseModel):
    """One audit event: append-only, chained to the one before it in its org (hub/audit/).

    `project_id` and `project_handle` are as they were when it happened (no foreign key: an event
    outlives the project it names). `details` never holds a secret value.
    """

    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    org = peewee.ForeignKeyField(Org, on_delete="CASCADE", index=False)
    seq = peewee.IntegerField()
    at = peewee.DateTimeField()
    actor = peewee.CharField(max_length=128)
    action = peewee.CharField(max_length=64)
    target_type = peewee.CharField(max_length=32, null=True)
    target_id = peewee.CharField(max_length=64, null=True)
    project_id = peewee.CharField(max_length=36, null=True)
    project_handle = peewee.CharField(max_length=63, null=True)
    outcome = peewee.CharField(max_length=16)  # success | denied | failed
    request_id = peewee.CharField(max_length=128, null=True)
    client_ip = peewee.CharField(max_length=64, null=True)
    details = JSONField()
    prev_hash = peewee.CharField(max_length=64)
    hash = peewee.CharField(max_length=64)

    class Meta:
        table_name = "audit_event"
        indexes = (
            (("org", "seq"), True),
            (("org", "action", "seq"), False),
            (("org", "at"), False),
            (("project_id", "seq"), False),
            (("project_id", "action", "seq"), False),
        )


class AuditHead(BaseModel):
    """An org's chain head: the last event's seq and hash, and its last checkpoint. Appending locks
    this row, so concurrent writers queue up and never fork the chain."""

    org = peewee.ForeignKeyField(Org, primary_key=True, on_delete="CASCADE")
    seq = peewee.IntegerField()
    hash = peewee.CharField(max_length=64)
    checkpoint_seq = peewee.IntegerField()
    checkpoint_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "audit_head"


class AuditCheckpoint(BaseModel):
    """A signed statement of an org's chain head (hub/audit/checkpoints.py says what is signed)."""

    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    org = peewee.ForeignKeyField(Org, on_delete="CASCADE", index=False)
    seq = peewee.IntegerField()
    hash = peewee.CharField(max_length=64)
    at = peewee.DateTimeField()
    key_id = peewee.CharField(max_length=32)
    signature = peewee.CharField(max_length=128)

    class Meta:
        table_name = "audit_checkpoint"
        indexes = ((("org", "seq"), True),)


class VerifySlot(BaseModel):
    """A lease on one of an org's places for running checks (hub/verification/slots.py): at most
    HUB_VERIFY_MAX_PER_ORG rows per org are live, across every process on this database. The key
    (org_id, slot) settles who gets a place; `expires_at` frees the place of a process that died
    holding it. No foreign key: a lease outlives nothing and is never joined."""

    org_id = peewee.CharField(max_length=36)
    slot = peewee.IntegerField()
    holder = peewee.CharField(max_length=36)  # a random id per lease: only its taker gives it back
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "verify_slot"
        primary_key = peewee.CompositeKey("org_id", "slot")


class OAuthApp(BaseModel):
    """An org's client registration at an OAuth provider (hub/oauth/apps.py). The client secret is
    sealed, bound to this row; the URLs, when set, override the provider's defaults."""

    id = peewee.CharField(primary_key=True, max_length=36, default=new_id)
    org = peewee.ForeignKeyField(Org, on_delete="CASCADE", index=False)
    provider = peewee.CharField(max_length=63)
    name = peewee.CharField(max_length=100)
    client_id = peewee.CharField(max_length=255)
    client_secret_key_id = peewee.CharField(max_length=32)
    client_secret_ciphertext = peewee.BlobField()
    scopes = JSONField(null=True)  # list of strings; null: the provider's defaults
    redirect_origins = JSONField()  # list of "scheme://host[:port]"
    authorize_url = peewee.CharField(max_length=2048, null=True)
    token_url = peewee.CharField(max_length=2048, null=True)
    api_base_url = peewee.CharField(max_length=2048, null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "oauth_app"
        indexes = ((("org", "provider", "name"), True), (("org", "id"), False),
                   (("client_secret_key_id",), False))

    def sealed_aad(self, prefix: str = "client_secret") -> bytes:
        # Bound to where the secret is sent and whose it is: a database edit of token_url,
        # client_id or provider makes the secret unopenable rather than sent elsewhere.
        where = json.dumps([self.provider, self.client_id, self.token_url], separators=(",", ":"))
        return f"oauth_app:{self.id}:org:{self.org_id}:{where}:{prefix}".encode()


SEALED_COLUMNS.append((OAuthApp, "client_secret"))


class OAuthPending(BaseModel):
    """A connection started and not yet called back (hub/oauth/connect.py): keyed by the SHA-256
    of its state (the state itself is never stored), its PKCE verifier sealed. Single use: the
    callback DELETEs it, and only the caller whose DELETE removed the row goes on."""

    state_hash = peewee.CharField(primary_key=True, max_length=64)
    org = peewee.ForeignKeyField(Org, on_delete="CASCADE", index=False)
    project = peewee.ForeignKeyField(Project, on_delete="CASCADE", index=False)
    oauth_app = peewee.ForeignKeyField(OAuthApp, on_delete="CASCADE", index=False)
    provider = peewee.CharField(max_length=63)
    name = peewee.CharField(max_length=100)
    scopes = JSONField()
    return_to = peewee.CharField(max_length=2048, null=True)
    created_by = peewee.CharField(max_length=36, null=True)  # the API key; None: the CLI
    verifier_key_id = peewee.CharField(max_length=32)
    verifier_ciphertext = peewee.BlobField()
    created_at = peewee.DateTimeField(default=utcnow)
    expires_at = peewee.DateTimeField()

    class Meta:
        table_name = "oauth_pending"
        indexes = ((("expires_at",), False), (("verifier_key_id",), False))

    def sealed_aad(self, prefix: str = "verifier") -> bytes:
        # Bound to where the connection lands: a database edit of the project, app, name or
        # return_to makes the callback refuse rather than connect elsewhere.
        where = json.dumps([self.org_id, self.project_id, self.oauth_app_id, self.provider,
                            self.name, self.return_to], separators=(",", ":"))
        return f"oauth_pending:{self.state_hash}:{where}:{prefix}".encode()


SEALED_COLUMNS.append((OAuthPending, "verifier"))
