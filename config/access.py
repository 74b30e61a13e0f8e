"""The permission matrix: who may do what, for every API operation, every page and every admin screen.

One table, read by people and by tests/security/test_permission_matrix.py, which asks the running service
every cell (each operation or page as each role and as an anonymous visitor) and fails when an answer
differs from the table, when a route, admin or admin action exists without a row here, or when a row names
something that no longer exists. A new endpoint therefore needs a row here before its tests pass.

How to read a row: the roles listed may use it; everyone else is refused (an anonymous visitor is sent to
sign in; a signed-in person without the right gets 403, or 404 where the record is one they may not know
of). The rights come from core.roles (Django permissions per role) and core.scoping (what is lent to a
person); this table does not grant anything, it states what those give, so that a change to either is seen.

Roles: ANON an anonymous visitor, IT the IT office, PM a project manager, LEGAL the legal office,
COUNC a councillor, AUDIT the auditor (reads everything, changes nothing).
OWN: a signed-in person's own records only — what is lent to them, the faults they reported, the
documents of their loans. It is all a councillor sees. On a list, anyone signed in gets their own records
(usually none); on one record, only its holder gets it and anyone else a 404, as if it did not exist.
"""
from __future__ import annotations

from typing import NamedTuple

ANON = "anonymous"
IT = "it_office"
PM = "project_manager"
LEGAL = "legal_office"
COUNC = "councillor"
AUDIT = "auditor"
OWN = "own records"

ROLES = (ANON, IT, PM, LEGAL, COUNC, AUDIT)
STAFF = frozenset({IT, PM, LEGAL, AUDIT})  # the office's roles (users with access to the admin)
SIGNED_IN = STAFF | {COUNC}
EVERYONE = SIGNED_IN | {ANON}
READERS = STAFF  # what every office role may read (the auditor reads everything)
NOBODY: frozenset[str] = frozenset()


# --- the API (/api/): (route name, HTTP method) -> who may ------------------------------------------
# Reading a register needs the model's view permission; each change is its own POST action with its own
# right. An allowed write may still be refused for what it asks (400/409): the table is about who may ask.

