"""The device list's filters refuse values they cannot compute with: a 400 naming the parameter, not a 500."""
from datetime import date

import pytest

from tests.factories import make_device

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("years", ["5000", "1e30", "-1"])
def test_older_than_an_impossible_number_of_years_is_a_400(api, it_user, years):
    # Found by the API fuzzing: 5000 years before today is before the year 1, and the list answered 500.
    answer = api(it_user).get("/api/devices/", {"older_than_years": years})
    assert answer.status_code == 400 and list(answer.data) == ["older_than_years"]


def test_older_than_years_still_finds_old_devices(api, it_user):
    old = make_device(purchase_date=date(2010, 1, 4))
    make_device(purchase_date=date.today())
    answer = api(it_user).get("/api/devices/", {"older_than_years": 100})
    assert answer.data["count"] == 0
    answer = api(it_user).get("/api/devices/", {"older_than_years": 5})
    assert [row["id"] for row in answer.data["results"]] == [old.pk]
