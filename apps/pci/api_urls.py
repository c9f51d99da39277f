from django.urls import path

from apps.pci import api

urlpatterns = [
    path("cards/", api.CardListView.as_view(), name="api-cards"),
    path("cards/<str:token>/", api.CardDetailView.as_view(), name="api-card"),
    path(
        "cards/<str:token>/detokenize/", api.DetokenizeView.as_view(), name="api-card-detokenize"
    ),
]
