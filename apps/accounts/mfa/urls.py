from django.urls import path

from apps.accounts.mfa import views

urlpatterns = [
    path("accounts/2fa/authenticate/", views.authenticate, name="mfa_authenticate"),
    path("account/security/", views.security, name="mfa_security"),
    path("account/security/verify/", views.reauthenticate, name="mfa_reauthenticate"),
    path("account/security/totp/", views.enrol_totp, name="mfa_totp_enrol"),
    path("account/security/totp/remove/", views.remove_totp, name="mfa_totp_remove"),
    path(
        "account/security/backup-codes/",
        views.regenerate_backup_codes,
        name="mfa_backup_codes_regenerate",
    ),
    path("account/sessions/", views.sessions, name="account_sessions"),
    path("account/sessions/others/end/", views.end_other_sessions, name="account_end_others"),
    path("account/sessions/<int:session_id>/end/", views.end_session, name="account_end_session"),
]