API: dict[tuple[str, str], frozenset[str]] = {
    # the API's own pages; the schema and its viewers are public documentation, not data
    ("api-root", "GET"): SIGNED_IN,
    ("schema", "GET"): EVERYONE,
    ("api-docs", "GET"): EVERYONE,
    ("api-redoc", "GET"): EVERYONE,
    # one's own API token: sign in for it with a password (anyone may try), see it, revoke it
    ("api-token", "POST"): EVERYONE,
    ("api-token", "GET"): SIGNED_IN,
    ("api-token", "DELETE"): SIGNED_IN,
    # what needs the signed-in person now: each gets the panels of their own roles (a councillor: their own)
    ("dashboard", "GET"): SIGNED_IN,

    # assets: suppliers, contracts, devices, kits, storage media — the IT office keeps the register
    ("supplier-list", "GET"): READERS,
    ("supplier-detail", "GET"): READERS,
    ("supplier-list", "POST"): {IT},
    ("supplier-detail", "PUT"): {IT},
    ("supplier-detail", "PATCH"): {IT},
    ("contract-list", "GET"): READERS,
    ("contract-detail", "GET"): READERS,
    ("contract-list", "POST"): {IT},
    ("contract-detail", "PUT"): {IT},
    ("contract-detail", "PATCH"): {IT},
    ("device-list", "GET"): READERS | {OWN},
    ("device-detail", "GET"): READERS | {OWN},
    ("device-list", "POST"): {IT},
    ("device-detail", "PUT"): {IT},
    ("device-detail", "PATCH"): {IT},
    ("device-put-in-use", "POST"): {IT},
    ("device-send-to-repair", "POST"): {IT},
    ("device-return-to-stock", "POST"): {IT},
    ("device-retire", "POST"): {IT},
    ("device-report-lost", "POST"): {IT},
    ("device-record-card", "POST"): {IT, PM},  # a project's sets get record cards too
    ("device-event-list", "GET"): READERS,
    ("device-event-detail", "GET"): READERS,
    ("kit-list", "GET"): READERS,
    ("kit-detail", "GET"): READERS,
    ("kit-list", "POST"): {IT},
    ("kit-detail", "PUT"): {IT},
    ("kit-detail", "PATCH"): {IT},
    ("storage-medium-list", "GET"): READERS,
    ("storage-medium-detail", "GET"): READERS,
    ("storage-medium-list", "POST"): {IT},
    ("storage-medium-detail", "PUT"): {IT},
    ("storage-medium-detail", "PATCH"): {IT},

    # loans: the IT office lends and takes back; a councillor sees their own loans
    ("council-term-list", "GET"): READERS,
    ("council-term-detail", "GET"): READERS,
    ("council-term-list", "POST"): {IT},
    ("council-term-change-end", "POST"): {IT},
    ("recipient-list", "GET"): READERS,
    ("recipient-detail", "GET"): READERS,
    ("recipient-list", "POST"): {IT},
    ("recipient-detail", "PUT"): {IT},
    ("recipient-detail", "PATCH"): {IT},
    # a borrower's personal data (GDPR): the legal office exports it and erases it after the retention period
    ("recipient-personal-data", "GET"): {LEGAL},
    ("recipient-anonymise", "POST"): {LEGAL},
    ("loan-list", "GET"): READERS | {OWN},
    ("loan-detail", "GET"): READERS | {OWN},
    ("loan-list", "POST"): {IT},
    ("loan-extend", "POST"): {IT},
    ("loan-return-loan", "POST"): {IT},
    ("loan-mark-lost", "POST"): {IT},
    ("loan-issue-agreement", "POST"): {IT},
    ("loan-setup-step", "POST"): {IT},
    # what was missing at a return: not the legal office's concern
    ("loan-finding-list", "GET"): {IT, PM, AUDIT},
    ("loan-finding-detail", "GET"): {IT, PM, AUDIT},
    ("loan-finding-settle", "POST"): {IT},

    # faults: the holder reports and writes; the IT office handles
    ("fault-list", "GET"): {IT, AUDIT, OWN},
    ("fault-detail", "GET"): {IT, AUDIT, OWN},
    ("fault-list", "POST"): {COUNC},  # on a device lent to them (the service checks it is theirs)
    ("fault-reply", "POST"): {IT, OWN},  # the reporter and the IT office; the auditor only reads
    ("fault-acknowledge", "POST"): {IT},
    ("fault-start-work", "POST"): {IT},
    ("fault-resolve", "POST"): {IT},
    ("fault-reject", "POST"): {IT},
    ("fault-replace", "POST"): {IT},

    # wipes: the IT office wipes and removes disks; the legal office checks that data is gone
    ("sanitization-list", "GET"): {IT, LEGAL, AUDIT},
    ("sanitization-detail", "GET"): {IT, LEGAL, AUDIT},
    ("sanitization-list", "POST"): {IT},
    ("sanitization-detail", "PUT"): {IT},
    ("sanitization-detail", "PATCH"): {IT},
    ("sanitization-detail", "DELETE"): {IT},  # asked, and always refused (409): wipe records are kept
    ("sanitization-validate", "POST"): {IT},
    ("sanitization-reject", "POST"): {IT},
    ("sanitization-correct", "POST"): {IT},
    ("disk-removal-list", "GET"): {IT, LEGAL, AUDIT},
    ("disk-removal-detail", "GET"): {IT, LEGAL, AUDIT},
    ("disk-removal-list", "POST"): {IT},
    ("disk-removal-custody", "POST"): {IT},
    ("disk-removal-record-destruction", "POST"): {IT},
    ("device-to-sanitize-list", "GET"): {IT, LEGAL, AUDIT},
    ("device-to-sanitize-detail", "GET"): {IT, LEGAL, AUDIT},
    ("device-to-sanitize-sanitize", "POST"): {IT},
    ("device-to-sanitize-confirm-no-media", "POST"): {IT},
    ("wipe-session-list", "GET"): {IT, LEGAL, AUDIT},
    ("wipe-session-detail", "GET"): {IT, LEGAL, AUDIT},
    ("wipe-session-list", "POST"): {IT},
    ("wipe-session-record-result", "POST"): {IT},
    ("wipe-session-close", "POST"): {IT},
    ("wipe-session-retry", "POST"): {IT},
    ("wipe-report-list", "GET"): {IT, LEGAL, AUDIT},
    ("wipe-report-detail", "GET"): {IT, LEGAL, AUDIT},
    ("wipe-report-list", "POST"): {IT},

    # grant projects: the project manager's; beneficiaries are personal data, not the IT office's to read
    ("grant-project-list", "GET"): READERS,
    ("grant-project-detail", "GET"): READERS,
    ("grant-project-list", "POST"): {PM},
    ("grant-project-detail", "PUT"): {PM},
    ("grant-project-detail", "PATCH"): {PM},
    ("grant-project-add-devices", "POST"): {PM},
    ("grant-project-durability-report", "POST"): {PM},
    ("grant-project-obligation-gaps", "GET"): {PM, AUDIT},  # the gaps name beneficiaries
    ("beneficiary-list", "GET"): {PM, LEGAL, AUDIT},
    ("beneficiary-detail", "GET"): {PM, LEGAL, AUDIT},
    ("beneficiary-list", "POST"): {PM},
    ("beneficiary-detail", "PUT"): {PM},
    ("beneficiary-detail", "PATCH"): {PM},
    ("beneficiary-allocate", "POST"): {PM},
    # a beneficiary's personal data (GDPR): its export, and its erasure after the retention period
    ("beneficiary-personal-data", "GET"): {PM},
    ("beneficiary-anonymise", "POST"): {PM},
    ("obligation-list", "GET"): {PM, AUDIT},
    ("obligation-detail", "GET"): {PM, AUDIT},
    ("obligation-list", "POST"): {PM},
    ("obligation-coverage", "GET"): {PM, AUDIT},
    ("obligation-record", "POST"): {PM},
    ("obligation-record-month", "POST"): {PM},
    ("obligation-record-list", "GET"): {PM, AUDIT},
    ("obligation-record-detail", "GET"): {PM, AUDIT},

    # mayoral orders and free transfers: the legal office registers orders and decides transfers; the
    # project manager prepares and submits them; the IT office hands the devices over (complete). The
    # right to move a transfer (submit, cancel, complete) is one permission, so the IT office may also
    # submit and cancel.
    ("mayoral-order-list", "GET"): READERS,
    ("mayoral-order-detail", "GET"): READERS,
    ("mayoral-order-list", "POST"): {LEGAL},
    ("mayoral-order-detail", "PUT"): {LEGAL},
    ("mayoral-order-detail", "PATCH"): {LEGAL},
    ("mayoral-order-annex-add", "POST"): {LEGAL},
    ("mayoral-order-annex-import", "POST"): {LEGAL},
    ("transfer-list", "GET"): READERS,
    ("transfer-detail", "GET"): READERS,
    ("transfer-check", "GET"): READERS,
    ("transfer-list", "POST"): {PM},
    ("transfer-for-project", "POST"): {PM},
    ("transfer-detail", "PUT"): {PM},
    ("transfer-detail", "PATCH"): {PM},
    ("transfer-submit", "POST"): {IT, PM},
    ("transfer-cancel", "POST"): {IT, PM},
    ("transfer-approve", "POST"): {LEGAL},
    ("transfer-reject", "POST"): {LEGAL},
    ("transfer-complete", "POST"): {IT},
    # every approved transfer of a project or an order, in a background job (core.jobs): the same move
    ("transfer-complete-for-project", "POST"): {IT},

    # residents' offers and scrapping: the IT office's, the legal office reads them
    ("donation-offer-list", "GET"): {IT, LEGAL, AUDIT},
    ("donation-offer-detail", "GET"): {IT, LEGAL, AUDIT},
    ("donation-offer-list", "POST"): {IT},
    ("donation-offer-detail", "PUT"): {IT},
    ("donation-offer-detail", "PATCH"): {IT},
    ("donation-offer-accept", "POST"): {IT},
    ("donation-offer-refuse", "POST"): {IT},
    ("liquidation-list", "GET"): {IT, LEGAL, AUDIT},
    ("liquidation-detail", "GET"): {IT, LEGAL, AUDIT},
    ("liquidation-list", "POST"): {IT},

    # issued documents: about records the reader may see, or a borrower's own loan (core.selectors)
    ("document-list", "GET"): READERS | {OWN},
    ("document-detail", "GET"): READERS | {OWN},
    # spreadsheet imports: each role into its own tables (suppliers/devices, beneficiaries, annexes)
    ("import-batch-list", "GET"): READERS,
    ("import-batch-detail", "GET"): READERS,
    ("import-batch-tables", "GET"): SIGNED_IN,  # the tables the caller may import into (a councillor: none)
    ("import-batch-list", "POST"): {IT, PM, LEGAL},
    ("import-batch-confirm", "POST"): {IT},  # the world's batch is a supplier list: the IT office's
    ("import-batch-cancel", "POST"): {IT},

    # background jobs (core.jobs): each person sees the jobs they started (a councillor starts none, and has
    # no jobs screen); the IT office and the auditor see everyone's. The world's job is the IT office's, so
    # the project manager and the legal office get a 404 for it, as for any job that is not theirs.
    ("job-list", "GET"): READERS,
    ("job-detail", "GET"): {IT, AUDIT},
    ("job-resume", "POST"): {IT},  # the other roles resume their own jobs (core.resume_job)

    # reports: the compliance check (IT, legal), the analytics, the report PDFs
    ("compliance", "GET"): {IT, LEGAL, AUDIT},
    ("report-list", "GET"): READERS,
    ("report-detail", "GET"): READERS,
    ("issued-report-list", "GET"): READERS,
    ("issued-report-detail", "GET"): READERS,
    ("issued-report-list", "POST"): {IT, LEGAL},
}


