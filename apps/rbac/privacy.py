"""Access the subject was given: role bindings and object grants."""

from django.db.models import Q

from apps.gdpr.registry import ORDER_ACCESS, Provider, Subject, register
from apps.gdpr.rows import rows


@register
class AccessProvider(Provider):
    name = "access"
    order = ORDER_ACCESS
    models = (
        "rbac.RoleBinding",
        "rbac.AccessReview",
        "guardian.UserObjectPermission",
        # The admin's view of the same guardian rows: erased with them.
        "rbac.UserObjectGrant",
    )

    def export(self, subject: Subject) -> dict[str, list[dict]]:
        from apps.rbac.models import RoleBinding

        bindings = RoleBinding.objects.filter(user_id=subject.user_id).order_by("id")
        return {"role_bindings": rows(bindings, "role__name", "scope", "created_at", "expires_at")}

    def erase(self, subject: Subject) -> dict:
        from guardian.models import UserObjectPermission

        from apps.rbac.models import AccessReview, RoleBinding

        deleted, _ = RoleBinding.objects.filter(user_id=subject.user_id).delete()
        grants, _ = UserObjectPermission.objects.filter(user_id=subject.user_id).delete()
        deleted += grants
        # Bindings and reviews the subject made as staff stay, without their name.
        unlinked = RoleBinding.objects.filter(granted_by_id=subject.user_id).update(
            granted_by=None
        ) + AccessReview.objects.filter(Q(created_by_id=subject.user_id)).update(created_by=None)
        return {"deleted": deleted, "unlinked": unlinked}
