from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("<str:token>/", views.rate, name="rate"),
    path("<str:token>/comment/", views.comment, name="comment"),
]
