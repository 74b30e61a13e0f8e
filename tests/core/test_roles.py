"""Roles: the groups exist after migrate and hold exactly the permissions core.roles defines."""
import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from core.roles import ROLE_PERMISSIONS, Role, sync_roles
from tests.factories import make_contract

pytestmark = pytest.mark.django_db


def perms(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_every_role_is_a_group_with_its_permissions():
    for role, wanted in ROLE_PERMISSIONS.items():
        if role != Role.AUDITOR:
            assert perms(role) == wanted, role


def test_the_auditor_reads_everything_and_changes_nothing():
    granted = perms(Role.AUDITOR)
    assert {"assets.view_device", "assets.view_deviceevent", "core.view_storeddocument"} <= granted
    assert all(".view_" in p for p in granted)


def test_an_admin_edit_of_a_role_is_put_back_by_the_sync():
    group = Group.objects.get(name=Role.LEGAL_OFFICE)
    group.permissions.add(Permission.objects.get(codename="move_device"))
    sync_roles()
    assert "assets.move_device" not in perms(Role.LEGAL_OFFICE)


def test_uploaded_scans_are_served_only_to_those_allowed(client, make_user):
    contract = make_contract(scan=SimpleUploadedFile("umowa.pdf", b"%PDF-1.4 skan\n%%EOF\n"))
    url = f"/media/{contract.scan.name}"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(make_user(Role.COUNCILLOR))
    assert client.get(url).status_code == 403
    client.force_login(make_user(Role.LEGAL_OFFICE))
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")
    assert client.get("/media/../config/settings/base.py").status_code == 404
