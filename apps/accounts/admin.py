from allauth.usersessions import admin as usersessions_admin
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Q
from django.shortcuts import render

from apps.accounts.mfa.forms import RecoveryForm
from apps.accounts.mfa.services import recover_second_factor
from apps.accounts.models import Profile, User
from apps.core.crypto.admin import EncryptedFieldsAdminMixin
from apps.rbac.admin_access import RbacAdminMixin


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = ["email", "password", "is_active", "is_staff", "is_superuser", "groups"]


@admin.register(User)
class UserAdmin(RbacAdminMixin, DjangoUserAdmin):
    # Accounts have no owner or partner to narrow by: only an unscoped grant opens them.
    rbac_resource = "users"
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ["email"]
    list_display = ["email", "is_active", "is_staff", "date_joined", "last_login"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "usable_password", "password1", "password2"],
            },
        )
    ]
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ["groups"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    actions = ["reset_second_factors"]

    @admin.action(
        description="Reset second factors after an identity check", permissions=["change"]
    )
    def reset_second_factors(self, request, queryset):
        """For a user who lost every factor: staff confirm how they checked who it is first."""
        form = RecoveryForm(request.POST if "identity_check" in request.POST else None)
        if form.is_valid():
            for user in queryset:
                recover_second_factor(
                    user=user,
                    acting_user=request.user,
                    identity_check=form.cleaned_data["identity_check"],
                )
            self.message_user(request, f"Second factors reset for {queryset.count()} user(s).")
            return None
        return render(
            request,
            "admin/accounts/user/reset_second_factors.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reset second factors",
                "users": queryset,
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(Profile)
class ProfileAdmin(RbacAdminMixin, EncryptedFieldsAdminMixin, admin.ModelAdmin):
    """Read-only for staff; people change their own details. Every view is an access event.

    The search box takes a phone number and finds it through the blind index: the database
    holds no readable phone numbers to search.
    """

    rbac_resource = "profiles"
    list_display = ["user", "first_name", "last_name", "phone"]
    list_select_related = ["user"]
    fields = ["user", "first_name", "last_name", "phone", "date_of_birth", "address"]
    # National ids are not shown to staff at all; the profile page shows them to their owner.
    readonly_fields = fields
    search_fields = ["phone_index"]
    search_help_text = (
        "Exact phone number or national id, written any way (spaces and dashes are ignored)."
    )
    ordering = ["pk"]

    def get_search_results(self, request, queryset, search_term):
        # Both are ciphertext: only their blind indexes can be compared, and only exactly. The
        # national id itself is never shown to staff; finding whose it is, is allowed.
        if not search_term.strip():
            return queryset, False
        matches = Q(phone_index__matches=search_term) | Q(national_id_index__matches=search_term)
        return queryset.filter(matches), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# allauth's own page for sessions searches user__username, which our accounts lack: every
# search was a 500. Importing its admin module above registered that page already (this app
# comes first in INSTALLED_APPS); ours replaces it.
admin.site.unregister(UserSession)


@admin.register(UserSession)
class UserSessionAdmin(RbacAdminMixin, usersessions_admin.UserSessionAdmin):
    rbac_resource = "user-sessions"
    search_fields = ["user__pk", "user__email", "ip"]
