"""The reports' API paths (/api/compliance/, /api/reports/...); config/api.py mounts them beside the router.

Reports computed over the whole register are plain API views (`urlpatterns`); the issued report PDFs are
records, with a viewset on the one router (`routes`).
"""
from reports.api import analytics, compliance, dashboard, documents

routes = [*documents.routes]
urlpatterns = [*compliance.urlpatterns, *analytics.urlpatterns, *documents.urlpatterns, *dashboard.urlpatterns]
