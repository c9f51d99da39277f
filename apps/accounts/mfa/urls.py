from django.urls import include, path

from apps.accounts.mfa import passkeys, views

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
    # Registration of passkeys by signed-in users, and the package's script translations.
    path("webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
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
        "account/security/passkeys/<int:passkey_id>/remove/",
        views.remove_passkey,
        name="mfa_passkey_remove",
    ),
    path("account/sessions/", views.sessions, name="account_sessions"),
    path("account/sessions/others/end/", views.end_other_sessions, name="account_end_others"),
    path("account/sessions/<int:session_id>/end/", views.end_session, name="account_end_session"),
]
