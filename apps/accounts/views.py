from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.forms import ProfileForm
from apps.accounts.models import Profile
from apps.accounts.profile_services import update_profile
from apps.accounts.stepup import require_recent_authentication
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


@login_required
@require_recent_authentication()
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in user's personal details, decrypted for them alone.

    Shown and changed only within five minutes of a password (or second factor) given again:
    a session left open on a shared computer neither reads the national id nor rewrites the
    details. The form is guarded as well as the save, so the password is asked before anything
    is typed, not after.
    """
    instance = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    form = ProfileForm(request.POST or None, instance=instance, user=request.user)

    if request.method == "POST" and form.is_valid():
        try:
            update_profile(request.user, actor=request.user, changes=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your details were saved.")
            return redirect("account_profile")

    return render(request, "account/profile.html", {"form": form})
