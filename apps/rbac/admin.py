"""Admin pages for roles, bindings, object grants and access reviews.

Every page is opened by ``authorize()`` (``RbacAdminMixin``, in ``apps.rbac.admin_access``),
like every other admin page, and every change goes through ``apps.rbac.services``, which
records who did it, what changed and the reason the form demands. Bindings and grants are
never edited in place: they are granted, and revoked with a reason.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.rbac import registry, services
from apps.rbac.admin_access import RbacAdminMixin
from apps.rbac.decisions import authorize_every_object
from apps.rbac.middleware import record_denial
from apps.rbac.models import AccessReview, GroupObjectGrant, Role, RoleBinding, UserObjectGrant
from apps.rbac.reports import to_csv, to_json
from apps.siem.events import emit


def ask_reason(modeladmin, request, queryset, *, question, confirm_label, apply):
    """An admin action that asks why before it acts, then applies ``apply(obj, reason)``."""
    reason = request.POST.get("reason", "").strip()
    if request.POST.get("confirm") and reason:
        for obj in queryset:
            apply(obj, reason)
        modeladmin.message_user(request, f"Done for {len(queryset)} item(s).", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": question,
        "question": question,
        "items": [str(obj) for obj in queryset],
        "ids": [obj.pk for obj in queryset],
        "action": request.POST.get("action"),
        "confirm_label": confirm_label,
    }
    return TemplateResponse(request, "admin/rbac/reason_form.html", context)


def refuse_a_grant_to_oneself(request, *, user=None, group=None) -> None:
    """Four eyes on access: nobody hands a role or an object grant to themselves.

    Whoever may bind roles (``role-bindings:write``) or grant objects could otherwise make
    themselves an administrator, or reader of any card, in one form. Through a group they
    belong to counts as to themselves. Another person must grant it, and is recorded doing so.
    """
    if user is not None and user.pk == request.user.pk:
        raise PermissionDenied
    if group is not None and request.user.groups.filter(pk=group.pk).exists():
        raise PermissionDenied


# --- Roles -------------------------------------------------------------------------------


class RoleForm(forms.ModelForm):
    change_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why")

    class Meta:
        model = Role
        fields = ["name", "description", "requires_mfa", "permissions"]


@admin.register(Role)
class RoleAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_resource = "roles"
    form = RoleForm
    list_display = ["name", "requires_mfa", "description"]
    filter_horizontal = ["permissions"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        # Roles are retired by emptying them, which keeps their history readable.
        return False

    def save_form(self, request, form, change):
        # Four eyes: changing a role one holds, personally or through a group, is granting
        # oneself whatever it gains (roles:write would add *:*:all to one's own role).
        holders = Q(user=request.user) | Q(group__in=request.user.groups.all())
        if change and form.instance.bindings.filter(holders).exists():
            raise PermissionDenied
        return super().save_form(request, form, change)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {k: data[k] for k in ("name", "description", "requires_mfa")}
        if change:
            services.update_role(obj, changed_by=request.user, reason=data["change_reason"],
                                 permissions=data["permissions"], **fields)  # fmt: skip
        else:
            role = services.create_role(
                **fields, permissions=data["permissions"], created_by=request.user,
                reason=data["change_reason"],
            )  # fmt: skip
            obj.pk, obj.created_at = role.pk, role.created_at

    def save_related(self, request, form, formsets, change):
        """The service already set the permissions, inside the recorded change."""


# --- Bindings ----------------------------------------------------------------------------


class RoleBindingForm(forms.ModelForm):
    class Meta:
        model = RoleBinding
        fields = ["role", "user", "group", "scope", "expires_at", "reason"]

    def clean(self):
        data = super().clean()
        # What the service would refuse is refused here, beside the field, not by an error page.
        parts = {name: data.get(name) for name in ("user", "group", "expires_at")}
        services.check_binding(**parts, scope=data.get("scope") or "")
        return data


@admin.register(RoleBinding)
class RoleBindingAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_resource = "role-bindings"
    rbac_actions = {"view": "read", "add": "write", "change": "write", "delete": "write"}
    form = RoleBindingForm
    list_display = ["role", "user", "group", "scope", "expires_at", "granted_by", "last_used_at"]
    list_filter = ["role"]
    raw_id_fields = ["user", "group"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return [*RoleBindingForm.Meta.fields, "granted_by", "created_at"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # revoked with a reason through the action instead

    def save_form(self, request, form, change):
        if not change:
            data = form.cleaned_data
            refuse_a_grant_to_oneself(request, user=data.get("user"), group=data.get("group"))
        return super().save_form(request, form, change)

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        try:
            binding = services.bind_role(
                role=data["role"], user=data["user"], group=data["group"], scope=data["scope"],
                expires_at=data["expires_at"], granted_by=request.user, reason=data["reason"],
            )  # fmt: skip
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            raise
        obj.pk = binding.pk

    @admin.action(description="Revoke selected bindings")
    def revoke(self, request, queryset):
        if not self._rbac(request, "delete"):
            return None
        return ask_reason(
            self, request, queryset, question="Revoke these role bindings?",
            confirm_label="Revoke",
            apply=lambda b, why: services.revoke_binding(b, revoked_by=request.user, reason=why),
        )  # fmt: skip


# --- Object grants -----------------------------------------------------------------------


class ObjectGrantForm(forms.ModelForm):
    """The holder comes from the model; the rest names the object and says why."""

    resource = forms.ChoiceField(choices=())
    object_id = forms.CharField(max_length=64)
    action = forms.SlugField(max_length=64, initial="read")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = UserObjectGrant
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [
            (d.resource, d.resource) for d in registry.declarations()
        ]

    def clean(self):
        data = super().clean()
        declaration = registry.for_resource(data.get("resource", ""))
        if declaration is None or "object_id" not in data:
            return data
        try:
            data["object"] = declaration.model.objects.get(pk=data["object_id"])
        except (declaration.model.DoesNotExist, ValidationError, ValueError):
            raise ValidationError({"object_id": "No such object."}) from None
        return data


class _ObjectGrantAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_resource = "object-grants"
    rbac_actions = {"view": "read", "add": "write", "change": "write", "delete": "write"}
    holder_field: str
    form = ObjectGrantForm
    list_display = ["__str__", "content_type", "object_pk"]
    actions = ["revoke"]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": [self.holder_field, "resource", "object_id", "action", "reason"]})
        ]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked with a reason through the action instead

    def save_form(self, request, form, change):
        data = form.cleaned_data
        refuse_a_grant_to_oneself(request, **{self.holder_field: data.get(self.holder_field)})
        # Nobody passes on what they may not do themselves: an officer who reads customers
        # shares reading one, never deleting it or revealing a card's number.
        if not services.authorize(request.user, data["action"], data["resource"], data["object"]):
            raise PermissionDenied
        return super().save_form(request, form, change)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.grant_object_permission(
            data["object"], data["action"], granted_by=request.user, reason=data["reason"],
            **{self.holder_field: data[self.holder_field]},
        )  # fmt: skip
        holder = data[self.holder_field]
        row = (
            self.model.objects.filter(
                object_pk=str(data["object"].pk), **{self.holder_field: holder}
            )
            .order_by("-pk")
            .first()
        )
        # The admin logs and redirects with this object: give it the row the service wrote.
        obj.pk, obj.permission_id = row.pk, row.permission_id
        obj.content_type_id, obj.object_pk = row.content_type_id, row.object_pk

    def save_related(self, request, form, formsets, change):
        """Nothing else to save: the grant is one row."""

    def response_add(self, request, obj, post_url_continue=None):
        return redirect(reverse(f"admin:rbac_{self.model._meta.model_name}_changelist"))

    # Revoking changes grants: reading them (object-grants:read) does not offer it.
    @admin.action(description="Revoke selected object grants", permissions=["change"])
    def revoke(self, request, queryset):
        def apply(row, why):
            from apps.rbac.reports import _action_of

            services.revoke_object_permission(
                row.content_object, _action_of(row.permission.codename), revoked_by=request.user,
                reason=why, **{self.holder_field: getattr(row, self.holder_field)},
            )  # fmt: skip

        return ask_reason(self, request, queryset, question="Revoke these object grants?",
                          confirm_label="Revoke", apply=apply)  # fmt: skip


@admin.register(UserObjectGrant)
class UserObjectGrantAdmin(_ObjectGrantAdmin):
    holder_field = "user"
    raw_id_fields = ["user"]


@admin.register(GroupObjectGrant)
class GroupObjectGrantAdmin(_ObjectGrantAdmin):
    holder_field = "group"
    raw_id_fields = ["group"]


# --- Access reviews ----------------------------------------------------------------------


@admin.register(AccessReview)
class AccessReviewAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_resource = "access-reviews"
    list_display = ["__str__", "created_by", "created_at", "exports"]
    readonly_fields = ["created_by", "created_at", "entries", "exports"]
    fields = readonly_fields

    def has_add_permission(self, request):
        # A review holds every binding and grant of every partner, so only an unscoped grant
        # takes one: a person bound to partner:42 holds access-reviews:create:partner:42.
        return authorize_every_object(request.user, "create", self.rbac_resource).allowed

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Export")
    def exports(self, review):
        from django.utils.html import format_html

        csv_url = reverse("admin:rbac_accessreview_export", args=[review.pk, "csv"])
        json_url = reverse("admin:rbac_accessreview_export", args=[review.pk, "json"])
        return format_html('<a href="{}">CSV</a> · <a href="{}">JSON</a>', csv_url, json_url)

    def add_view(self, request, form_url="", extra_context=None):
        """Adding a review means taking one now: there is nothing to type."""
        if not self.has_add_permission(request):
            record_denial(request, user=request.user, resource=self.rbac_resource,
                          action="create", reason="admin add refused")  # fmt: skip
            return HttpResponse(status=403)
        if request.method != "POST":
            return TemplateResponse(request, "admin/rbac/reason_form.html", {
                **self.admin_site.each_context(request), "title": "Take an access review",
                "question": "Record who holds which role and grant right now?",
                "items": [], "ids": [], "action": "", "confirm_label": "Take the review",
            })  # fmt: skip
        review = services.take_access_review(taken_by=request.user)
        return redirect(reverse("admin:rbac_accessreview_change", args=[review.pk]))

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_view)
        return [
            path("<uuid:pk>/export.<str:fmt>", export, name="rbac_accessreview_export"),
            *super().get_urls(),
        ]

    def export_view(self, request, pk, fmt):
        # Someone who may read no review is refused (and recorded) like on every page; a
        # review outside what they may read is not found, like one that does not exist.
        if not self.has_view_permission(request):
            raise PermissionDenied
        review = get_object_or_404(self.get_queryset(request), pk=pk)
        if fmt not in {"csv", "json"} or not self.has_view_permission(request, review):
            return HttpResponse(status=404)
        emit(
            "data.access",
            actor=request.user,
            subject=f"access-review:{review.pk}",
            details={"export": fmt, "entries": len(review.entries)},
        )
        body, kind = (
            (to_csv(review.entries), "text/csv") if fmt == "csv" else (to_json(review.entries),
                                                                        "application/json")
        )  # fmt: skip
        response = HttpResponse(body, content_type=f"{kind}; charset=utf-8")
        filename = f"access-review-{review.created_at:%Y%m%d-%H%M}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
