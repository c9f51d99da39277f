"""Assignment becomes an object grant: existing assignees get their grants.

The grants are written through apps.rbac's service, the one path that touches object
permissions (and records each grant). That service works on the current models, so the
historical model is used only to find assigned incidents; on a database with none, as every
new installation, nothing else runs.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def grant_existing_assignees(apps, schema_editor):
    historical = apps.get_model("siem", "Incident")
    assigned = list(
        historical.objects.filter(assignee__isnull=False).values_list("pk", "assignee_id")
    )
    if not assigned:
        return

    from django.contrib.auth import get_user_model

    from apps.rbac.services import grant_object_permission
    from apps.siem.incidents import ASSIGNEE_ACTIONS
    from apps.siem.models import Incident

    user_model = get_user_model()
    for incident_id, user_id in assigned:
        for action in ASSIGNEE_ACTIONS:
            grant_object_permission(
                Incident(pk=incident_id), action, user=user_model(pk=user_id),
                granted_by="system:migration",
                reason=f"assignee of incident #{incident_id} before assignments were grants",
            )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("siem", "0003_default_rules"),
        ("rbac", "0004_object_grant_proxies"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="incident",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                help_text="Assigning grants this person read and write on this incident only.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(grant_existing_assignees, migrations.RunPython.noop),
    ]
