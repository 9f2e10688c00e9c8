"""The audit log: append-only events, hash-chained per org, with signed checkpoints.

Owns writing an event in the caller's transaction (`log.record`), the chain's hashes and their
verification (`chain`), signed checkpoints of each org's chain head (`checkpoints`), reading events
a page at a time (`queries`) and the JSON-lines export a SIEM or an auditor reads (`export`).
May import `hub.storage`, `hub.crypto`, `hub.errors` and `hub.timestamps`; no Flask. Writing
(`log`, `chain`, `checkpoints`) imports nothing of tenancy, integrations or secrets, which call it;
reading with permissions (`queries`, and `verification`/`export` through it) uses `hub.tenancy`
to find the project and check the key.

An event never holds a secret value: callers pass ids, names and field names only.
"""
