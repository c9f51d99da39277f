from rest_framework.routers import SimpleRouter

from apps.gdpr.api import RequestViewSet

router = SimpleRouter()
router.register("privacy/requests", RequestViewSet, basename="privacy-request")

urlpatterns = router.urls
