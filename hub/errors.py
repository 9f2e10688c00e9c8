"""The hub's errors: one tree of plain exceptions, free of HTTP. `hub/api/problems.py` maps each
class to a status code and a problem+json body in one place; the CLI prints `detail` as one
sentence and exits non-zero.

Two branches: what a caller did (`InvalidInput`, `Forbidden`, `NotFound`, `Conflict` ...) and what
the operator must put right (`SetupError`: settings, the database, the root key and keyring),
whose detail names the setting or file and what to do; the API logs that detail and tells callers
only that the hub is unavailable.

Messages are written for the person reading them (what happened, to what, what to do) and never
carry a secret value.
"""


class HubError(Exception):
    title = "Error"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None,
                 title: str | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        if title is not None:  # a more precise title than the class's ("Credentials expired")
            self.title = title
        self.extra = extra  # further members for the problem body (e.g. current_version)


class InvalidInput(HubError):
    """The request does not make sense as given; `errors` names the fields."""

    title = "Invalid input"


class Unauthenticated(HubError):
    title = "Unauthenticated"


class Forbidden(HubError):
    title = "Forbidden"


class NotFound(HubError):
    title = "Not found"


class Conflict(HubError):
    title = "Conflict"


class Unavailable(HubError):
    title = "Service unavailable"


class RateLimited(HubError):
    """Not now: the capacity for this kind of work is in use (the checks of an org, say). A 429
    with `Retry-After: retry_after` (whole seconds) in the API."""

    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra):
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class Unsupported(InvalidInput):
    """The thing exists but cannot do what was asked (e.g. a provider without a check)."""


class Corrupted(HubError):
    """Stored data does not open or parse: tampering, a restored backup, or a lost data key."""

    title = "Stored data unreadable"


# -- what the operator must put right ---------------------------------------------------------

class SetupError(HubError):
    """The hub is not set up or configured so that it can serve: the detail says what to fix.

    `public_detail` is what an API caller is told instead (no paths, no settings' values).
    """

    title = "Service unavailable"
    public_detail = "The hub is not set up or configured right; the operator should check the server log."


class SettingsError(SetupError):
    """A setting is malformed; the message names it and says what it must be."""

    public_detail = "The hub's settings are not valid; the operator should check the server log."


class DatabaseUnavailable(SetupError):
    """The database is not set up, cannot be reached, or its URL cannot be used."""

    public_detail = ("The hub's database does not answer or is not set up; the operator should "
                     "check HUB_DATABASE_URL and the server log.")


class KeyringUnavailable(SetupError):
    """The hub cannot open its keyring; the message says what to do."""

    public_detail = ("The hub cannot open its encryption keyring; the operator must check its root "
                     "key (see the server log).")


class CryptoError(SetupError):
    """Base of the encryption errors. `detail` is the message, written for the operator."""

    public_detail = KeyringUnavailable.public_detail


class RootKeyError(CryptoError):
    """The root key is malformed or unreadable, or its file cannot be created."""


class KeyRingMissing(CryptoError):
    """The database holds no keyring."""


class RootKeyMismatch(CryptoError):
    """The root key does not open the keyring stored in the database."""


class KeyRingCorrupt(CryptoError):
    """The keyring's rows are not a consistent keyring (no primary, no mac key, bad lengths)."""


class DecryptionFailed(CryptoError):
    """A sealed record could not be opened: wrong associated data, tampered, or unknown key."""


# -- helpers -----------------------------------------------------------------------------------

def invalid_field(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors={field: [message]})


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested {"credentials": {"token": [..]}} -> {"credentials.token": [..]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            flat.update(flatten_messages(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_body"] = list(messages)
    else:
        flat[prefix or "_body"] = [str(messages)]
    return flat
