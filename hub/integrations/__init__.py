"""Integrations: a provider's credentials and config in a project, and their whole lifecycle.

Owns the integration records (`records`), what a caller may send about them (`validation`) and
writing them (`store`: create, update, delete, copy). Credentials are validated by the provider's
schema, sealed with the keyring bound to their row, and never returned by anything here except
`records.open_credentials`. May import `hub.storage`, `hub.crypto`, `hub.tenancy`, `hub.sdk`,
`hub.plugins`, `hub.verification`, `hub.audit`; no Flask: the API, the CLI and tests call it alike.
"""
