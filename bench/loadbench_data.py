"""What the load benchmark and the plans ask for, picked from the generated data set: a device, a
councillor with open loans (and the API tokens of the IT clerk and that councillor), document codes."""
from __future__ import annotations

import random

from rest_framework.authtoken.models import Token

from assets.models import Contract, Device, DeviceEvent
from core.models import StoredDocument
from loans.models import Loan, Recipient


def pick(*, seed: int = 1, samples: int = 2_000) -> dict:
    from django.contrib.auth import get_user_model

    rng = random.Random(seed)
    top = Device.objects.order_by("-id").values_list("id", flat=True).first()
    if not top:
        raise SystemExit("The database holds no devices: run manage.py generate_dataset first.")
    device = Device.objects.filter(id__gte=top // 2).order_by("id").first()
    it_user = get_user_model().objects.get(username="dataset-it")
    councillor = (Recipient.objects.filter(kind="councillor", loans__status="open").order_by("id").first())
    Token.objects.get_or_create(user=it_user)
    Token.objects.get_or_create(user_id=councillor.user_id)
    top_document = StoredDocument.objects.order_by("-id").values_list("id", flat=True).first()
    ids = [rng.randrange(1, top_document + 1) for _ in range(samples)]
    codes = list(StoredDocument.objects.filter(id__in=ids).values_list("code", flat=True))
    recipient = Loan.objects.filter(status="open").order_by("id").values_list("recipient_id", flat=True).first()
    with_events = DeviceEvent.objects.order_by("-id").values_list("device_id", flat=True).first()
    return {
        "devices": Device.objects.count() if top < 100_000 else top,
        "events": DeviceEvent.objects.order_by("-id").values_list("id", flat=True).first(),
        "device_id": device.id,
        "device_with_events": with_events,
        "inventory_fragment": device.inventory_number.split("/")[-1],
        "serial": device.serial_number,
        "contract_id": Contract.objects.order_by("id").values_list("id", flat=True).first(),
        "it_user_id": it_user.id,
        "councillor_user_id": councillor.user_id,
        "recipient_id": recipient,
        "code": codes[0],
        "codes": codes,
        "max_device_id": top,
        "tokens": {"it": Token.objects.get(user=it_user).key,
                   "councillor": Token.objects.get(user_id=councillor.user_id).key},
    }
