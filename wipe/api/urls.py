"""The wipe API routes; config/api.py mounts them on the one API router."""
from wipe.api import views

routes = [
    ("sanitizations", views.SanitizationViewSet, "sanitization"),
    ("disk-removals", views.DiskRemovalViewSet, "disk-removal"),
    ("wipe-sessions", views.WipeSessionViewSet, "wipe-session"),
    ("wipe-reports", views.WipeEvidenceViewSet, "wipe-report"),
    ("devices-to-sanitize", views.DeviceToSanitizeViewSet, "device-to-sanitize"),
]
