"""Secrets: named, versioned sets of string values in a project, sealed at rest, and the
`${secret:NAME.KEY}` templates that resolve them.

May import `hub.storage`, `hub.crypto`, `hub.tenancy`, `hub.audit`, `hub.errors`; no Flask.
"""
