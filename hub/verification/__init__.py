"""Verification: running a provider's check, contained (`run`), cutting what it answered to size
(`clamp`), running the checks that API requests start in a bounded pool, a few per org (`pool`,
with the org's places leased in the database by `slots`), recording what a check found on an
integration (`record`), and checking many integrations in a resumable run (`bulk`).

May import `hub.sdk`, `hub.egress`, `hub.storage`, `hub.integrations` (records and validation),
`hub.settings`; no Flask.
"""
