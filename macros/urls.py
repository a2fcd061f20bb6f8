from django.urls import path

from . import views

app_name = "macros"

urlpatterns = [
    path("macros/", views.macro_list, name="list"),
    path("macros/new/", views.macro_create, name="create"),
    path("macros/<int:pk>/", views.macro_edit, name="edit"),
    path("cases/<int:pk>/macro/", views.case_macro_insert, name="case_macro_insert"),
]
