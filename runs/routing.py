"""WebSocket routes."""

from django.urls import path

from runs.consumers import BoardConsumer, RunConsumer

websocket_urlpatterns = [
    path("ws/board/", BoardConsumer.as_asgi()),
    path("ws/runs/<int:run_id>/", RunConsumer.as_asgi()),
]
