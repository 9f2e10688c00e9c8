"""Storage: binding a database to an app, the models, the migrations (`migrations/`), keyset
pagination and queries compiled once.

The schema is created and changed only by the numbered migrations; `models` describes its current
state. May import `hub.errors` and nothing else of the hub.
"""
