"""Importing a project's beneficiaries and orders' annexes from spreadsheets (core.imports engine)."""
from __future__ import annotations

import io

import pytest
from django.utils import translation

from core.choices import ImportStatus
from core.imports import import_confirm, import_preview
from core.roles import Role
from donations.models import Beneficiary, OrderAnnexBeneficiary, OrderAnnexDevice
from loans.models import Recipient
from tests.factories import make_beneficiary, make_device, make_order, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _cp1250(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("cp1250"))


def _preview(table: str, text: str, *, by=None, skip_invalid=False, encoding="utf-8-sig"):
    with translation.override("en"):
        return import_preview(table=table, file=io.BytesIO(text.encode(encoding)), file_name=f"{table}.csv", by=by,
                              skip_invalid=skip_invalid)


def test_a_project_list_of_beneficiaries_in_windows_1250_with_polish_headers_is_registered(make_user):
    manager = make_user(Role.PROJECT_MANAGER)
    project = make_project()
    text = (
        "Projekt;Kod beneficjenta;Rodzaj;Imię i nazwisko;Adres;Telefon;Podstawa kwalifikacji;Data kwalifikacji\r\n"
        f"{project.agreement_number};EI/GD/501;household;Gospodarstwo Łukaszewiczów;ul. Śląska 7, 64-100 Leszno;"
        "+48 65 111 11 11;uczeń w rodzinie objętej pomocą (MOPS);15.03.2013\r\n"
        f"{project.agreement_number};EI/SZ/01;Szkoła;Szkoła Podstawowa nr 2;ul. Żołnierzy 1, 64-100 Leszno;;"
        "placówka oświatowa;2013-03-20\r\n"
        "\r\n"
    )
    batch = import_preview(table="beneficiaries", file=_cp1250(text), file_name="beneficjenci.csv", by=manager)
    assert (batch.rows_total, batch.rows_created, batch.rows_invalid) == (2, 2, 0), batch.preview["errors"]
    assert Beneficiary.objects.count() == 0  # a dry run

    import_confirm(batch=batch, by=manager, sha256=batch.sha256)

    household = Beneficiary.objects.select_related("recipient").get(code="EI/GD/501")
    assert household.recipient.name == "Gospodarstwo Łukaszewiczów"
    assert household.recipient.address == "ul. Śląska 7, 64-100 Leszno"
    assert household.qualified_on.isoformat() == "2013-03-15"
    assert Beneficiary.objects.get(code="EI/SZ/01").kind == "school"
    assert household.history.first().history_change_reason.startswith(f"import #{batch.pk}, row 2")
    assert household.history.first().history_user == manager


def test_the_same_list_again_changes_nothing_and_a_changed_phone_updates_one_beneficiary():
    project = make_project()
    make_beneficiary(project, code="EI/GD/001", name="Gospodarstwo 1", phone="+48 65 000 00 00")
    make_beneficiary(project, code="EI/GD/002", name="Gospodarstwo 2", phone="+48 65 000 00 00")
    rows = f"project;code;phone\n{project.agreement_number};EI/GD/001;+48 65 000 00 00\n" \
           f"{project.agreement_number};EI/GD/002;+48 65 000 00 00\n"

    again = _preview("beneficiaries", rows)
    assert (again.rows_unchanged, again.rows_updated, again.rows_created) == (2, 0, 0)

    changed = _preview("beneficiaries", rows.replace("EI/GD/002;+48 65 000 00 00", "EI/GD/002;+48 600 700 800"))
    assert (changed.rows_unchanged, changed.rows_updated) == (1, 1)
    assert changed.preview["updated"] == [{"row": 3, "key": f"{project.agreement_number}\tEI/GD/002", "fields": ["phone"]}]
    import_confirm(batch=changed, by=None, sha256=changed.sha256)
    assert Recipient.objects.get(beneficiary__code="EI/GD/002").phone == "+48 600 700 800"


