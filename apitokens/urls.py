from django.urls import path

from . import views

app_name = "apitokens"

urlpatterns = [
    path("", views.token_list, name="tokens"),
    path("<int:token_pk>/revoke/", views.token_revoke, name="token_revoke"),
]
