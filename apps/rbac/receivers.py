"""Every write that can change a decision bumps a version counter, whoever made it.

Services bump too, but the admin, a shell or a bulk script may write these tables directly;
catching the writes here means no path can leave a stale decision behind.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from guardian.models import GroupObjectPermission, UserObjectPermission

from apps.rbac import versions
from apps.rbac.models import Role, RoleBinding

User = get_user_model()


@receiver([post_save, post_delete], sender=RoleBinding)
def _binding_changed(sender, instance, **kwargs):
    if instance.user_id:
        versions.bump_user(instance.user_id)
    else:
        versions.bump_all()


@receiver([post_save, post_delete], sender=Role)
def _role_changed(sender, instance, **kwargs):
    versions.bump_all()


@receiver(m2m_changed, sender=Role.permissions.through)
def _role_permissions_changed(sender, action, **kwargs):
    if action.startswith("post_"):
        versions.bump_all()


@receiver([post_save, post_delete], sender=UserObjectPermission)
def _user_grant_changed(sender, instance, **kwargs):
    versions.bump_user(instance.user_id)


@receiver([post_save, post_delete], sender=GroupObjectPermission)
def _group_grant_changed(sender, instance, **kwargs):
    versions.bump_all()


@receiver(m2m_changed, sender=User.groups.through)
def _membership_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if reverse or not isinstance(instance, User):
        # group.user_set.add(...) or a cleared group: many people may be affected.
        versions.bump_all()
    else:
        versions.bump_user(instance.pk)


@receiver([post_save, post_delete], sender=User)
def _user_changed(sender, instance, update_fields=None, **kwargs):
    # A login only touches last_login; anything else may be is_active or is_superuser.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    versions.bump_user(instance.pk)
