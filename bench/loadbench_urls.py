"""The service's URLs plus one bare view: the device list page straight from `.values()`, the floor the
DRF list is compared with. Used only by bench/loadbench_settings.py."""
from __future__ import annotations

from django.http import JsonResponse
from django.urls import include, path

from assets.api.serializers import DeviceSerializer, NestedStorageMediumSerializer
from assets.choices import DEVICE_TRANSITIONS
from assets.models import Device, StorageMedium
from assets.services import DEVICE_MOVES
from core.api.pagination import EstimatingPaginator

PAGE = 50
# The API page's own fields, so that the floor sends the same page: the device's columns, the names of
# its contract, supplier and kit, its storage media and the moves it allows now.
RENAMED = {"contract": "contract_id", "managing_vendor": "managing_vendor_id", "kit": "kit_id",
           "contract_number": "contract__number", "supplier_name": "contract__supplier__name",
           "kit_code": "kit__code"}
COMPUTED = {"storage_media", "allowed_transitions", "allowed_moves"}
FIELDS = [name for name in DeviceSerializer.Meta.fields if name not in COMPUTED]
MEDIA_FIELDS = NestedStorageMediumSerializer.Meta.fields


def bare_device_list(request):
    """The first page of the device list, the same JSON as the API's: no auth, no serializer, no filters.

    Two queries as the API's (the page with its joins, then the page's media) and the API paginator's
    count (exact up to a limit, then the planner's estimate): the floor does the same database work as the
    API page, so the difference between the two is what the framework costs.
    """
    queryset = Device.objects.order_by("inventory_number")
    rows = list(queryset.values(*(RENAMED.get(name, name) for name in FIELDS))[:PAGE])
    media: dict[int, list[dict]] = {}
    for medium in StorageMedium.objects.filter(device_id__in=[row["id"] for row in rows]).order_by("id").values(
            "device_id", *MEDIA_FIELDS):
        media.setdefault(medium.pop("device_id"), []).append(medium)
    results = []
    for row in rows:
        allowed = sorted(DEVICE_TRANSITIONS[row["status"]])
        computed = {"storage_media": media.get(row["id"], []), "allowed_transitions": allowed,
                    "allowed_moves": [{"action": name, "to_status": target}
                                      for name, (target, _service) in DEVICE_MOVES.items() if target in allowed]}
        results.append({name: computed[name] if name in COMPUTED else row[RENAMED.get(name, name)]
                        for name in DeviceSerializer.Meta.fields})
    return JsonResponse({"count": EstimatingPaginator(queryset, PAGE).count, "results": results})


urlpatterns = [
    path("bench/bare-devices/", bare_device_list),
    path("", include("config.urls")),
]
