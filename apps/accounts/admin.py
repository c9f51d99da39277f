from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.shortcuts import render

from apps.accounts.mfa.forms import RecoveryForm
from apps.accounts.mfa.services import recover_second_factor
from apps.accounts.models import User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = ["email", "password", "is_active", "is_staff", "is_superuser", "groups"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
