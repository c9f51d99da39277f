"""Every write to roles, bindings and object grants, each recorded as a security event.

The decision point lives in ``apps.rbac.decisions`` and is re-exported here, so that callers
need one import: ``from apps.rbac.services import authorize, restrict``.
"""

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission as AuthPermission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.rbac import events, registry, versions
from apps.rbac.decisions import (
    Decision,
    authorize,
    deciding_soon,
    guardian_codename,
    people_allowed_everywhere,
    restrict,
)
from apps.rbac.models import AccessReview, Permission, Role, RoleBinding
from apps.siem.events import emit

__all__ = [
    "Decision",
    "authorize",
    "bind_role",
    "check_binding",
    "create_role",
    "deciding_soon",
    "delete_role",
    "disable_inactive_accounts",
    "expire_bindings",
    "grant_object_permission",
    "people_allowed_everywhere",
    "restrict",
    "revoke_binding",
    "revoke_object_permission",
    "take_access_review",
    "update_role",
]

SCOPE_FORMAT = re.compile(r"^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._-]{1,64}$")
SYSTEM = "system:rbac"


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required for every access change.")
    return reason


def _permission_strings(role) -> list[str]:
    return sorted(str(p) for p in role.permissions.all())


# --- Roles -------------------------------------------------------------------------------


def create_role(
    *, name, description="", permissions=(), requires_mfa=False, created_by, reason
) -> Role:
    reason = _require_reason(reason)
    role = Role.objects.create(name=name, description=description, requires_mfa=requires_mfa)
    role.permissions.set(permissions)
    emit(
        events.ROLE_CREATED,
        actor=created_by,
        subject=f"role:{role.name}",
        details={"permissions": _permission_strings(role), "requires_mfa": requires_mfa,
                 "reason": reason},
    )  # fmt: skip
    return role


def update_role(role, *, changed_by, reason, permissions=None, **fields) -> Role:
    """Change a role's fields and, when given, replace its permissions."""
    reason = _require_reason(reason)
    before = {"permissions": _permission_strings(role), "requires_mfa": role.requires_mfa}
    for name, value in fields.items():
        setattr(role, name, value)
    role.save()
    if permissions is not None:
        role.permissions.set(permissions)
    after = {"permissions": _permission_strings(role), "requires_mfa": role.requires_mfa}
    emit(
        events.ROLE_CHANGED,
        actor=changed_by,
        subject=f"role:{role.name}",
        details={"before": before, "after": after, "fields": sorted(fields), "reason": reason},
    )
    return role


def delete_role(role, *, deleted_by, reason) -> None:
    reason = _require_reason(reason)
    holders = role.bindings.count()
    emit(
        events.ROLE_DELETED,
        actor=deleted_by,
        subject=f"role:{role.name}",
        details={"permissions": _permission_strings(role), "bindings_removed": holders,
                 "reason": reason},
    )  # fmt: skip
    role.delete()


def ensure_permission(text: str) -> Permission:
    """The permission written ``resource:action:scope``, created when new."""
    resource, action, scope = text.split(":")
    permission, _ = Permission.objects.get_or_create(resource=resource, action=action, scope=scope)
    return permission


# --- Bindings ----------------------------------------------------------------------------


def _holder(binding) -> str:
    return f"user:{binding.user_id}" if binding.user_id else f"group:{binding.group_id}"


def check_binding(*, user=None, group=None, scope="", expires_at=None) -> None:
    """Raise ValidationError unless a binding of these parts could be made.

    ``bind_role()`` asks it, and so do forms, so that a mistake is shown beside the field
    instead of failing the save.
    """
    if (user is None) == (group is None):
        raise ValidationError("A role is bound to exactly one user or one group.")
    if scope and not SCOPE_FORMAT.match(scope):
        raise ValidationError({"scope": "A scope is written kind:value, for example partner:42."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "An expiry must lie in the future."})


def bind_role(
    *, role, user=None, group=None, scope="", expires_at=None, granted_by, reason
) -> RoleBinding:
    """Give ``role`` to one user or to a group's members, optionally narrowed and timed."""
    reason = _require_reason(reason)
    check_binding(user=user, group=group, scope=scope, expires_at=expires_at)

    binding = RoleBinding.objects.create(
        role=role, user=user, group=group, scope=scope, expires_at=expires_at,
        granted_by=granted_by, reason=reason,
    )  # fmt: skip
    emit(
        events.BINDING_CREATED,
        actor=granted_by,
        subject=_holder(binding),
        details={"binding": binding.pk, "role": role.name, "scope": scope,
                 "expires_at": expires_at.isoformat() if expires_at else None,
                 "reason": reason},
    )  # fmt: skip
    return binding


