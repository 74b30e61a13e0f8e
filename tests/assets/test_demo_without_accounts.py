"""`load_demo --without-accounts` on an empty database (a training instance, DEBUG off).

Apart from tests/assets/test_demo.py, whose module-wide demo (with its accounts) would still be loaded."""
from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from assets.models import Device

User = get_user_model()
DEMO_ACCOUNTS = ["admin", "informatyk", "weryfikator", "kierownik", "prawnik", "radny", "audytor"]


@pytest.mark.django_db
def test_register_only_on_an_empty_database_loads_everything_but_the_accounts(settings):
    """A training instance: DEBUG off, no accounts; every app's demo loads, acting as nobody (the fault's
    replies, which need a signing person, are left out)."""
    from faults.models import FaultReport
    from donations.models import Beneficiary, Transfer

    settings.DEBUG = False
    out = StringIO()
    call_command("load_demo", "--without-accounts", stdout=out)

    assert "--without-accounts" in out.getvalue()  # the command says no accounts were made
    assert not User.objects.filter(username__in=DEMO_ACCOUNTS).exists()
    assert Device.objects.count() > 1000 and Beneficiary.objects.count() == 152
    fault = FaultReport.objects.get()
    assert fault.status == "in_progress" and not fault.replies.exists()
    assert not Transfer.objects.exists()
