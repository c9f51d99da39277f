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

    _make_cached_decisions_stale(only_added=True)


def _make_cached_decisions_stale(*, only_added: bool):
    """Historical models send no signal the decision point listens to: make every cached
    decision stale so that the change counts at once, not within the cache's hour.

    After only adding permissions, a cache that does not answer does not stop the migration:
    its decisions grant less than the roles now do, and lapse on their own within the hour.
    After taking permissions away, stale decisions would grant more, so it does stop it.
    """
    from redis.exceptions import RedisError

    from apps.rbac import versions

    try:
        versions.bump_all()
    except (RedisError, OSError):
        if not only_added:
            raise
        print("  cache unavailable: cached access decisions lapse within the hour")


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

    _make_cached_decisions_stale(only_added=False)


class Migration(migrations.Migration):
    dependencies = [("rbac", "0004_object_grant_proxies")]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
