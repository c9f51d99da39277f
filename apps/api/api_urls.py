from django.urls import path

from apps.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="api-token"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="api-token-refresh"),
    path("auth/token/verify/", views.TokenVerifyView.as_view(), name="api-token-verify"),
    path("auth/logout/", views.LogoutView.as_view(), name="api-logout"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("me/sessions/", views.MySessionsView.as_view(), name="api-my-sessions"),
    path("me/sessions/<uuid:session_id>/", views.MySessionView.as_view(), name="api-my-session"),
    path("me/devices/", views.MyDevicesView.as_view(), name="api-my-devices"),
    path("health/", views.HealthView.as_view(), name="api-health"),
]