def revoke_binding(binding, *, revoked_by, reason) -> None:
    reason = _require_reason(reason)
    emit(
        events.BINDING_REVOKED,
        actor=revoked_by,
        subject=_holder(binding),
        details={"binding": binding.pk, "role": binding.role.name, "scope": binding.scope,
                 "reason": reason},
    )  # fmt: skip
    binding.delete()


def expire_bindings(*, now=None) -> int:
    """Remove bindings whose expiry has passed; decisions already ignore them from that time."""
    now = now or timezone.now()
    removed = 0
    for binding in RoleBinding.objects.filter(expires_at__lte=now).select_related("role"):
        with transaction.atomic():
            # Another worker may have removed it first; only the one that deletes records it.
            deleted, _ = RoleBinding.objects.filter(pk=binding.pk).delete()
            if deleted:
                emit(
                    events.BINDING_EXPIRED,
                    actor=SYSTEM,
                    subject=_holder(binding),
                    details={"binding": binding.pk, "role": binding.role.name,
                             "expired_at": binding.expires_at.isoformat()},
                )  # fmt: skip
                removed += 1
    return removed


def disable_inactive_accounts(*, days: int, now=None) -> int:
    """Deactivate accounts unused for ``days`` and take away every role they held.

    An account that never signed in counts from the day it joined. Staff and superusers are
    included: an idle privileged account is the riskiest kind.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    user_model = get_user_model()
    idle = user_model.objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    disabled = 0
    for user_id in idle.values_list("pk", flat=True):
        with transaction.atomic():
            claimed = idle.filter(pk=user_id).update(is_active=False)
            if not claimed:
                continue
            roles = list(
                RoleBinding.objects.filter(user_id=user_id).values_list("role__name", flat=True)
            )
            # Deleted one by one so that each removal bumps the person's decision version.
            for binding in RoleBinding.objects.filter(user_id=user_id):
                binding.delete()
            versions.bump_user(user_id)
            emit(
                events.ACCOUNT_DISABLED,
                actor=SYSTEM,
                subject=f"user:{user_id}",
                details={"inactive_days": days, "roles_removed": sorted(roles)},
            )
            disabled += 1
    return disabled


# --- Object grants -----------------------------------------------------------------------


def _bump_for(user, group) -> None:
    # The guardian signals bump too; this also covers a grant that already existed.
    if user is not None:
        versions.bump_user(user.pk)
    else:
        versions.bump_all()


def _auth_permission(obj, action) -> AuthPermission:
    declaration = registry.for_model(type(obj))
    content_type = ContentType.objects.get_for_model(declaration.model)
    codename = guardian_codename(declaration, action)
    permission, _ = AuthPermission.objects.get_or_create(
        content_type=content_type,
        codename=codename,
        defaults={"name": f"Can {action} {declaration.model._meta.verbose_name}"},
    )
    return permission


def grant_object_permission(obj, action, *, user=None, group=None, granted_by, reason) -> None:
    """Let one user or group do ``action`` on this one object."""
    _change_object_grant(
        assign_perm, events.GRANT_CREATED, obj, action,
        user=user, group=group, actor=granted_by, reason=reason,
    )  # fmt: skip


def revoke_object_permission(obj, action, *, user=None, group=None, revoked_by, reason) -> None:
    """Take back what grant_object_permission() gave."""
    _change_object_grant(
        remove_perm, events.GRANT_REVOKED, obj, action,
        user=user, group=group, actor=revoked_by, reason=reason,
    )  # fmt: skip


def _change_object_grant(change, event_type, obj, action, *, user, group, actor, reason) -> None:
    """Apply ``change`` (guardian's assign or remove) and record it: the one path for both."""
    reason = _require_reason(reason)
    if (user is None) == (group is None):
        raise ValidationError("An object grant belongs to exactly one user or one group.")
    change(_auth_permission(obj, action), user or group, obj)
    _bump_for(user, group)

    declaration = registry.for_model(type(obj))
    emit(
        event_type,
        actor=actor,
        subject=f"user:{user.pk}" if user else f"group:{group.pk}",
        details={"resource": declaration.resource, "action": action, "object": str(obj.pk),
                 "reason": reason},
    )  # fmt: skip


# --- Access reviews ----------------------------------------------------------------------


def take_access_review(*, taken_by) -> AccessReview:
    """Save who holds what right now, so the review can be signed off as it was."""
    from apps.rbac.reports import access_review_entries

    review = AccessReview.objects.create(created_by=taken_by, entries=access_review_entries())
    emit(
        events.REVIEW_TAKEN,
        actor=taken_by,
        subject=f"access-review:{review.pk}",
        details={"entries": len(review.entries)},
    )
    return review
