from django.urls import path

from apps.pci import views

app_name = "pci"
urlpatterns = [
    path("<card_token:token>/delete/", views.delete_card, name="delete_card"),
    path("<card_token:token>/reveal/", views.reveal_card, name="reveal_card"),
]
