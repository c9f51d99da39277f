"""Support for finding a subject's rows without reading whole tables.

pg_trgm, for the verification scan's search indexes (apps/gdpr/scan.py). The indexes themselves
are not migrations: they follow whatever tables and columns exist, so they are created after
every migrate (apps.py). The extension does nothing on SQLite.

An index on the admin log's object reference: the admin-log provider finds the entries about a
subject's account by (content type, object id), which Django does not index.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("gdpr", "0002_step_ordering"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS gdpr_admin_log_object "
            "ON django_admin_log (content_type_id, object_id)",
            "DROP INDEX IF EXISTS gdpr_admin_log_object",
        ),
    ]
