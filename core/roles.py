"""The office's roles, as Django groups, and what each may do.

The groups are created by a migration (core 0002); their permissions are defined here, in code, and
applied after every `migrate`, so that a model added by a later release reaches the right roles without
anyone clicking through the admin. Change a role here, not in the admin: the admin edit is overwritten.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class Role:
    IT_OFFICE = "it_office"
    PROJECT_MANAGER = "project_manager"
    LEGAL_OFFICE = "legal_office"
    COUNCILLOR = "councillor"
    AUDITOR = "auditor"


ROLE_LABELS = {
    Role.IT_OFFICE: _("IT office"),
    Role.PROJECT_MANAGER: _("project manager"),
    Role.LEGAL_OFFICE: _("legal office"),
    Role.COUNCILLOR: _("councillor"),
    Role.AUDITOR: _("auditor (read only)"),
}

# Apps whose every model the auditor may read.
AUDITED_APPS = ("core", "assets", "loans", "faults", "wipe", "donations", "reports")

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.IT_OFFICE: {
        "assets.view_supplier", "assets.add_supplier", "assets.change_supplier",
        "assets.view_contract", "assets.add_contract", "assets.change_contract",
        "assets.view_device", "assets.add_device", "assets.change_device", "assets.move_device",
        "assets.view_kit", "assets.add_kit", "assets.change_kit",
        "assets.view_storagemedium", "assets.add_storagemedium", "assets.change_storagemedium",
        "assets.view_deviceevent",
        "assets.issue_device_card",
        "core.view_storeddocument",
        "loans.view_loan", "loans.move_loan", "loans.view_recipient", "loans.add_recipient",
        "loans.change_recipient", "loans.view_councilterm", "loans.add_councilterm", "loans.view_loanfinding",
        "faults.view_faultreport", "faults.handle_fault", "faults.view_faultreply", "faults.view_faultevent",
        "wipe.view_sanitization", "wipe.add_sanitization", "wipe.change_sanitization", "wipe.validate_sanitization",
        "wipe.view_diskremoval", "wipe.add_diskremoval", "wipe.change_diskremoval", "wipe.view_custodyentry",
        "wipe.view_wipesession", "wipe.add_wipesession", "wipe.change_wipesession", "wipe.view_wipesessiondevice",
        "wipe.view_wipeevidence", "wipe.add_wipeevidence", "wipe.view_nomediaconfirmation",
        "wipe.add_nomediaconfirmation", "wipe.view_wipeevent", "wipe.view_devicetosanitize",
        # donations: residents' offers, scrapping, and the handover that completes an approved transfer
        "donations.view_grantproject", "donations.view_projectdevice", "donations.view_mayoralorder",
        "donations.view_orderannexdevice", "donations.view_orderannexbeneficiary",
        "donations.view_transfer", "donations.view_transferitem", "donations.view_transferevent",
        "donations.move_transfer",
        "donations.view_donationoffer", "donations.add_donationoffer", "donations.change_donationoffer",
        "donations.decide_donationoffer",
        "donations.view_liquidation", "donations.add_liquidation", "donations.view_liquidationitem",
        "donations.record_liquidation",
        # spreadsheets of suppliers, contracts and devices (each import also needs the table's own rights)
        "core.view_importbatch", "core.view_importrow", "core.apply_importbatch",
        # the compliance check, the analytics and the report PDFs (inventory, forecast, disposals)
        "reports.view_compliance_check", "reports.view_analytics", "reports.view_issuedreport",
        "reports.issue_report",
        # background jobs: everyone's (the IT office runs the workers), and resuming a stalled or failed one
        "core.view_job", "core.view_all_jobs", "core.resume_job",
        # every user's API token by its ending, and revoking one (a leaked token, someone who left)
        "authtoken.view_tokenproxy", "authtoken.delete_tokenproxy",
        # locked sign-ins (django-axes): deleting the attempt record unlocks the user name at once
        "axes.view_accessattempt", "axes.delete_accessattempt", "axes.view_accesslog",
    },
    Role.PROJECT_MANAGER: {
        "assets.view_supplier", "assets.view_contract", "assets.view_device", "assets.view_kit",
        "assets.view_storagemedium", "assets.view_deviceevent", "assets.issue_device_card",
        "core.view_storeddocument", "loans.view_loan", "loans.view_recipient", "loans.view_loanfinding",
        "loans.view_councilterm",
        # grant projects, their beneficiaries (allocating a set is a change of the beneficiary, not
        # loans.move_loan: the project manager lends only a project's set, to its beneficiary), the
        # obligations with their proof and the durability report (log_obligation), and the transfers they
        # prepare and submit to the legal office
        "donations.view_grantproject", "donations.add_grantproject", "donations.change_grantproject",
        "donations.view_projectdevice",
        "donations.view_beneficiary", "donations.add_beneficiary", "donations.change_beneficiary",
        "donations.view_projectobligation", "donations.add_projectobligation", "donations.change_projectobligation",
        "donations.view_obligationrecord", "donations.log_obligation",
        "donations.view_mayoralorder", "donations.view_orderannexdevice", "donations.view_orderannexbeneficiary",
        "donations.view_transfer", "donations.add_transfer", "donations.change_transfer",
        "donations.view_transferitem", "donations.view_transferevent", "donations.move_transfer",
        # a project's list of beneficiaries from a spreadsheet
        "core.view_importbatch", "core.view_importrow", "core.apply_importbatch",
        # the background jobs they start (core.jobs: a person sees their own), and resuming one that stalled
        "core.view_job", "core.resume_job",
        # the analytics (e-Inclusion coverage among them) and the issued reports
        "reports.view_analytics", "reports.view_issuedreport",
        # a beneficiary's personal data: the export, and the erasure after the retention period (core.privacy)
        "donations.export_personal_data_beneficiary", "donations.anonymise_beneficiary", "core.view_anonymisation",
    },
    Role.LEGAL_OFFICE: {
        "assets.view_supplier", "assets.view_contract", "assets.view_device", "assets.view_kit",
        "assets.view_storagemedium", "assets.view_deviceevent", "core.view_storeddocument",
        "loans.view_loan", "loans.view_recipient", "loans.view_councilterm",
        # the legal office checks that data is gone before a transfer
        "wipe.view_sanitization", "wipe.view_diskremoval", "wipe.view_custodyentry", "wipe.view_nomediaconfirmation",
        "wipe.view_wipeevidence", "wipe.view_wipeevent", "wipe.view_devicetosanitize",
        "wipe.view_wipesession", "wipe.view_wipesessiondevice",
        # the mayor's orders and their annexes, and the decision on each transfer
        "donations.view_mayoralorder", "donations.add_mayoralorder", "donations.change_mayoralorder",
        "donations.view_orderannexdevice", "donations.add_orderannexdevice",
        "donations.view_orderannexbeneficiary", "donations.add_orderannexbeneficiary",
        "donations.view_transfer", "donations.view_transferitem", "donations.view_transferevent",
        "donations.decide_transfer", "donations.override_transfer_check",
        "donations.view_grantproject", "donations.view_projectdevice", "donations.view_beneficiary",
        "donations.view_donationoffer", "donations.view_liquidation", "donations.view_liquidationitem",
        # an order's annex from a spreadsheet
        "core.view_importbatch", "core.view_importrow", "core.apply_importbatch",
        # the background jobs they start (a large report, an import), and resuming one that stalled
        "core.view_job", "core.resume_job",
        # the compliance check, and the annual disposal report (what left the office under which order)
        "reports.view_compliance_check", "reports.view_analytics", "reports.view_issuedreport",
        "reports.issue_report",
        # a councillor's (a borrower's) personal data: the export, and the erasure after the retention period
        "loans.export_personal_data_recipient", "loans.anonymise_recipient", "core.view_anonymisation",
    },
    # Councillors see only what is loaned to them (core.scoping), not through model permissions; they
    # may report a fault on a device they hold, which faults.services checks.
    Role.COUNCILLOR: {"faults.add_faultreport"},
    # The auditor reads everything and changes nothing; computed in sync_roles from AUDITED_APPS.
    Role.AUDITOR: set(),
}


def sync_roles(*, group_model=None, permission_model=None) -> None:
    """Give each role's group exactly the permissions defined above (the groups must exist)."""
    from django.contrib.auth.models import Group, Permission

    group_model = group_model or Group
    permission_model = permission_model or Permission
    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in permission_model.objects.select_related("content_type")
    }
    for name, wanted in ROLE_PERMISSIONS.items():
        group = group_model.objects.filter(name=name).first()
        if group is None:
            continue
        if name == Role.AUDITOR:
            wanted = {key for key in all_perms if key.split(".")[0] in AUDITED_APPS and ".view_" in key}
        group.permissions.set([all_perms[key] for key in sorted(wanted) if key in all_perms])


def sync_roles_after_migrate(sender, **kwargs) -> None:
    # post_migrate fires once per app; the last app of the stack has all permissions in place.
    if sender.name == "reports":
        sync_roles()

