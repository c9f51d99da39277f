"""Pages of the second factor: the login step, re-verification, enrolment and management."""

import segno
from allauth.account.internal.flows.login import record_authentication
from allauth.account.stages import LoginStageController
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as remember_device_in_session
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from apps.accounts.mfa import services
from apps.accounts.mfa.forms import CodeForm
from apps.accounts.mfa.stage import STAGE_KEY
from apps.accounts.mfa_policy import user_must_use_mfa
from apps.accounts.models import BackupCodeDevice
from apps.accounts.redirects import is_local_path
from apps.accounts.stepup import (
    SECOND_FACTOR_METHOD,
    missing_proof_for_new_passkey,
    proof_url,
    require_recent_authentication,
)


@never_cache
@require_http_methods(["GET", "POST"])
def authenticate(request):
    """The second step of a login: nothing is signed in until a code is accepted here."""
    stage = LoginStageController.enter(request, STAGE_KEY)
    if stage is None:
        # No half-finished login in this session, or it expired: start again.
        return redirect("account_login")

    user = stage.login.user
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.verify_second_factor(user=user, code=form.cleaned_data["code"])
        if result.accepted:
            note_second_factor(request, user, result)
            # django-otp remembers the device in the session when the login completes; the
            # login also gives the session a new key.
            user.otp_device = result.device
            return stage.exit()
        form.add_error("code", result.refusal)

    return render(
        request,
        "mfa/authenticate.html",
        {"form": form, "passkey_config": _passkey_configuration(request, user)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate(request):
    """Prove the second factor again inside a signed-in session (step-up or verification)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not is_local_path(next_url):
        next_url = reverse("mfa_security")

    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.verify_second_factor(
            user=request.user, code=form.cleaned_data["code"], purpose="reauthenticate"
        )
        if result.accepted:
            note_second_factor(request, request.user, result, reauthenticated=True)
            _mark_session_verified(request, result.device)
            return redirect(next_url)
        form.add_error("code", result.refusal)

    return render(request, "mfa/reauthenticate.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET"])
def security(request):
    """The user's second factors, with what they can do about each."""
    user = request.user
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    backup = BackupCodeDevice.objects.filter(user=user, confirmed=True).first()
    return render(
        request,
        "mfa/security.html",
        {
            "totp": totp,
            "backup_codes_left": backup.remaining() if backup else None,
            "mfa_required": user_must_use_mfa(user),
            "locked": services.is_second_factor_locked(user),
            "passkeys": WebAuthnCredential.objects.filter(user=user, confirmed=True),
            "passkey_proof_url": _passkey_proof_url(request),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol_totp(request):
    """Set up an authenticator app: scan or type the secret, then prove it with a code."""
    if services.has_second_factor(request.user):
        # Replacing a working factor is a sensitive change; a first one protects more. The
        # proof must be the factor itself: a password session opened before the authenticator
        # existed would otherwise swap it for one of its own.
        return _enrol_totp_with_step_up(request)
    return _enrol_totp(request)


@require_recent_authentication(second_factor=True)
def _enrol_totp_with_step_up(request):
    return _enrol_totp(request)


def _enrol_totp(request):
    user = request.user
    device = services.pending_totp_device(user)
    if device is None or request.method == "GET":
        device = services.start_totp_enrolment(user=user)

    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        backup_codes = services.confirm_totp_enrolment(
            user=user, device=device, code=form.cleaned_data["code"]
        )
        if backup_codes is not None:
            device.refresh_from_db()
            record_authentication(request, user, SECOND_FACTOR_METHOD, type="totp")
            _mark_session_verified(request, device)
            messages.success(
                request,
                "Your authenticator app is set up. If you think someone else had access to "
                "your account, sign out your other sessions on the Sessions page.",
            )
            if backup_codes:
                return _show_backup_codes(request, backup_codes)
            return redirect("mfa_security")
        form.add_error("code", services.Refusal.WRONG)
        # The wrong code was checked against this secret; keep showing the same one.
        device = services.pending_totp_device(user) or device

    uri = device.config_url
    return render(
        request,
        "mfa/enrol_totp.html",
        {
            "form": form,
            "otpauth_uri": uri,
            "secret": _base32_secret(uri),
            "qr_svg": segno.make(uri, error="m").svg_inline(scale=4, title="Scan with your app"),
            "next": request.GET.get("next", ""),
        },
    )


@never_cache
@require_POST
@require_recent_authentication()
def regenerate_backup_codes(request):
    if not services.has_second_factor(request.user):
        return redirect("mfa_security")
    return _show_backup_codes(request, services.regenerate_backup_codes(user=request.user))


@require_POST
@require_recent_authentication()
def remove_totp(request):
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect("mfa_security")
    try:
        services.remove_device(user=request.user, device=device)
    except services.SecondFactorRequired:
        messages.error(request, "Your account requires a second factor; set up another first.")
    else:
        messages.success(request, "The authenticator app was removed.")
    return redirect("mfa_security")


@require_POST
@require_recent_authentication()
def remove_passkey(request, passkey_id):
    passkey = WebAuthnCredential.objects.filter(user=request.user, pk=passkey_id).first()
    if passkey is None:
        return redirect("mfa_security")
    try:
        services.remove_device(user=request.user, device=passkey)
    except services.SecondFactorRequired:
        messages.error(request, "Your account requires a second factor; set up another first.")
    else:
        messages.success(request, "The passkey was removed.")
    return redirect("mfa_security")


def _passkey_proof_url(request):
    """Where to prove oneself before adding a passkey, or None when this session just did."""
    urlname = missing_proof_for_new_passkey(request)
    return proof_url(urlname, reverse("mfa_security")) if urlname else None


def _passkey_configuration(request, user):
    """Settings for django-otp-webauthn's script, pointed at the stage's passkey views."""
    if not WebAuthnCredential.objects.filter(user=user, confirmed=True).exists():
        return None
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
        "beginAuthenticationUrl": reverse("mfa_passkey_begin"),
        "completeAuthenticationUrl": reverse("mfa_passkey_complete"),
    }


def _show_backup_codes(request, codes):
    response = render(
        request,
        "mfa/backup_codes.html",
        {"codes": [services.format_backup_code(code) for code in codes]},
    )
    response["Cache-Control"] = "no-store"
    return response


def note_second_factor(request, user, result, *, reauthenticated=False):
    """Record the second factor in allauth's session log, which step-up reads."""
    extra = {"reauthenticated": True} if reauthenticated else {}
    record_authentication(
        request, user, SECOND_FACTOR_METHOD, type=services._kind(result.device), **extra
    )
    if result.backup_codes_left is not None:
        messages.warning(
            request,
            f"You used a backup code. {result.backup_codes_left} remain; "
            "generate new ones on your security page when you run low.",
        )


def _mark_session_verified(request, device):
    # A session that gains a verified second factor gets a new key, as a login would.
    request.session.cycle_key()
    remember_device_in_session(request, device)


def _base32_secret(uri: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(uri).query)["secret"][0]


@login_required
@require_http_methods(["GET"])
def sessions(request):
    """Where the user is signed in: device, address, last seen; each can be ended."""
    from allauth.usersessions.models import UserSession

    listed = UserSession.objects.purge_and_list(request.user)
    return render(request, "mfa/sessions.html", {"sessions": listed})


@require_POST
@require_recent_authentication()
def end_session(request, session_id):
    from allauth.usersessions.models import UserSession

    from apps.accounts.usersessions import end_sessions

    chosen = UserSession.objects.filter(user=request.user, pk=session_id)
    end_sessions(user=request.user, sessions=[s for s in chosen if not s.is_current()])
    return redirect("account_sessions")


@require_POST
@require_recent_authentication()
def end_other_sessions(request):
    from allauth.usersessions.models import UserSession

    from apps.accounts.usersessions import end_sessions

    others = [s for s in UserSession.objects.filter(user=request.user) if not s.is_current()]
    ended = end_sessions(user=request.user, sessions=others)
    messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("account_sessions")
