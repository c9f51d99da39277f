from django.urls import path

from apps.siem.api import EventIngestView

urlpatterns = [path("events/", EventIngestView.as_view(), name="siem-event-ingest")]
