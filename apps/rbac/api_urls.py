from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.rbac import api

router = SimpleRouter()
router.register("access-reviews", api.AccessReviewViewSet, basename="access-review")

urlpatterns = [
    path("authz/check/", api.CheckView.as_view(), name="rbac-check"),
    path("authz/objects/", api.ObjectsView.as_view(), name="rbac-objects"),
    *router.urls,
]
