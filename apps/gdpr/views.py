"""The subject's own privacy page: requests, the export download, consents."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.stepup import require_recent_authentication
from apps.gdpr import services
from apps.gdpr.downloads import ExportUnavailable, claim_download
from apps.gdpr.models import ConsentPurpose, ConsentRecord, DataSubjectRequest

# Filing a request and downloading an archive need a password or second factor given in the
# last few minutes, so that an unattended signed-in browser cannot do either.
sensitive = require_recent_authentication()


def _own_requests(user):
    return DataSubjectRequest.objects.filter(subject=user).select_related("archive")


@login_required
@require_GET
def privacy_overview(request):
    purposes = ConsentPurpose.objects.filter(is_active=True).order_by("slug", "-version")
    latest_versions = {}
    for purpose in purposes:
        latest_versions.setdefault(purpose.slug, purpose)
    current = services.current_consents(request.user)
    consents = [
        {
            "purpose": purpose,
            "record": current.get(slug),
            # A grant of an older text does not cover the current one.
            "granted": bool(
                current.get(slug)
                and current[slug].granted
                and current[slug].purpose.version == purpose.version
            ),
        }
        for slug, purpose in latest_versions.items()
    ]
    return render(
        request,
        "privacy/overview.html",
        {
            "requests": _own_requests(request.user).order_by("-received_at"),
            "consents": consents,
            "history": ConsentRecord.objects.filter(user=request.user).select_related("purpose")[
                :20
            ],
        },
    )


@login_required
@require_POST
@sensitive
def file_request(request):
    kind = request.POST.get("kind")
    if kind not in DataSubjectRequest.Kind.values:
        messages.error(request, "Choose an export or an erasure.")
        return redirect("privacy_overview")
    open_same_kind = (
        _own_requests(request.user)
        .filter(kind=kind)
        .exclude(state__in=["completed", "rejected", "cancelled", "failed"])
    )
    if open_same_kind.exists():
        messages.info(request, "You already have an open request of this kind.")
        return redirect("privacy_overview")

    services.file_request(
        kind=kind, subject=request.user, channel=DataSubjectRequest.Channel.USER, by=request.user
    )
    messages.success(request, "Your request has been received.")
    return redirect("privacy_overview")


@login_required
@require_POST
def cancel_request(request, request_id: int):
    dsr = get_object_or_404(_own_requests(request.user), pk=request_id)
    try:
        services.cancel_request(dsr, by=request.user)
    except ValidationError:
        messages.error(request, "This request can no longer be cancelled.")
    else:
        messages.success(request, "Your request has been cancelled.")
    return redirect("privacy_overview")


@login_required
@require_POST
@sensitive
def download_export(request, request_id: int):
    try:
        content = claim_download(request_id=request_id, by=request.user)
    except ExportUnavailable:
        raise Http404("No export to download") from None
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="portal-export-{request_id}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def change_consent(request):
    try:
        purpose = ConsentPurpose.objects.get(
            pk=int(request.POST.get("purpose", "")), is_active=True
        )
    except (ValueError, ConsentPurpose.DoesNotExist):
        messages.error(request, "Unknown purpose.")
        return redirect("privacy_overview")
    granted = request.POST.get("granted") == "1"
    services.record_consent(
        user=request.user,
        purpose=purpose,
        granted=granted,
        source=ConsentRecord.Source.PRIVACY_PAGE,
        by=request.user,
    )
    messages.success(request, "Your choice has been saved.")
    return redirect("privacy_overview")
