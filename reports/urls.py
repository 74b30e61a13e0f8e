"""The reports' pages (/reports/): the compliance check, the analytics with their charts, the report PDFs."""
from reports.views import analytics, compliance, documents

app_name = "reports"
urlpatterns = [*compliance.urlpatterns, *analytics.urlpatterns, *documents.urlpatterns]
