from django.urls import path

from apps.rbac import api

urlpatterns = [
    path("authz/check/", api.CheckView.as_view(), name="rbac-check"),
    path("authz/objects/", api.ObjectsView.as_view(), name="rbac-objects"),
]
