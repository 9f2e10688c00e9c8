"""The audit log: events hash-chained per org, each org's chain head, and signed checkpoints.

Frozen copies of the models as they are at this step; independent of hub/storage/models.py.
Events keep the project's id and handle as they were (no foreign key: an event outlives the
project it names). Every existing org gets its chain head here; new orgs get theirs when made.
"""
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Org(Base):
        id = CharField(primary_key=True, max_length=36)

    class AuditEvent(Base):
        id = CharField(primary_key=True, max_length=36)
        org = ForeignKeyField(Org, on_delete="CASCADE", index=False)
        seq = IntegerField()
        at = DateTimeField()
        actor = CharField(max_length=128)
        action = CharField(max_length=64)
        target_type = CharField(max_length=32, null=True)
        target_id = CharField(max_length=64, null=True)
        project_id = CharField(max_length=36, null=True)
        project_handle = CharField(max_length=63, null=True)
        outcome = CharField(max_length=16)
        request_id = CharField(max_length=128, null=True)
        client_ip = CharField(max_length=64, null=True)
        details = TextField()
        prev_hash = CharField(max_length=64)
        hash = CharField(max_length=64)

        class Meta:
            table_name = "audit_event"
            indexes = (
                (("org", "seq"), True),
                (("org", "action", "seq"), False),
                (("org", "at"), False),
                (("project_id", "seq"), False),
                (("project_id", "action", "seq"), False),
            )

    class AuditHead(Base):
        org = ForeignKeyField(Org, primary_key=True, on_delete="CASCADE")
        seq = IntegerField()
        hash = CharField(max_length=64)
        checkpoint_seq = IntegerField()
        checkpoint_at = DateTimeField(null=True)

        class Meta:
            table_name = "audit_head"

    class AuditCheckpoint(Base):
        id = CharField(primary_key=True, max_length=36)
        org = ForeignKeyField(Org, on_delete="CASCADE", index=False)
        seq = IntegerField()
        hash = CharField(max_length=64)
        at = DateTimeField()
        key_id = CharField(max_length=32)
        signature = CharField(max_length=128)

        class Meta:
            table_name = "audit_checkpoint"
            indexes = ((("org", "seq"), True),)

    db.create_tables([AuditEvent, AuditHead, AuditCheckpoint], safe=True)
    for (org_id,) in Org.select(Org.id).tuples():
        AuditHead.insert(org=org_id, seq=0, hash="0" * 64, checkpoint_seq=0).on_conflict_ignore().execute()
