"""hub: an integration hub that keeps third-party credentials encrypted, verified and audited."""
from hub.hookspecs import hookimpl

__all__ = ["create_app", "hookimpl"]


def create_app(config=None):
    """The Flask application factory (imported lazily: importing `hub` has no side effects)."""
    from hub.app import create_app as _create_app

    return _create_app(config)
