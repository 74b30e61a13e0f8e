"""Lists at a million rows: the count stops at a limit and is estimated above it, pages stay exact, and
the device and loan filters add no DISTINCT that would sort every match for each page."""
from __future__ import annotations

import pytest

from assets.choices import DeviceKind, DeviceStatus
from assets.filtersets import DeviceFilterSet
from assets.models import Device
from core.api import pagination
from loans.filtersets import LoanFilterSet
from loans.models import Loan
from tests.factories import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def devices(db):
    return [make_device() for _ in range(25)]


@pytest.fixture
def estimating(monkeypatch, settings):
    """The PostgreSQL path on any database: counting stops at 10 rows, the planner 'estimates' 1,000."""
    settings.API_EXACT_COUNT_LIMIT = 10
    monkeypatch.setattr(pagination, "estimates_counts", lambda queryset: True)
    monkeypatch.setattr(pagination, "planner_estimate", lambda queryset: 1_000)


def test_above_the_limit_the_count_is_the_estimate_and_pages_stay_exact(devices, estimating, it_user, api):
    client = api(it_user)
    first = client.get("/api/devices/", {"page_size": 10}).json()
    assert first["count"] == 1_000
    assert first["next"] and first["previous"] is None
    assert [d["inventory_number"] for d in first["results"]] == sorted(d.inventory_number for d in devices)[:10]
    last = client.get("/api/devices/", {"page_size": 10, "page": 3}).json()
    assert len(last["results"]) == 5
    assert last["next"] is None  # read, not computed from the estimate
    assert client.get("/api/devices/", {"page_size": 10, "page": 4}).status_code == 404
    assert client.get("/api/devices/", {"page": "x"}).status_code == 404


def test_below_the_limit_the_count_is_exact(devices, estimating, it_user, api):
    answer = api(it_user).get("/api/devices/", {"status": DeviceStatus.IN_STOCK, "q": "UM/2020/0000"}).json()
    assert answer["count"] == Device.objects.filter(inventory_number__contains="UM/2020/0000").count()


def test_on_sqlite_the_count_is_exact(devices, it_user, api):
    assert api(it_user).get("/api/devices/", {"page_size": 10}).json()["count"] == 25


def test_device_and_loan_filters_on_own_columns_add_no_distinct(devices):
    devices_qs = DeviceFilterSet({"status": [DeviceStatus.IN_STOCK], "kind": [DeviceKind.LAPTOP],
                                  "contract_id": [devices[0].contract_id or 1]},
                                 queryset=Device.objects.all()).qs
    assert "DISTINCT" not in str(devices_qs.query)
    loans_qs = LoanFilterSet({"status": ["open"], "purpose": ["staff_work"]}, queryset=Loan.objects.all()).qs
    assert "DISTINCT" not in str(loans_qs.query)


def test_a_search_keeps_the_inventory_number_order(devices, it_user, api):
    found = api(it_user).get("/api/devices/", {"q": "ThinkPad"}).json()["results"]
    numbers = [d["inventory_number"] for d in found]
    assert numbers == sorted(numbers) and len(numbers) == 25


def test_the_database_answers_the_estimate_the_paginator_asks_for(devices, settings):
    # Not monkeypatched: on PostgreSQL the planner's own figure (EXPLAIN's JSON read back), on SQLite the
    # exact count, since it has no cheap estimate. Each leg of CI runs its branch.
    from django.db import connection

    settings.API_EXACT_COUNT_LIMIT = 10
    queryset = Device.objects.order_by("inventory_number")
    paginator = pagination.EstimatingPaginator(queryset, 10)
    if connection.vendor == "postgresql":
        estimate = pagination.planner_estimate(queryset)
        assert isinstance(estimate, int) and estimate >= 1
        assert paginator.count == max(11, estimate) and paginator.estimated
        assert len(paginator.page(3).object_list) == 5 and not paginator.page(3).has_next()
    else:
        assert not pagination.estimates_counts(queryset)
        assert paginator.count == 25 and not paginator.estimated