# --- pages (outside /api/ and /admin/): (route name, HTTP method) -> who may ----------------------------

PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("home", "GET"): EVERYONE,
    ("login", "GET"): EVERYONE,  # the signed-in are sent on to their start page
    ("login", "POST"): EVERYONE,
    ("logout", "POST"): EVERYONE,
    ("set_language", "POST"): EVERYONE,
    # verification of a printout is public and shows no personal data
    ("verify-lookup", "GET"): EVERYONE,
    ("verify", "GET"): EVERYONE,
    ("verify", "POST"): EVERYONE,
    # the issued PDF itself: as the API's document-detail
    ("document-download", "GET"): READERS | {OWN},
    # uploaded files, by the folder's permission (here a contract's scan)
    ("protected-media", "GET"): READERS,
    # the borrowers' portal (/my/): office staff without loans are sent on to the admin
    ("portal:home", "GET"): SIGNED_IN,
    ("portal:loan", "GET"): {OWN},
    ("portal:device", "GET"): {OWN},
    ("portal:document", "GET"): {OWN},
    ("portal:fault-new", "GET"): SIGNED_IN,  # offers only the devices lent to the person
    ("portal:fault-new", "POST"): SIGNED_IN,
    ("portal:fault", "GET"): {OWN},
    ("portal:fault-reply", "POST"): {OWN},
    ("portal:fault-photo", "GET"): {OWN},
    ("portal:personal-data", "GET"): {OWN},  # everything the office holds about the borrower (GDPR art. 15)
    ("portal:api-token", "GET"): SIGNED_IN,
    ("portal:api-token", "POST"): SIGNED_IN,
    # reports (/reports/)
    ("reports:compliance", "GET"): {IT, LEGAL, AUDIT},
    ("reports:analytics-index", "GET"): READERS,
    ("reports:analytics", "GET"): READERS,
    ("reports:documents", "GET"): READERS,
    ("reports:documents", "POST"): {IT, LEGAL},  # issuing a report PDF
}


