from django.urls import path

from apps.pci import views

app_name = "pci"
urlpatterns = [
    path("<str:token>/delete/", views.delete_card, name="delete_card"),
    path("<str:token>/reveal/", views.reveal_card, name="reveal_card"),
]
