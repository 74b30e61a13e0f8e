"""The permission matrix (config.access), cell by cell: every API operation, page and admin screen, asked
as each role and as an anonymous visitor, answers as the table says; the table covers the whole surface
(tests/security/surface.py) and nothing else; councillors see only their own records; an issued document
is shown only to those who may see the record it is about.

The records are built once for the module (tests/security/world.py) and every test runs in a savepoint
that is rolled back, so a write one cell makes never reaches another.
"""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse

from config import access
from config.access import ANON, AUDIT, COUNC, IT, LEGAL, OWN, PM
from tests.security import surface
from tests.security.matrix import API_DENIED, WRITE_REFUSED, Cell, ask, client_for, has_record, url_for
from tests.security.world import COUNC_B, build_world, documents_of

ROLES = access.ROLES


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(module_world, db):
    """The module's records; `db` opens this test's savepoint inside the module's transaction."""
    return module_world


def may(roles: frozenset[str], role: str, route: str) -> bool:
    """Whether the table lets `role` use `route`, reading OWN as councillor A's records (the world's)."""
    if role in roles:
        return True
    if OWN in roles and role != ANON:
        return role == COUNC or not has_record(route)  # a list shows each person their own
    return False


def _login_redirect(response, admin: bool = False) -> bool:
    """Sent to sign in first (and brought back after): what an anonymous visitor gets for a closed page."""
    target = "/admin/login/" if admin else reverse("login")
    return response.status_code == 302 and response["Location"].startswith(f"{target}?next=")


# --- the table covers the surface, and only the surface ----------------------------------------------

def _difference(table_keys, surface_keys, what: str, where: str) -> list[str]:
    missing = sorted(set(surface_keys) - set(table_keys))
    stale = sorted(set(table_keys) - set(surface_keys))
    problems = [f"{what} without a row in config/access.py {where} (say who may use it): {key}" for key in missing]
    problems += [f"a row in config/access.py {where} for something that no longer exists: {key}" for key in stale]
    return problems


def test_every_api_operation_has_a_row():
    operations = {(name, method) for name, method, _action in surface.api_operations()}
    assert not _difference(access.API, operations, "an API operation", "API")


def test_every_page_has_a_row():
    pages = {route.name for route in surface.page_routes()}
    assert not _difference({name for name, _method in access.PAGES}, pages, "a page", "PAGES")


def test_every_model_admin_has_a_row():
    admins = {model_admin.opts.label_lower for model_admin in surface.model_admins()}
    assert not _difference(access.ADMIN, admins, "a model in the admin", "ADMIN")


def _superuser_request():
    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(username="root", is_superuser=True, is_staff=True, is_active=True)
    return request


def offered_actions() -> set[tuple[str, str]]:
    """Every admin action there is (surface.admin_actions, and those a mixin adds, such as the export),
    except Django's "delete selected", which goes with the delete right (test_deleting_selected_...)."""
    found = set(surface.admin_actions())
    request = _superuser_request()
    for model_admin in surface.model_admins():
        found |= {(model_admin.opts.label_lower, name) for name in model_admin.get_actions(request)}
    return {(label, name) for label, name in found if name != "delete_selected"}


def test_every_admin_action_has_a_row():
    assert not _difference(access.ADMIN_ACTIONS, offered_actions(), "an admin action", "ADMIN_ACTIONS")


_STANDARD_ADMIN = re.compile(r"_(changelist|add|change|delete|history)$")


def custom_admin_routes() -> set[str]:
    """The admin's pages beside each model's standard ones (a record's buttons, exports, uploads)."""
    models = {model_admin.opts.label_lower.replace(".", "_") for model_admin in surface.model_admins()}
    return {route.name for route in surface.admin_routes()
            if not _STANDARD_ADMIN.search(route.name)
            and any(route.name.startswith(f"admin:{model}_") for model in models)}


def test_every_admin_page_has_a_row():
    assert not _difference({name for name, _method in access.ADMIN_PAGES}, custom_admin_routes(), "an admin page",
                           "ADMIN_PAGES")


def test_the_table_names_only_the_roles_there_are():
    known = set(ROLES) | {OWN}
    rows = [*access.API.values(), *access.PAGES.values(), *access.ADMIN_ACTIONS.values(),
            *access.ADMIN_PAGES.values(), *(roles for rights in access.ADMIN.values() for roles in rights)]
    assert all(set(roles) <= known for roles in rows)


# --- every cell of the API and the pages ---------------------------------------------------------------

API_CELLS = [Cell("api", route, method, role) for route, method in sorted(access.API) for role in ROLES]
PAGE_CELLS = [Cell("page", route, method, role) for route, method in sorted(access.PAGES) for role in ROLES]


