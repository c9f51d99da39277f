"""The request queue for compliance staff: oldest deadline first, overdue ones marked."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html

from apps.gdpr import services
from apps.gdpr.models import ConsentPurpose, ConsentRecord, DataSubjectRequest, RequestStep
from apps.rbac.admin_access import RbacAdminMixin
from apps.rbac.services import restrict


class RequestStepInline(admin.TabularInline):
    model = RequestStep
    fields = ["position", "provider", "state", "runs", "started_at", "finished_at", "summary"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, max_length=2000)


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(RbacAdminMixin, admin.ModelAdmin):
    # Opened and narrowed by apps.rbac: an officer bound to one partner works its requests only.
    rbac_resource = "privacy-requests"
    list_display = ["id", "kind", "subject_ref", "channel", "state_label", "received_at",
                    "deadline_label"]  # fmt: skip
    list_filter = ["state", "kind", "channel"]
    search_fields = ["subject_ref"]
    ordering = ["due_at", "id"]
    inlines = [RequestStepInline]
    actions = ["approve", "reject"]
    readonly_fields = [
        "kind", "subject_ref", "customer_ids", "channel", "filed_by_ref", "partner", "state",
        "received_at", "due_at", "extended_until", "extension_reason", "decided_by_ref",
        "decision_reason", "not_before", "attempts", "completed_at", "overdue_alerted_at",
        "scan_result", "failure",
    ]  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request):
        # Staff file requests through the service with the subject verified; see docs/gdpr.md.
        return False

    def has_delete_permission(self, request, obj=None):
        # A request is the proof that a right was exercised; it is never deleted.
        return False

    @admin.display(description="state", ordering="state")
    def state_label(self, obj):
        if obj.is_overdue:
            return format_html('<strong class="overdue" style="color:#b00">{} (overdue)</strong>',
                               obj.get_state_display())  # fmt: skip
        return obj.get_state_display()

    @admin.display(description="deadline", ordering="due_at")
    def deadline_label(self, obj):
        if obj.is_overdue:
            return format_html('<strong style="color:#b00">{}</strong>', obj.deadline.date())
        return obj.deadline.date()

    @admin.action(description="Approve the selected requests", permissions=["change"])
    def approve(self, request, queryset):
        done = 0
        for dsr in self._workable(request, queryset):
            try:
                services.approve_request(dsr, by=request.user, reason="approved in the admin")
                done += 1
            except ValidationError as error:
                self.message_user(request, f"#{dsr.pk}: {error.messages[0]}", messages.WARNING)
        self.message_user(request, f"{done} request(s) approved.")

    @admin.action(description="Reject the selected requests (asks for a reason)",
                  permissions=["change"])  # fmt: skip
    def reject(self, request, queryset):
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if not form.is_valid():
            return render(
                request,
                "admin/gdpr/reject_reason.html",
                {**self.admin_site.each_context(request), "form": form, "queryset": queryset,
                 "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME},
            )  # fmt: skip
        done = 0
        for dsr in self._workable(request, queryset):
            try:
                services.reject_request(dsr, by=request.user, reason=form.cleaned_data["reason"])
                done += 1
            except ValidationError as error:
                self.message_user(request, f"#{dsr.pk}: {error.messages[0]}", messages.WARNING)
        self.message_user(request, f"{done} request(s) rejected.")
        return None

    def _workable(self, request, queryset):
        # The list shows what the person may read; a decision changes only what they may write.
        return restrict(queryset, request.user, "write")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "now": timezone.now()}
        return super().changelist_view(request, extra_context)


@admin.register(ConsentPurpose)
class ConsentPurposeAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_resource = "consent-purposes"
    list_display = ["slug", "version", "title", "is_active"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(RbacAdminMixin, admin.ModelAdmin):
    """The consent history: every grant and withdrawal as recorded, never changed here."""

    rbac_resource = "consents"
    list_display = ["recorded_at", "user", "purpose", "granted", "source"]
    list_filter = ["source", "granted"]
    readonly_fields = ["user", "purpose", "granted", "recorded_at", "source"]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
