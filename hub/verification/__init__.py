"""Verification: running a provider's check, contained (`run`), recording what it found on an
integration (`record`), and checking many integrations in a resumable run (`bulk`).

May import `hub.sdk`, `hub.egress`, `hub.storage`, `hub.integrations` (records and validation);
no Flask.
"""
