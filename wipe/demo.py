"""Demo data of the wipe app (load_demo finds this module in each app): Leszno's retired office computers.

From the Leszno answer of 2021: office computers live about ten years, and their disks may hold the
staff's personal data, so the disks must not leave the office. The demo shows every state of the path:
a wipe session in which three computers passed (wiped by the IT clerk, validated by a second person)
and one failed and waits for a second attempt; a disk removed and held in the office safe; a disk removed,
handed over and destroyed with a certificate; and computers still waiting. Everything goes through
wipe.services; a second run finds the session and leaves everything as it is.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from assets.choices import DeviceStatus
from assets.models import Device
from wipe import services
from wipe.models import WipeSession


def load_demo(facts: dict[str, Any], *, by, created: Counter, skipped: Counter) -> None:
    spec = facts.get("wipes")
    if not spec:
        return
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=[spec["technician"], spec["validator"]])}
    technician, validator = users.get(spec["technician"]), users.get(spec["validator"])
    if technician is None or validator is None or WipeSession.objects.exists():
        # Wipes need two named people; without the demo accounts (or on a second run) they are left out.
        skipped["wipe sessions"] += 1
        return
    devices = {d.inventory_number: d for d in Device.objects.filter(status=DeviceStatus.RETIRED)}
    _session(spec["session"], devices, technician=technician, validator=validator, created=created)
    _removal(spec["removed_held"], devices, technician=technician, validator=validator, created=created)
    destroyed = _removal(spec["removed_destroyed"], devices, technician=technician, validator=validator,
                         created=created)
    entry = spec["removed_destroyed"]
    services.custody_record(removal=destroyed, by=technician, kept_at=entry["handed_kept_at"],
                            handed_to=entry["handed_to"])
    services.disk_destroy(removal=destroyed, by=technician, destroyed_on=timezone.localdate(),
                          destruction_method=entry["destruction_method"],
                          destruction_company=entry["destruction_company"],
                          certificate_number=entry["certificate_number"])


def _session(spec: dict[str, Any], devices: dict[str, Device], *, technician, validator, created: Counter) -> None:
    cart = [devices[number] for number in spec["devices"]]
    session = services.session_open(by=technician, devices=cart, location=spec["location"], tool=spec["tool"],
                                    tool_version=spec["tool_version"])
    created["wipe sessions"] += 1
    wipe = dict(spec["wipe"])
    hours = wipe.pop("hours")
    end = timezone.now() - timedelta(minutes=30)
    for device in cart:
        for medium in device.media.inside():
            failure = spec["failures"].get(device.inventory_number)
            if failure:
                services.session_record_result(session=session, by=technician, medium=medium, passed=False,
                                               failure_reason=failure)
                continue
            services.session_record_result(session=session, by=technician, medium=medium, passed=True,
                                           started_at=end - timedelta(hours=hours), finished_at=end,
                                           performer_title=spec["performer_title"], **wipe)
            created["sanitizations"] += 1
    services.session_close(session=session, by=validator, validator_title=spec["validator_title"])


def _removal(spec: dict[str, Any], devices: dict[str, Device], *, technician, validator, created: Counter):
    device = devices[spec["device"]]
    medium = device.media.inside().first()
    removal = services.disk_remove(medium=medium, by=technician, device=device, kept_at=spec["kept_at"],
                                   held_by=spec["held_by"], notes=spec.get("notes", ""))
    created["disk removals"] += 1
    services.device_sanitize(device=device, by=validator)
    return removal
