from django.urls import path

from apps.gdpr import views

urlpatterns = [
    path("privacy/", views.privacy_overview, name="privacy_overview"),
    path("privacy/requests/", views.file_request, name="privacy_file_request"),
    path(
        "privacy/requests/<id:request_id>/cancel/",
        views.cancel_request,
        name="privacy_cancel_request",
    ),
    path(
        "privacy/requests/<id:request_id>/download/",
        views.download_export,
        name="privacy_download_export",
    ),
    path("privacy/consents/", views.change_consent, name="privacy_change_consent"),
]