# --- the admin (/admin/) -----------------------------------------------------------------------------
# Only the office's roles enter the admin (a councillor is not staff). Django's own pages (index, login,
# password change) are Django's; what each model's pages allow is below.

class Rights(NamedTuple):
    """Who may open a model's list and records (view), add one, change one, delete one in the admin."""

    view: frozenset[str]
    add: frozenset[str] = NOBODY
    change: frozenset[str] = NOBODY
    delete: frozenset[str] = NOBODY


SUPERUSER_ONLY = Rights(NOBODY)

ADMIN: dict[str, Rights] = {
    # accounts, groups and sign-in records: the superuser's (roles are set in code, core.roles)
    "auth.user": SUPERUSER_ONLY,
    "auth.group": SUPERUSER_ONLY,
    "axes.accessfailurelog": SUPERUSER_ONLY,
    # locked sign-ins: the IT office sees them and unlocks a user name by deleting its attempts
    "axes.accessattempt": Rights(view={IT}, delete={IT}),
    "axes.accesslog": Rights(view={IT}),
    "authtoken.tokenproxy": Rights(view={IT}, delete={IT}),  # every user's token, by its ending; revoke
    # assets
    "assets.supplier": Rights(view=READERS, add={IT}, change={IT}),
    "assets.contract": Rights(view=READERS, add={IT}, change={IT}),
    "assets.device": Rights(view=READERS, add={IT}, change={IT}),
    "assets.kit": Rights(view=READERS, add={IT}, change={IT}),
    "assets.storagemedium": Rights(view=READERS, add={IT}, change={IT}),
    "assets.deviceevent": Rights(view=READERS),
    # core: issued documents and imports (written by services only)
    "core.storeddocument": Rights(view=READERS),
    "core.importbatch": Rights(view=READERS),
    "core.anonymisation": Rights(view={PM, LEGAL, AUDIT}),  # whose personal data was erased, by whom, when
    # background jobs, read-only (each role sees the jobs it started, the IT office and the auditor all); the
    # queue's own table (django-tasks) is the superuser's
    "core.job": Rights(view=READERS),
    "django_tasks_database.dbtaskresult": SUPERUSER_ONLY,
    # loans and faults
    "loans.councilterm": Rights(view=READERS, add={IT}),
    "loans.recipient": Rights(view=READERS, add={IT}, change={IT}),
    "loans.loan": Rights(view=READERS, add={IT}),  # every later change is an action
    "loans.loanfinding": Rights(view={IT, PM, AUDIT}),
    "faults.faultreport": Rights(view={IT, AUDIT}),
    # wipes
    "wipe.sanitization": Rights(view={IT, LEGAL, AUDIT}, add={IT}, change={IT}),
    "wipe.diskremoval": Rights(view={IT, LEGAL, AUDIT}, add={IT}),
    "wipe.wipesession": Rights(view={IT, LEGAL, AUDIT}, add={IT}),
    "wipe.wipeevidence": Rights(view={IT, LEGAL, AUDIT}),
    "wipe.nomediaconfirmation": Rights(view={IT, LEGAL, AUDIT}),
    "wipe.devicetosanitize": Rights(view={IT, LEGAL, AUDIT}),
    # donations
    "donations.grantproject": Rights(view=READERS, add={PM}, change={PM}),
    "donations.projectdevice": Rights(view=READERS),
    "donations.beneficiary": Rights(view={PM, LEGAL, AUDIT}, add={PM}, change={PM}),
    "donations.projectobligation": Rights(view={PM, AUDIT}, add={PM}, change={PM}),
    "donations.obligationrecord": Rights(view={PM, AUDIT}),
    "donations.mayoralorder": Rights(view=READERS, add={LEGAL}, change={LEGAL}),
    "donations.transfer": Rights(view=READERS, add={PM}, change={PM}),
    "donations.donationoffer": Rights(view={IT, LEGAL, AUDIT}, add={IT}, change={IT}),
    "donations.liquidation": Rights(view={IT, LEGAL, AUDIT}, add={IT}),
    "reports.issuedreport": Rights(view=READERS),
}