@pytest.mark.parametrize("cell", API_CELLS, ids=str)
def test_api_cell(world, cell):
    response = ask(cell, world)
    code = response.status_code
    if may(access.API[(cell.route, cell.method)], cell.role, cell.route):
        if cell.method == "GET":
            assert code == 200, f"{cell}: {code} {response.content[:300]!r}"
        else:
            assert code not in WRITE_REFUSED, f"{cell} was refused: {code} {response.content[:300]!r}"
    elif cell.role == ANON:
        assert code in (401, 403), f"{cell}: {code}"
    else:
        assert code in API_DENIED - {401}, f"{cell} was let through: {code}"


@pytest.mark.parametrize("cell", PAGE_CELLS, ids=str)
def test_page_cell(world, cell):
    response = ask(cell, world)
    code = response.status_code
    if may(access.PAGES[(cell.route, cell.method)], cell.role, cell.route):
        assert code in (200, 302) and not _login_redirect(response), f"{cell}: {code}"
    elif cell.role == ANON:
        assert _login_redirect(response), f"{cell}: {code}"
    else:
        assert code in (403, 404), f"{cell} was let through: {code}"


# --- the admin -----------------------------------------------------------------------------------------

def _request(world, role):
    request = RequestFactory().get("/admin/")
    request.user = AnonymousUser() if role == ANON else world.users[role]
    return request


ADMIN_CELLS = [(label, role) for label in sorted(access.ADMIN) for role in ROLES]


@pytest.mark.parametrize(("label", "role"), ADMIN_CELLS, ids=[f"{label} as {role}" for label, role in ADMIN_CELLS])
def test_admin_cell(world, label, role):
    rights = access.ADMIN[label]
    model_admin = next(admin for admin in surface.model_admins() if admin.opts.label_lower == label)
    request = _request(world, role)
    allowed = {name: role in getattr(rights, name) for name in rights._fields}
    granted = {name: bool(getattr(model_admin, f"has_{name}_permission")(request)) for name in rights._fields}
    assert granted == allowed
    client = client_for(role, world)
    app, model = label.split(".")
    for page, right in (("changelist", "view"), ("add", "add")):
        if not allowed[right] and page == "add" and not model_admin.has_add_permission(_superuser_request()):
            continue  # no add page for anyone (records written by services only)
        response = client.get(reverse(f"admin:{app}_{model}_{page}"))
        if allowed[right] or (page == "changelist" and allowed["change"]):
            assert response.status_code == 200, f"{page} of {label} as {role}: {response.status_code}"
        elif role in access.STAFF:
            assert response.status_code == 403, f"{page} of {label} as {role}: {response.status_code}"
        else:
            assert _login_redirect(response, admin=True)


ACTION_CELLS = sorted(access.ADMIN_ACTIONS)


@pytest.mark.parametrize(("label", "action"), ACTION_CELLS, ids=[f"{label} {action}" for label, action in ACTION_CELLS])
def test_admin_action_is_offered_to_the_roles_in_the_table(world, label, action):
    model_admin = next(admin for admin in surface.model_admins() if admin.opts.label_lower == label)
    offered = set()
    for role in ROLES:
        request = _request(world, role)
        # an action is offered on the list, which a role without the view (or change) right never opens
        if model_admin.has_view_or_change_permission(request) and action in model_admin.get_actions(request):
            offered.add(role)
    assert offered == set(access.ADMIN_ACTIONS[(label, action)])


def test_deleting_selected_records_is_offered_only_with_the_delete_right(world):
    """Register records are never deleted; where the table gives the delete right (sign-in lockouts),
    Django's "delete selected" may come with it."""
    for model_admin in surface.model_admins():
        label = model_admin.opts.label_lower
        for role in ROLES:
            request = _request(world, role)
            offered = (model_admin.has_view_or_change_permission(request)
                       and "delete_selected" in model_admin.get_actions(request))
            assert not offered or role in access.ADMIN[label].delete, (label, role)

ADMIN_PAGE_CELLS = [Cell("admin", route, method, role) for route, method in sorted(access.ADMIN_PAGES)
                    for role in ROLES]


@pytest.mark.parametrize("cell", ADMIN_PAGE_CELLS, ids=str)
def test_admin_page_cell(world, cell):
    response = ask(cell, world)
    code = response.status_code
    if cell.role in access.ADMIN_PAGES[(cell.route, cell.method)]:
        if cell.method == "GET":
            assert code == 200, f"{cell}: {code}"
        else:
            assert code not in (403, 404, 405) and not _login_redirect(response, admin=True), f"{cell}: {code}"
    elif cell.role in access.STAFF:
        assert code == 403, f"{cell} was let through: {code}"
    else:
        assert _login_redirect(response, admin=True), f"{cell}: {code}"


