"""The seed roles gain what their admin pages need now that access control opens every page.

Only adds: a seed role an operator has changed keeps its changes, and a deleted one stays
deleted (``manage.py seed_roles`` restores them whole). Written out here rather than read from
``apps.rbac.seed``, so that this step means the same thing whenever it runs.
"""

from django.db import migrations

ADDED = {
    "compliance-officer": [
        "consents:read:all",
        "consent-purposes:read:all",
        "retention-records:read:all",
    ],
    "security-analyst": [
        "address-restrictions:read:all",
        "address-restrictions:create:all",
        "address-restrictions:write:all",
    ],
}


def add_permissions(apps, schema_editor):
    Role = apps.get_model("rbac", "Role")
    Permission = apps.get_model("rbac", "Permission")
    for name, texts in ADDED.items():
        role = Role.objects.filter(name=name).first()
        if role is None:
            continue
        for text in texts:
            resource, action, scope = text.split(":")
            permission, _ = Permission.objects.get_or_create(
                resource=resource, action=action, scope=scope
            )
            role.permissions.add(permission)

    # Historical models send no signal the decision point listens to: make every cached
    # decision stale so the new permissions count at once, not within the cache's hour.
    from apps.rbac import versions

    versions.bump_all()


def remove_permissions(apps, schema_editor):
    Role = apps.get_model("rbac", "Role")
    for name, texts in ADDED.items():
        role = Role.objects.filter(name=name).first()
        if role is None:
            continue
        for text in texts:
            resource, action, scope = text.split(":")
            role.permissions.remove(
                *role.permissions.filter(resource=resource, action=action, scope=scope)
            )

    from apps.rbac import versions

    versions.bump_all()


class Migration(migrations.Migration):
    dependencies = [("rbac", "0004_object_grant_proxies")]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
