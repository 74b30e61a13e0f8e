"""The fault reports API routes; config/api.py mounts them on the one API router."""
from faults.api import views

routes = [
    ("faults", views.FaultViewSet, "fault"),
]
