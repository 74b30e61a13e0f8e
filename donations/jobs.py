"""The donations app's background jobs (core.jobs): completing the approved transfers of a whole project or
order, one transfer (and its protocol) per beneficiary; and preparing them (`transfers_for_project`).

Each transfer is one unit: `transfer_complete` issues its protocol, moves its devices and writes its events
in the unit's transaction together with the job's record of it, so a worker that dies leaves every transfer
either completed and recorded or untouched, and the resumed job completes each exactly once.
"""
from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import InvalidInput
from core.jobs import JobContext, JobKind, register
from donations.choices import BeneficiaryKind, TransferStatus
from donations.models import GrantProject, MayoralOrder, Transfer
from donations.services import transfer_complete, transfers_for_project

__all__ = ["COMPLETE_TRANSFERS", "PREPARE_TRANSFERS", "approved_transfers", "register_jobs"]

COMPLETE_TRANSFERS = "donations.transfers_complete"
PREPARE_TRANSFERS = "donations.transfers_for_project"


def _id(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(_("Give the number (id) of the record."), field=name)
    return value


def _clean(params: dict, by) -> dict:
    """A project or an order (or both: the project's transfers under that order), or a list of transfers."""
    project, order = _id(params, "project"), _id(params, "order")
    transfers = params.get("transfers")
    if transfers is not None:
        if (not isinstance(transfers, list) or not transfers
                or any(isinstance(t, bool) or not isinstance(t, int) for t in transfers)):
            raise InvalidInput(_("List the transfers by their numbers (ids)."), field="transfers")
        known = set(Transfer.objects.filter(pk__in=transfers).values_list("pk", flat=True))
        missing = [t for t in transfers if t not in known]
        if missing:
            raise InvalidInput(_("There is no transfer #%(id)s.") % {"id": missing[0]}, field="transfers")
    if project is None and order is None and not transfers:
        raise InvalidInput(_("Name the project or the order whose approved transfers to complete."), field="project")
    if project is not None and not GrantProject.objects.filter(pk=project).exists():
        raise InvalidInput(_("There is no project #%(id)s.") % {"id": project}, field="project")
    if order is not None and not MayoralOrder.objects.filter(pk=order).exists():
        raise InvalidInput(_("There is no order #%(id)s.") % {"id": order}, field="order")
    cleaned = {key: value for key, value in (("project", project), ("order", order)) if value is not None}
    if transfers:
        cleaned["transfers"] = sorted(set(transfers))
    return cleaned


def approved_transfers(params: dict):
    """The approved transfers a job's parameters name, by number (the order the protocols are issued in)."""
    transfers = Transfer.objects.filter(status=TransferStatus.APPROVED)
    if "project" in params:
        transfers = transfers.filter(recipient__beneficiary__project_id=params["project"])
    if "order" in params:
        transfers = transfers.filter(order_id=params["order"])
    if "transfers" in params:
        transfers = transfers.filter(pk__in=params["transfers"])
    return transfers.order_by("number", "pk")


def _run(ctx: JobContext) -> dict:
    todo = [t for t in approved_transfers(ctx.params).only("pk", "number") if f"transfer:{t.pk}" not in ctx.recorded]
    ctx.set_total(len(ctx.recorded) + len(todo))
    for transfer in todo:
        ctx.run_item(f"transfer:{transfer.pk}",
                     lambda transfer=transfer: transfer_complete(transfer=transfer, by=ctx.by), label=transfer.number)
    return {"completed": [label for label in ctx.job.items.filter(outcome="done").values_list("label", flat=True)]
            [:1000]}


def _clean_prepare(params: dict, by) -> dict:
    project, order = _id(params, "project"), _id(params, "order")
    if project is None or not GrantProject.objects.filter(pk=project).exists():
        raise InvalidInput(_("Name the project."), field="project")
    if order is None or not MayoralOrder.objects.filter(pk=order).exists():
        raise InvalidInput(_("Name the order."), field="order")
    try:
        transfer_date = date.fromisoformat(str(params.get("transfer_date") or ""))
    except ValueError:
        raise InvalidInput(_("Give the transfer date as a date."), field="transfer_date") from None
    kinds = params.get("kinds") or []
    if not isinstance(kinds, list) or any(kind not in BeneficiaryKind.values for kind in kinds):
        raise InvalidInput(_("Choose kinds of beneficiary from: %(kinds)s.")
                           % {"kinds": ", ".join(BeneficiaryKind.values)}, field="kinds")
    return {"project": project, "order": order, "transfer_date": transfer_date.isoformat(), "kinds": kinds,
            "submit": bool(params.get("submit"))}


def _run_prepare(ctx: JobContext) -> dict:
    """One unit: transfers_for_project as a whole (drafts are quick; no document is issued), in one transaction
    with its record, so a worker dying in it leaves no transfer and the resumed job prepares them all once."""
    params = ctx.params
    outcome = {}

    def prepare():
        outcome["result"] = transfers_for_project(
            order=MayoralOrder.objects.get(pk=params["order"]), project=GrantProject.objects.get(pk=params["project"]),
            transfer_date=date.fromisoformat(params["transfer_date"]), by=ctx.by, kinds=params["kinds"] or None,
            submit=params["submit"])
        return None

    ctx.set_total(1)
    ctx.run_item("prepare", prepare, skip_refused=False)
    result = outcome.get("result")
    if result is None:  # done by an earlier run of this job
        return {}
    return {"created": [t.number for t in result.created], "skipped": result.skipped}


def register_jobs() -> None:
    register(JobKind(name=PREPARE_TRANSFERS, label=gettext_lazy("prepare a project's transfers"), run=_run_prepare,
                     clean=_clean_prepare, permissions=("donations.add_transfer",)))
    register(JobKind(name=COMPLETE_TRANSFERS, label=gettext_lazy("complete approved transfers"), run=_run,
                     clean=_clean,
                     # completing a transfer is a move of the transfer and of its devices (the IT office's)
                     permissions=("donations.move_transfer", "assets.move_device")))