# Actions on a model's list (select records, choose the action): who is offered each. Django's
# "delete selected" is offered only where the model's delete right is given above (API tokens, sign-in
# lockouts): register records are never deleted.
ADMIN_ACTIONS: dict[tuple[str, str], frozenset[str]] = {
    ("authtoken.tokenproxy", "revoke"): {IT},
    ("axes.accessattempt", "cleanup_expired_attempts"): {IT},
    ("assets.supplier", "export_admin_action"): {IT},
    ("assets.contract", "export_admin_action"): {IT},
    ("assets.device", "export_admin_action"): {IT},
    ("assets.device", "move_put_in_use"): {IT},
    ("assets.device", "move_send_to_repair"): {IT},
    ("assets.device", "move_return_to_stock"): {IT},
    ("assets.device", "move_retire"): {IT},
    ("assets.device", "move_report_lost"): {IT},
    ("assets.device", "issue_record_card"): {IT, PM},
    ("loans.councilterm", "change_end"): {IT},
    ("loans.loan", "loan_extend"): {IT},
    ("loans.loan", "loan_return"): {IT},
    ("loans.loan", "loan_mark_lost"): {IT},
    ("loans.loan", "loan_record_setup_step"): {IT},
    ("loans.loan", "loan_agreement_issue_missing"): {IT},
    ("loans.loanfinding", "settle"): {IT},
    ("wipe.sanitization", "validate"): {IT},
    ("wipe.sanitization", "reject"): {IT},
    ("wipe.devicetosanitize", "sanitize"): {IT},
    ("wipe.devicetosanitize", "confirm_no_media"): {IT},
    ("wipe.devicetosanitize", "open_session"): {IT},
    ("donations.grantproject", "add_devices"): {PM},
    ("donations.grantproject", "issue_durability_report"): {PM},
    ("donations.beneficiary", "allocate"): {PM},
    ("donations.beneficiary", "export_admin_action"): {PM},
    ("donations.beneficiary", "export_personal_data"): {PM},
    ("donations.beneficiary", "anonymise"): {PM},
    ("loans.recipient", "export_personal_data"): {LEGAL},
    ("loans.recipient", "anonymise"): {LEGAL},
    ("donations.projectobligation", "record_month"): {PM},
    ("donations.mayoralorder", "export_admin_action"): {LEGAL},
    ("donations.transfer", "transfer_submit"): {IT, PM},
    ("donations.transfer", "transfer_cancel"): {IT, PM},
    ("donations.transfer", "transfer_approve"): {LEGAL},
    ("donations.transfer", "transfer_reject"): {LEGAL},
    ("donations.transfer", "transfer_complete"): {IT},
    ("donations.transfer", "transfer_complete_background"): {IT},
    ("core.job", "resume_jobs"): {IT, PM, LEGAL},  # their own jobs (the IT office: anyone's)
    ("donations.donationoffer", "accept"): {IT},
    ("donations.donationoffer", "refuse"): {IT},
}

