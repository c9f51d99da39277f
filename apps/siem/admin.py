import csv
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.rbac.admin_access import RbacAdminMixin
from apps.rbac.services import restrict
from apps.siem import detection, forwarding, incidents, ocsf
from apps.siem.models import (
    AddressRestriction,
    DetectionRule,
    Incident,
    IncidentEntry,
    PlaybookAction,
    SecurityEvent,
)
from apps.siem.sigma import RuleError, compile_rule

EXPORT_FIELDS = [
    "id", "occurred_at", "event_type", "severity", "outcome", "actor", "subject", "service",
    "ip", "user_agent", "request_id", "details", "chain_seq", "chain_hash",
]  # fmt: skip
EXPORT_LIMIT = 100_000
# Filters the event browser accepts in its query string besides its list filters.
EVENT_LOOKUPS = {"actor", "subject", "ip", "occurred_at__gte", "occurred_at__lt"}


@admin.register(SecurityEvent)
class SecurityEventAdmin(RbacAdminMixin, admin.ModelAdmin):
    """Staff holding ``security-events:read`` read events; nobody adds, edits or deletes them
    here, whatever their role says (the table is append-only).

    Filters: type, severity and outcome on the side; actor, subject, address and a time range
    by query string (``?actor=user:42&occurred_at__gte=2026-12-01``), kept by the export links.
    """

    list_display = ["occurred_at", "event_type", "severity", "outcome", "actor", "ip", "chain_seq"]
    list_filter = ["event_type", "severity", "outcome", "service"]
    search_fields = ["actor", "subject", "ip", "request_id"]
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in SecurityEvent._meta.fields]
    actions = ["export_selected_csv", "export_selected_json"]
    change_list_template = "admin/siem/securityevent/change_list.html"
    rbac_resource = "security-events"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in EVENT_LOOKUPS or super().lookup_allowed(lookup, value, request)

    def get_actions(self, request):
        # Deleting is never offered, whatever the user's other rights.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        return [
            path(
                "export/", self.admin_site.admin_view(self.export_view), name="siem_event_export"
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """Export what the browser shows with its current filters, as CSV, JSON or OCSF."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        output = request.GET.get("format", "csv")
        params = request.GET.copy()
        params.pop("format", None)
        request.GET = params
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            # A filter that cannot be read (occurred_at__gte=yesterday): the browser shows
            # its error page; a download has none to show.
            return HttpResponseBadRequest("This filter cannot be read.")
        queryset = changelist.get_queryset(request)[:EXPORT_LIMIT]
        return export(queryset, output)

    @admin.action(description="Export selected events as CSV")
    def export_selected_csv(self, request, queryset):
        return export(queryset, "csv")

    @admin.action(description="Export selected events as JSON")
    def export_selected_json(self, request, queryset):
        return export(queryset, "json")


def export(queryset, output: str):
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    if output == "ocsf":
        payload = [forwarding.to_ocsf(event)[0] for event in queryset]
        response = JsonResponse(payload, safe=False, json_dumps_params={"default": str})
        response["Content-Disposition"] = f'attachment; filename="events-{stamp}.ocsf.json"'
        return response
    if output == "json":
        rows = list(queryset.values(*EXPORT_FIELDS))
        response = JsonResponse(rows, safe=False, json_dumps_params={"default": str})
        response["Content-Disposition"] = f'attachment; filename="events-{stamp}.json"'
        return response

    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="events-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(EXPORT_FIELDS)
    for row in queryset.values_list(*EXPORT_FIELDS):
        writer.writerow([_csv_cell(value) for value in row])
    return response


def _csv_cell(value):
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value or "")
    # A cell starting with = + - @ is a formula to spreadsheets; quote it as text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


# --- Incidents ------------------------------------------------------------------------------


class IncidentEntryInline(admin.TabularInline):
    model = IncidentEntry
    fields = ["at", "kind", "actor", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PlaybookActionInline(admin.TabularInline):
    model = PlaybookAction
    fields = ["action", "target", "state", "done_at", "result"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(RbacAdminMixin, admin.ModelAdmin):
    """The incident queue: newest first, worked through status and assignment actions.

    Pages, lists and actions go through apps.rbac: an analyst with ``incidents:*:all`` sees
    and works every incident; anyone else only those assigned to them (an object grant).
    """

    rbac_resource = "incidents"

    list_display = [
        "id", "title", "severity", "status", "assignee", "detected_at", "time_to_first_action",
    ]  # fmt: skip
    # An assignee sees the rules of their own incidents, not the name of every rule.
    list_filter = ["status", "severity", ("rule", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "group_key"]
    fields = [
        "title", "rule", "group_key", "severity", "status", "assignee", "detected_at",
        "first_action_at", "causing_events",
    ]  # fmt: skip
    readonly_fields = [
        "title", "rule", "group_key", "severity", "status", "detected_at", "first_action_at",
        "causing_events",
    ]  # fmt: skip
    inlines = [PlaybookActionInline, IncidentEntryInline]
    actions = ["acknowledge", "resolve", "mark_false_positive", "assign_to_me", "export_ocsf"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="causing events")
    def causing_events(self, obj):
        url = reverse("admin:siem_securityevent_changelist")
        return format_html(
            '<a href="{}?incidents__id__exact={}">{} event(s)</a>', url, obj.pk, obj.events.count()
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            # Only an active account can hold the grants that come with an assignment.
            kwargs["queryset"] = db_field.related_model.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Only the assignee is editable here; the service moves the grants and writes the
        # timeline.
        if "assignee" in form.changed_data:
            incidents.assign(obj, obj.assignee, actor=request.user)

    def _workable(self, request, queryset):
        # The list shows what the person may read; actions change only what they may write.
        return restrict(queryset, request.user, "write")

    def _set_status(self, request, queryset, status):
        changed = 0
        for incident in self._workable(request, queryset):
            incidents.change_status(incident, status, actor=request.user)
            changed += 1
        messages.success(request, f"{changed} incident(s) now {status}.")

    @admin.action(description="Acknowledge")
    def acknowledge(self, request, queryset):
        self._set_status(request, queryset, Incident.Status.ACKNOWLEDGED)

    @admin.action(description="Resolve")
    def resolve(self, request, queryset):
        self._set_status(request, queryset, Incident.Status.RESOLVED)

    @admin.action(description="Mark as false positive")
    def mark_false_positive(self, request, queryset):
        self._set_status(request, queryset, Incident.Status.FALSE_POSITIVE)

    @admin.action(description="Export selected incidents as OCSF detection findings")
    def export_ocsf(self, request, queryset):
        payload = [ocsf.incident_to_ocsf(incident) for incident in queryset.select_related("rule")]
        response = JsonResponse(payload, safe=False)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="incidents-{stamp}.ocsf.json"'
        return response

    @admin.action(description="Assign to me")
    def assign_to_me(self, request, queryset):
        for incident in self._workable(request, queryset):
            incidents.assign(incident, request.user, actor=request.user)


# --- Blocklist ------------------------------------------------------------------------------


class ActiveFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "in force"), ("no", "expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(until__gt=now)
        if self.value() == "no":
            return queryset.filter(until__lte=now)
        return queryset


@admin.register(AddressRestriction)
class AddressRestrictionAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_resource = "address-restrictions"
    list_display = ["ip", "kind", "until", "requests_per_minute", "reason", "incident"]
    list_filter = [ActiveFilter, "kind"]
    search_fields = ["ip", "reason"]
    fields = ["ip", "kind", "until", "requests_per_minute", "reason"]

    def save_model(self, request, obj, form, change):
        obj.created_by = obj.created_by or f"user:{request.user.pk}"
        super().save_model(request, obj, form, change)


# --- Rules ----------------------------------------------------------------------------------


class DetectionRuleForm(forms.ModelForm):
    playbook = forms.MultipleChoiceField(
        choices=DetectionRule.Action.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = DetectionRule
        fields = ["name", "enabled", "severity", "sigma_yaml", "playbook", "playbook_options"]
        widgets = {"sigma_yaml": forms.Textarea(attrs={"rows": 30, "cols": 100})}

    def clean_sigma_yaml(self):
        text = self.cleaned_data["sigma_yaml"]
        try:
            compile_rule(text)
        except RuleError as error:
            raise forms.ValidationError(f"Sigma rule does not parse: {error}") from error
        return text


class RuleTesterForm(forms.Form):
    sigma_yaml = forms.CharField(
        label="Rule (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100}),
        help_text="Leave empty to run every stored rule.",
    )
    samples = forms.CharField(
        label="Sample events",
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100}),
        help_text='A JSON list of events, e.g. [{"event_type": "auth.login.failure", '
        '"ip": "203.0.113.5", "details": {"identifier": "casey@example.com"}}]',
    )

    def clean_samples(self):
        try:
            samples = json.loads(self.cleaned_data["samples"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"not JSON: {error.msg} at line {error.lineno}") from error
        if isinstance(samples, dict):
            samples = [samples]
        if not isinstance(samples, list) or not all(isinstance(s, dict) for s in samples):
            raise forms.ValidationError("give a list of JSON objects")
        return samples

    def clean_sigma_yaml(self):
        text = self.cleaned_data["sigma_yaml"].strip()
        if not text:
            return None
        try:
            return compile_rule(text)
        except RuleError as error:
            raise forms.ValidationError(f"Sigma rule does not parse: {error}") from error


@admin.register(DetectionRule)
class DetectionRuleAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_resource = "detection-rules"
    form = DetectionRuleForm
    list_display = ["name", "enabled", "severity", "playbook", "updated_at"]
    list_filter = ["enabled", "severity"]
    change_list_template = "admin/siem/detectionrule/change_list.html"

    def get_urls(self):
        tester = self.admin_site.admin_view(self.tester_view)
        return [path("tester/", tester, name="siem_rule_tester"), *super().get_urls()]

    def tester_view(self, request):
        """Paste sample events (and optionally a rule) and see which rules would fire."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RuleTesterForm(request.POST or None)
        results = None
        if request.method == "POST" and form.is_valid():
            samples = form.cleaned_data["samples"]
            pasted = form.cleaned_data["sigma_yaml"]
            if pasted is not None:
                results = [
                    {"rule": "(pasted rule)", **detection.evaluate_samples(pasted, samples)}
                ]
            else:
                results = detection.try_rules(samples)
        context = {
            **self.admin_site.each_context(request),
            "title": "Test detection rules",
            "form": form,
            "results": results,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/siem/rule_tester.html", context)
