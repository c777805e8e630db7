"""Routes of the connections page."""

from django.urls import URLPattern, path

from designer import connection_views

urlpatterns: list[URLPattern] = [
    path("connections/", connection_views.connections_page, name="connections"),
]
