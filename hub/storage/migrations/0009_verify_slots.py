"""Leases on an org's places for running checks (`verify_slot`), so that HUB_VERIFY_MAX_PER_ORG
holds across processes and machines; a lease expires, so a process that dies frees its places."""
from peewee import CharField, CompositeKey, DateTimeField, IntegerField, Model


def up(migrator, db):
    class VerifySlot(Model):
        org_id = CharField(max_length=36)
        slot = IntegerField()
        holder = CharField(max_length=36)
        expires_at = DateTimeField()

        class Meta:
            database = db
            table_name = "verify_slot"
            primary_key = CompositeKey("org_id", "slot")

    db.create_tables([VerifySlot], safe=True)
