"""One router for the whole API, so that /api/ lists every app's endpoints."""
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from assets.api.urls import routes as assets_routes
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
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    *reports_urlpatterns,
    *router.urls,
]
