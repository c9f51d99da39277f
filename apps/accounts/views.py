from allauth.account.models import EmailAddress
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from apps.siem.events import reference
from apps.siem.models import SecurityEvent

RECENT_EVENTS_SHOWN = 10


@require_GET
def home(request):
    return redirect("account_overview" if request.user.is_authenticated else "account_login")


@login_required
@require_GET
def account_overview(request):
    """The signed-in user's own account: addresses, verification and recent security events."""
    user = request.user
    addresses = EmailAddress.objects.filter(user=user).order_by("-primary", "email")
    recent_events = SecurityEvent.objects.filter(subject=reference(user)).only(
        "occurred_at", "event_type", "outcome", "ip"
    )[:RECENT_EVENTS_SHOWN]

    return render(
        request,
        "account/overview.html",
        {
            "addresses": addresses,
            "primary_verified": any(a.primary and a.verified for a in addresses),
            "has_usable_password": user.has_usable_password(),
            "recent_events": recent_events,
        },
    )
