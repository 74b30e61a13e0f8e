"""The lists' id filters (core.filters): an id no record can have is a 400 naming the parameter, not a 500."""
import pytest

from tests.factories import lend_tablet, make_councillor

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = 2**70


@pytest.mark.parametrize("value", [BEYOND_64_BITS, -BEYOND_64_BITS, 2**63])
def test_an_id_beyond_the_key_range_is_a_400_naming_the_parameter(api_en, it_user, value):
    # Found by the API fuzzing: SQLite cannot bind such an integer and the list answered 500.
    answer = api_en(it_user).get("/api/faults/", {"device_id": [1, value]})
    assert answer.status_code == 400
    assert list(answer.data) == ["device_id"] and str(value) in str(answer.data["device_id"][0])


def test_ids_in_range_filter_as_before(api, it_user):
    device = lend_tablet(make_councillor()).items.get().device
    office = api(it_user)
    assert office.get("/api/loans/", {"device_id": device.pk}).data["count"] == 1
    unknown = office.get("/api/loans/", {"device_id": 2**63 - 1})
    assert unknown.status_code == 400 and "device_id" in unknown.data


@pytest.mark.parametrize(("url", "parameter"), [("/api/device-events/", "actor_id"),
                                               ("/api/loan-findings/", "loan_id")])
@pytest.mark.parametrize("value", [BEYOND_64_BITS, -BEYOND_64_BITS, "1e30"])
def test_a_single_id_beyond_the_key_range_is_a_400_naming_the_parameter(api, it_user, url, parameter, value):
    # Found by the API fuzzing: the list answered 500 (OverflowError) for such an id.
    answer = api(it_user).get(url, {parameter: value})
    assert answer.status_code == 400 and list(answer.data) == [parameter]


def test_a_list_without_filters_is_paged_and_ordered_as_asked(api, it_user):
    # core.filters.FilterBackend skips building the FilterSet when the query holds no filter: the page,
    # its size and the ordering still apply.
    from tests.factories import make_device

    numbers = [make_device(inventory_number=f"FB/{i:03d}").inventory_number for i in range(3)]
    answer = api(it_user).get("/api/devices/", {"ordering": "-inventory_number", "page_size": 2, "page": 1})
    assert answer.status_code == 200
    assert answer.data["count"] == 3
    assert [row["inventory_number"] for row in answer.data["results"]] == sorted(numbers, reverse=True)[:2]


def test_a_filter_beside_the_page_still_filters_and_a_bad_value_is_still_a_400(api, it_user):
    from tests.factories import make_device

    make_device(inventory_number="FB/100")
    make_device(inventory_number="FB/101", kind="tablet")
    office = api(it_user)
    tablets = office.get("/api/devices/", {"kind": "tablet", "page": 1})
    assert [row["inventory_number"] for row in tablets.data["results"]] == ["FB/101"]
    wrong = office.get("/api/devices/", {"status": "nowhere", "page": 1})
    assert wrong.status_code == 400 and list(wrong.data) == ["status"]
