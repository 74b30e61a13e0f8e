"""The core's API routes; config/api.py mounts them on the one API router."""
from core.api.views import ImportBatchViewSet, JobViewSet, StoredDocumentViewSet

routes = [("documents", StoredDocumentViewSet, "document"), ("imports", ImportBatchViewSet, "import-batch"),
          ("jobs", JobViewSet, "job")]
