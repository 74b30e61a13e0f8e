"""The register's API routes; config/api.py mounts them on the one API router."""
from assets.api import views

routes = [
    ("devices", views.DeviceViewSet, "device"),
    ("storage-media", views.StorageMediumViewSet, "storage-medium"),
    ("suppliers", views.SupplierViewSet, "supplier"),
    ("contracts", views.ContractViewSet, "contract"),
    ("kits", views.KitViewSet, "kit"),
    ("device-events", views.DeviceEventViewSet, "device-event"),
]
