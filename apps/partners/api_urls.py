from rest_framework.routers import SimpleRouter

from apps.partners.api import CustomerViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = router.urls
