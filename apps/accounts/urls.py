from django.urls import path

from apps.accounts import social_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.account_overview, name="account_overview"),
    path(
        "account/connections/link/",
        social_views.confirm_social_link,
        name="social_link_confirm",
    ),
    path("account/profile/", views.profile, name="account_profile"),
]
