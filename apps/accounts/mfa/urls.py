from django.urls import include, path
from django_otp_webauthn import urls as package_urls

from apps.accounts.mfa import passkeys, views

webauthn_patterns = [
    path(
        "registration/begin/",
        passkeys.BeginPasskeyRegistrationView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        passkeys.CompletePasskeyRegistrationView.as_view(),
        name="credential-registration-complete",
    ),
    # The package's own: authentication (closed to anyone not signed in) and translations.
    *(p for p in package_urls.urlpatterns if "registration" not in str(p.pattern)),
]

urlpatterns = [
    path("accounts/2fa/authenticate/", views.authenticate, name="mfa_authenticate"),
    path(
        "accounts/2fa/passkey/begin/",
        passkeys.BeginStagePasskeyView.as_view(),
        name="mfa_passkey_begin",
    ),
    path(
        "accounts/2fa/passkey/complete/",
        passkeys.CompleteStagePasskeyView.as_view(),
        name="mfa_passkey_complete",
    ),
    path(
        "accounts/passkey/begin/",
        passkeys.BeginPasskeySignInView.as_view(),
        name="passkey_sign_in_begin",
    ),
    path(
        "accounts/passkey/complete/",
        passkeys.CompletePasskeySignInView.as_view(),
        name="passkey_sign_in_complete",
    ),
    # Registration of passkeys by signed-in users (behind step-up), under the package's names
    # so its script finds them, and the package's other views.
    path("webauthn/", include((webauthn_patterns, "otp_webauthn"))),
    path("account/security/", views.security, name="mfa_security"),
    path("account/security/verify/", views.reauthenticate, name="mfa_reauthenticate"),
    path("account/security/totp/", views.enrol_totp, name="mfa_totp_enrol"),
    path("account/security/totp/remove/", views.remove_totp, name="mfa_totp_remove"),
    path(
        "account/security/backup-codes/",
        views.regenerate_backup_codes,
        name="mfa_backup_codes_regenerate",
    ),
    path(
        "account/security/passkeys/<id:passkey_id>/remove/",
        views.remove_passkey,
        name="mfa_passkey_remove",
    ),
    path("account/sessions/", views.sessions, name="account_sessions"),
    path("account/sessions/others/end/", views.end_other_sessions, name="account_end_others"),
    path("account/sessions/<id:session_id>/end/", views.end_session, name="account_end_session"),
]