# The admin's own pages beside each model's list and forms: the buttons on a record's page (each a POST
# that calls a service), exports, uploads. (route name, method) -> who may.
ADMIN_PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("admin:assets_supplier_export", "GET"): READERS,
    ("admin:assets_contract_export", "GET"): READERS,
    ("admin:assets_device_export", "GET"): READERS,
    ("admin:core_importbatch_upload", "GET"): {IT, PM, LEGAL},
    ("admin:core_importbatch_upload", "POST"): {IT, PM, LEGAL},
    ("admin:core_importbatch_confirm", "POST"): {IT},  # the world's batch is a supplier list
    ("admin:core_importbatch_cancel", "POST"): {IT},
    ("admin:faults_faultreport_handle", "POST"): {IT},
    ("admin:wipe_sanitization_validate", "POST"): {IT},
    ("admin:wipe_sanitization_reject", "POST"): {IT},
    ("admin:wipe_sanitization_correct", "POST"): {IT},
    ("admin:wipe_diskremoval_custody", "POST"): {IT},
    ("admin:wipe_diskremoval_destroy", "POST"): {IT},
    ("admin:wipe_wipesession_result", "POST"): {IT},
    ("admin:wipe_wipesession_import", "POST"): {IT},
    ("admin:wipe_wipesession_close", "POST"): {IT},
    ("admin:wipe_wipesession_retry", "POST"): {IT},
    ("admin:donations_grantproject_report", "POST"): {PM},
    ("admin:donations_grantproject_add_devices", "POST"): {PM},
    ("admin:donations_grantproject_gaps", "GET"): {PM, AUDIT},  # the gaps name beneficiaries
    ("admin:donations_beneficiary_export", "GET"): {PM, LEGAL, AUDIT},
    ("admin:donations_projectobligation_record_month", "POST"): {PM},
    ("admin:donations_mayoralorder_annex_import", "POST"): {LEGAL},
    ("admin:donations_mayoralorder_export", "GET"): READERS,
    ("admin:donations_transfer_for_project", "GET"): {PM},
    ("admin:donations_transfer_for_project", "POST"): {PM},
    ("admin:donations_transfer_submit", "POST"): {IT, PM},
    ("admin:donations_transfer_cancel", "POST"): {IT, PM},
    ("admin:donations_transfer_approve", "POST"): {LEGAL},
    ("admin:donations_transfer_reject", "POST"): {LEGAL},
    ("admin:donations_transfer_complete", "POST"): {IT},
}
