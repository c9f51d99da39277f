"""Keep the equality indexes on an event's actor and subject, drop their pattern twins.

``db_index=True`` on a text column gives two indexes on PostgreSQL: a plain one and a
``varchar_pattern_ops`` one for ``LIKE 'prefix%'``. No query of the portal needs the second,
and every event insert paid for both. The plain indexes are kept under new names (a rename,
no rebuild), so the migration takes no time on a large event table.
"""

from django.db import migrations, models

TABLE = "siem_securityevent"
RENAMED = {"actor": "siem_event_actor", "subject": "siem_event_subject"}


def _auto_name(schema_editor, column: str, suffix: str = "") -> str:
    # The name Django gave the index that db_index=True created.
    return schema_editor._create_index_name(TABLE, [column], suffix=suffix)


def keep_plain_drop_pattern(apps, schema_editor):
    quote = schema_editor.quote_name
    for column, new_name in RENAMED.items():
        old_name = _auto_name(schema_editor, column)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"DROP INDEX IF EXISTS {quote(_auto_name(schema_editor, column, '_like'))}"
            )
            schema_editor.execute(f"ALTER INDEX {quote(old_name)} RENAME TO {quote(new_name)}")
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(old_name)}")
            schema_editor.execute(
                f"CREATE INDEX {quote(new_name)} ON {quote(TABLE)} ({quote(column)})"
            )


def restore_both(apps, schema_editor):
    quote = schema_editor.quote_name
    for column, new_name in RENAMED.items():
        old_name = _auto_name(schema_editor, column)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER INDEX {quote(new_name)} RENAME TO {quote(old_name)}")
            schema_editor.execute(
                f"CREATE INDEX {quote(_auto_name(schema_editor, column, '_like'))} "
                f"ON {quote(TABLE)} ({quote(column)} varchar_pattern_ops)"
            )
        else:
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(new_name)}")
            schema_editor.execute(
                f"CREATE INDEX {quote(old_name)} ON {quote(TABLE)} ({quote(column)})"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("siem", "0007_incident_playbook_requested_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(keep_plain_drop_pattern, restore_both)],
            state_operations=[
                migrations.AlterField(
                    model_name="securityevent",
                    name="actor",
                    field=models.CharField(blank=True, max_length=128),
                ),
                migrations.AlterField(
                    model_name="securityevent",
                    name="subject",
                    field=models.CharField(blank=True, max_length=128),
                ),
                migrations.AddIndex(
                    model_name="securityevent",
                    index=models.Index(fields=["actor"], name="siem_event_actor"),
                ),
                migrations.AddIndex(
                    model_name="securityevent",
                    index=models.Index(fields=["subject"], name="siem_event_subject"),
                ),
            ],
        ),
    ]
