"""The reports' API paths (/api/compliance/, /api/reports/...); config/api.py mounts them beside the router.

Reports are reads computed over the whole register, not records: plain API views, not viewsets.
"""
from reports.api import analytics, compliance, documents

routes: list = []
urlpatterns = [*compliance.urlpatterns, *analytics.urlpatterns, *documents.urlpatterns]
