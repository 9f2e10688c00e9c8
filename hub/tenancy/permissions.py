"""Permission names and the role presets that expand to them (API.md, "Tenancy")."""

PROJECTS_ADMIN = "projects:admin"
KEYS_ADMIN = "keys:admin"
INTEGRATIONS_READ = "integrations:read"
INTEGRATIONS_WRITE = "integrations:write"
INTEGRATIONS_VERIFY = "integrations:verify"
CREDENTIALS_READ = "credentials:read"
SECRETS_READ = "secrets:read"
SECRETS_WRITE = "secrets:write"
SECRETS_ACCESS = "secrets:access"
AUDIT_READ = "audit:read"

ALL = (
    PROJECTS_ADMIN, KEYS_ADMIN, INTEGRATIONS_READ, INTEGRATIONS_WRITE, INTEGRATIONS_VERIFY,
    CREDENTIALS_READ, SECRETS_READ, SECRETS_WRITE, SECRETS_ACCESS, AUDIT_READ,
)

ROLES = {
    "owner": frozenset(ALL),
    "member": frozenset(ALL) - {PROJECTS_ADMIN, KEYS_ADMIN, CREDENTIALS_READ, SECRETS_ACCESS},
    # An app key reads credentials and secrets but can never create or change them.
    "app": frozenset({INTEGRATIONS_READ, CREDENTIALS_READ, SECRETS_READ, SECRETS_ACCESS}),
}

# What an `app` key can never do, whatever permissions were listed with the role: it reads
# credentials and secrets for a workload, and never creates, changes, copies, deletes or verifies.
APP_NEVER = frozenset({PROJECTS_ADMIN, KEYS_ADMIN, INTEGRATIONS_WRITE, INTEGRATIONS_VERIFY,
                       SECRETS_WRITE})
