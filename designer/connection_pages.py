"""Routes of the connections page."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
