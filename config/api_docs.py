"""The API docs page: Swagger UI over the OpenAPI schema, served from this host."""

from django.contrib.auth.decorators import login_required
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI in the site's layout.

    The split view sends its start-up script as a file of its own (`?script`), so the
    page needs no inline script under the Content-Security-Policy; the Swagger UI files
    come from drf-spectacular-sidecar through staticfiles (no CDN).
    """

    template_name = "api_docs.html"
    permission_classes = [IsAuthenticated]
    url_name = "schema"


# Signed-out people are sent to the login page, like every other page.
api_docs = login_required(ApiDocsView.as_view())
