from django.urls import path

from apps.pci import api

urlpatterns = [
    path("cards/", api.CardListView.as_view(), name="api-cards"),
    path("cards/<card_token:token>/", api.CardDetailView.as_view(), name="api-card"),
    path(
        "cards/<card_token:token>/detokenize/",
        api.DetokenizeView.as_view(),
        name="api-card-detokenize",
    ),
]