# --- councillor isolation: B never sees A's records, lists hold only one's own -------------------------

@pytest.mark.parametrize("route", ["loan-detail", "device-detail", "fault-detail", "document-detail",
                                   "portal:loan", "portal:device", "portal:fault", "portal:fault-photo",
                                   "portal:document", "document-download"])
def test_a_councillor_gets_404_for_another_councillors_record(world, route):
    other = client_for(COUNC_B, world)
    assert other.get(url_for(route, world)).status_code == 404
    # and B's own record of the same kind opens
    assert other.get(url_for(route, world, holder="b")).status_code == 200


@pytest.mark.parametrize(("route", "body"), [("fault-reply", {"body": "Proszę o kontakt"}), ("loan-extend", {}),
                                             ("device-retire", {})])
def test_a_councillor_cannot_act_on_another_councillors_record(world, route, body):
    other = client_for(COUNC_B, world)
    assert other.post(url_for(route, world), data=body, content_type="application/json").status_code == 404


def test_a_councillor_cannot_reply_on_another_councillors_fault_in_the_portal(world):
    other = client_for(COUNC_B, world)
    assert other.post(url_for("portal:fault-reply", world), data={"body": "Halo"}).status_code == 404
    assert not world.a["fault"].replies.filter(author=world.councillor_b).exists()


@pytest.mark.parametrize(("route", "key", "field"), [("loan-list", "loan", "id"), ("device-list", "device", "id"),
                                                     ("fault-list", "fault", "id"),
                                                     ("document-list", "document", "code")])
def test_a_councillors_lists_hold_only_their_own_records(world, route, key, field):
    other = client_for(COUNC_B, world)
    results = other.get(reverse(route)).json()["results"]
    own = ({document.code for document in documents_of(world.b["loan"])} if key == "document"
           else {getattr(world.b[key], field)})
    assert {row[field] for row in results} == own


def test_a_councillors_portal_lists_only_their_own_records(world):
    other = client_for(COUNC_B, world)
    page = other.get(reverse("portal:home")).content.decode()
    assert world.b["device"].inventory_number in page
    assert world.a["device"].inventory_number not in page


# --- issued documents: only for those who may see what a document is about --------------------------

def _document_of(record):
    document = documents_of(record).first()
    assert document is not None, f"{record!r} has no issued document"
    return document


@pytest.mark.parametrize(("record", "readers"), [
    ("disk-removal", {IT, LEGAL, AUDIT}),  # a disk removal protocol: not the project manager's
    ("liquidation", {IT, LEGAL, AUDIT}),
    ("loan", {IT, PM, LEGAL, AUDIT, COUNC}),  # councillor A's loan agreement: A's too
])
def test_a_document_opens_only_for_those_who_may_see_its_record(world, record, readers):
    document = _document_of(world.objects[record])
    for role in access.SIGNED_IN:
        client = client_for(role, world)
        download = client.get(reverse("document-download", kwargs={"code": document.code}))
        detail = client.get(reverse("document-detail", kwargs={"code": document.code}))
        listed = {row["code"] for row in
                  client.get(reverse("document-list"), {"code": document.code}).json()["results"]}
        media = client.get(f"/media/{document.file.name}")
        expected = role in readers
        assert (download.status_code, detail.status_code, document.code in listed) == (
            (200, 200, True) if expected else (404, 404, False)), role
        assert media.status_code == (200 if expected and role in access.STAFF else 403), role


def test_the_admin_lists_only_documents_the_role_may_see(world):
    from core.models import StoredDocument

    model_admin = next(admin for admin in surface.model_admins() if admin.opts.model is StoredDocument)
    protocol = _document_of(world.objects["disk-removal"])
    agreement = world.a["document"]
    for role, sees_protocol in ((PM, False), (LEGAL, True), (IT, True)):
        shown = model_admin.get_queryset(_request(world, role))
        assert shown.filter(pk=protocol.pk).exists() is sees_protocol, role
        assert shown.filter(pk=agreement.pk).exists(), role


# --- what the cells found --------------------------------------------------------------------------------

def test_the_auditor_reads_a_fault_but_may_not_write_on_it(world):
    client = client_for(AUDIT, world)
    assert client.get(url_for("fault-detail", world)).status_code == 200
    response = client.post(url_for("fault-reply", world), data={"body": "Audyt"}, content_type="application/json")
    assert response.status_code == 403
    assert not world.a["fault"].replies.filter(author=world.users[AUDIT]).exists()


def test_the_it_office_does_not_see_which_beneficiaries_lack_proof(world):
    project = world.objects["grant-project"]
    url = reverse("admin:donations_grantproject_gaps", args=[project.pk])
    assert client_for(IT, world).get(url).status_code == 403
    assert client_for(PM, world).get(url).status_code == 200