def test_bad_beneficiary_rows_are_each_named_and_nothing_is_written():
    project = make_project()
    make_beneficiary(project, code="EI/GD/001")
    text = ("project;code;kind;name;eligibility_basis\n"
            "POIG-NIE-MA;EI/GD/900;household;Ktoś;MOPS\n"
            f"{project.agreement_number};EI/GD/901;rodzina;Ktoś;MOPS\n"
            f"{project.agreement_number};EI/GD/902;household;Ktoś;MOPS\n"
            f"{project.agreement_number};EI/GD/902;household;Ktoś inny;MOPS\n"
            f"{project.agreement_number};EI/GD/903;household;Ktoś;\n")
    before = Beneficiary.objects.count()

    batch = _preview("beneficiaries", text)

    errors = {(e["row"], e["column"]): e for e in batch.preview["errors"]}
    assert errors[(2, "project")]["reason"] == "no grant project has this agreement number"
    assert errors[(3, "kind")]["value"] == "rodzina"
    assert errors[(5, "code")]["reason"] == "this is already in row 4 of this file"
    assert errors[(6, "eligibility_basis")]["reason"] == "State the basis of eligibility."
    assert (batch.rows_created, batch.rows_invalid) == (1, 4)
    assert Beneficiary.objects.count() == before


def test_an_orders_annex_is_read_back_and_new_entries_are_added_with_their_lines():
    project = make_project()
    listed = make_beneficiary(project, code="EI/GD/001")
    new = make_beneficiary(project, code="EI/GD/002")
    device = make_device(inventory_number="UM/IT/2014/0001")
    order = make_order(project=project, annex_beneficiaries=[listed])
    text = ("order;line;inventory_number;beneficiary\n"
            f"{order.number};1;;EI/GD/001\n"
            f"{order.number};2;;EI/GD/002\n"
            f"{order.number};3;UM/IT/2014/0001;\n")

    batch = _preview("order_annexes", text)
    assert (batch.rows_unchanged, batch.rows_created, batch.rows_invalid) == (1, 2, 0), batch.preview["errors"]
    assert not OrderAnnexBeneficiary.objects.filter(beneficiary=new).exists()

    import_confirm(batch=batch, by=None, sha256=batch.sha256)

    assert OrderAnnexBeneficiary.objects.get(order=order, beneficiary=new).line == 2
    assert OrderAnnexDevice.objects.get(order=order, device=device).line == 3
    assert _preview("order_annexes", text).rows_unchanged == 3


def test_annex_rows_that_name_nothing_known_are_refused_with_their_reasons():
    order = make_order()
    text = ("order;inventory_number;beneficiary\n"
            "999/2099;UM/1;\n"
            f"{order.number};UM/NIE-MA;\n"
            f"{order.number};;\n")

    batch = _preview("order_annexes", text)

    reasons = {e["row"]: e["reason"] for e in batch.preview["errors"]}
    assert reasons == {2: "no mayoral order has this number", 3: "no device with this inventory number",
                       4: "give either an inventory number or a beneficiary's code"}
    assert batch.status == ImportStatus.PREVIEWED
    assert not OrderAnnexDevice.objects.exists()


def test_an_annex_entry_already_listed_is_refused_when_only_new_entries_are_taken():
    project = make_project()
    listed = make_beneficiary(project, code="EI/GD/001")
    order = make_order(project=project, annex_beneficiaries=[listed])
    text = f"order;beneficiary\n{order.number};EI/GD/001\n"

    with translation.override("en"):
        batch = import_preview(table="order_annexes", file=io.BytesIO(text.encode()), file_name="annex.csv", by=None,
                               only_new=True)

    assert (batch.rows_invalid, batch.rows_unchanged) == (1, 0)
    assert batch.preview["errors"][0]["reason"] == (
        f"already registered (in the annex of order no. {order.number}); this import takes new records only")


def test_an_empty_active_cell_leaves_a_beneficiary_active_and_nie_makes_it_inactive():
    project = make_project()
    text = ("project;code;kind;name;eligibility_basis;aktywny\n"
            f"{project.agreement_number};EI/GD/601;household;Rodzina A;MOPS;\n"
            f"{project.agreement_number};EI/GD/602;household;Rodzina B;MOPS;nie\n")

    batch = _preview("beneficiaries", text)
    assert (batch.rows_created, batch.rows_invalid) == (2, 0), batch.preview["errors"]
    import_confirm(batch=batch, by=None, sha256=batch.sha256)

    assert dict(Beneficiary.objects.values_list("code", "is_active")) == {"EI/GD/601": True, "EI/GD/602": False}
