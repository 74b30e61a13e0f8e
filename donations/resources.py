"""The donations app's tables as files (beneficiaries, order annexes): see core.resources."""
from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from core.resources import ExportResource
from core.resources import column as _column
from donations.models import Beneficiary, MayoralOrder, OrderAnnexBeneficiary, OrderAnnexDevice

__all__ = ["BeneficiaryResource", "OrderAnnexResource"]


class BeneficiaryResource(ExportResource):
    """Beneficiaries of grant projects, one row each, known by their project's agreement number and code.

    Name, address, e-mail and phone are those of the beneficiary's loan recipient. Only what is needed to
    hand over and reach them: there is never a PESEL, and the supporting document stays in the register.
    """

    project = _column("project", "project__agreement_number")
    code = _column("code")
    kind = _column("kind")
    name = _column("name", "recipient__name")
    address = _column("address", "recipient__address")
    email = _column("email", "recipient__email")
    phone = _column("phone", "recipient__phone")
    eligibility_basis = _column("eligibility_basis")
    eligibility_reference = _column("eligibility_reference")
    qualified_on = _column("qualified_on")
    is_active = _column("is_active")

    class Meta:
        model = Beneficiary
        fields = ("project", "code", "kind", "name", "address", "email", "phone", "eligibility_basis",
                  "eligibility_reference", "qualified_on", "is_active")
        export_order = fields

    def filter_export(self, queryset: QuerySet, **kwargs) -> QuerySet:
        return queryset.select_related("project", "recipient").order_by("project__agreement_number", "code")


class OrderAnnexResource(ExportResource):
    """The annexes of mayoral orders: exported from a selection of orders, one row per annex entry.

    For each order (by signing date and number), its devices (`inventory_number`) by annex line, then its
    beneficiaries (`beneficiary`, the code) by annex line; `order` is the order's number, `line` the annex
    line (empty when the entry was added by hand). The columns `inventory_number` and `beneficiary` are
    those the order's annex import reads, so a file exported here can be imported into another order.
    """

    order = _column("order", "order__number")
    line = _column("line")
    inventory_number = _column("inventory_number", "device__inventory_number")
    beneficiary = _column("beneficiary", "beneficiary__code")

    class Meta:
        model = MayoralOrder
        fields = ("order", "line", "inventory_number", "beneficiary")
        export_order = fields

    def iter_queryset(self, queryset):
        """The annex entries of the orders in `queryset`, not the orders themselves (three queries)."""
        orders = queryset.order_by("signed_on", "number").prefetch_related(
            Prefetch("annex_device_rows", queryset=OrderAnnexDevice.objects.select_related("device")
                     .order_by("line", "device__inventory_number")),
            Prefetch("annex_beneficiary_rows", queryset=OrderAnnexBeneficiary.objects.select_related("beneficiary")
                     .order_by("line", "beneficiary__code")),
        )
        for order in orders:
            yield from order.annex_device_rows.all()
            yield from order.annex_beneficiary_rows.all()
