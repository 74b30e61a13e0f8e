"""One router for the whole API, so that /api/ lists every app's endpoints."""
from django.urls import path
from csp.constants import SELF
from csp.decorators import csp_replace
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from assets.api.urls import routes as assets_routes
from core.api.tokens import AuthTokenView
from core.api.urls import routes as core_routes
from donations.api.urls import routes as donations_routes
from faults.api.urls import routes as faults_routes
from loans.api.urls import routes as loans_routes
from reports.api.urls import routes as reports_routes
from reports.api.urls import urlpatterns as reports_urlpatterns
from wipe.api.urls import routes as wipe_routes

router = DefaultRouter()
for prefix, viewset, basename in [*assets_routes, *loans_routes, *faults_routes, *wipe_routes, *donations_routes,
                                  *core_routes, *reports_routes]:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("auth/token/", AuthTokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's initialising script comes from a URL (the split view), so the strict policy holds.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
    # ReDoc styles itself with inline <style> elements and renders in a blob: worker: its page alone
    # allows both.
    path("redoc/", csp_replace({"style-src": [SELF, "'unsafe-inline'"], "worker-src": [SELF, "blob:"]})(
        SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")), name="api-redoc"),
    *reports_urlpatterns,
    *router.urls,
]
