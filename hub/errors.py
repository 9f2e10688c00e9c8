"""The domain's errors: plain exceptions, free of HTTP. `hub/api/problems.py` maps each class to a
status code and a problem+json body in one place; the CLI prints `detail`.

Messages are written for the person reading them (what happened, to what, what to do) and never
carry a secret value.
"""


class HubError(Exception):
    title = "Error"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
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


class Corrupted(HubError):
    """Stored data does not open or parse: tampering, a restored backup, or a lost data key."""

    title = "Stored data unreadable"


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
