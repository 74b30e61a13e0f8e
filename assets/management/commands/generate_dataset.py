"""Generate a synthetic register of N devices for load tests and query plans (assets.dataset).

Never for a real register: with DEBUG off it runs only with --yes, and it refuses a database that
already holds devices unless --append says to add to them. Everything is written in one transaction:
a failure leaves nothing behind.
"""
from __future__ import annotations

import random
import time
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import dataset
from assets.models import Device
from core.models import StoredDocument


def dataset_modules() -> list:
    """The `dataset` modules of the apps built on the register, in INSTALLED_APPS order."""
    modules = []
    for app in apps.get_app_configs():
        ours = Path(app.path).parent == Path(settings.BASE_DIR)
        if ours and app.name != "assets" and find_spec(f"{app.name}.dataset") is not None:
            modules.append(import_module(f"{app.name}.dataset"))
    return modules


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return _("Generate a synthetic register of N devices with their media, events, loans, wipes, projects and "
                 "transfers, written in bulk, for load tests. Never on a real register.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--devices", type=int, required=True, help=_("Number of devices to generate."))
        parser.add_argument("--events-per-device", type=float, default=10.0,
                            help=_("Average number of lifecycle events per device (default 10)."))
        parser.add_argument("--seed", type=int, default=2026, help=_("Seed of the random choices (default 2026)."))
        parser.add_argument("--batch-size", type=int, default=20_000, help=_("Rows per bulk write (default 20000)."))
        parser.add_argument("--append", action="store_true",
                            help=_("Add to a database that already holds devices."))
        parser.add_argument("--yes", action="store_true",
                            help=_("Run with DEBUG off: confirms that this database is not a real register."))
        parser.add_argument("--baseline", type=int, default=0, metavar="ROWS",
                            help=_("Also time a plain bulk_create of this many bare event rows (rolled back)."))

    def handle(self, *args, devices: int, events_per_device: float, seed: int, batch_size: int, append: bool,
               yes: bool, baseline: int, **options) -> None:
        if devices < 1 or batch_size < 1 or events_per_device < 1:
            raise CommandError(_("--devices, --batch-size and --events-per-device must be positive."))
        if not settings.DEBUG and not yes:
            raise CommandError(_("Refused: DEBUG is off, so this may be a real register. The generated data cannot "
                                 "be told apart from real records. Run with --yes only on a database made for tests."))
        if not append and Device.objects.exists():
            raise CommandError(_("Refused: this database already holds devices. Generate into an empty database, or "
                                 "add --append to add to a test database."))

        started = time.monotonic()
        writer = dataset.BulkWriter(batch_size=batch_size)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            it_user, validator, manager = dataset.ensure_actors()
            writer.history_user_id = it_user
            ctx = dataset.DatasetContext(rng=random.Random(seed), writer=writer, devices=devices,
                                         today=timezone.localdate(), it_user_id=it_user, validator_user_id=validator,
                                         manager_user_id=manager)
            dataset.ensure_pdf(ctx)
            ctx.document_sink = writer.sink(StoredDocument, [
                "id", "code", "kind", "title", "file", "sha256", "size", "template_version", "issued_at",
                "issued_by_id", "subject_type_id", "subject_id"])
            register = dataset.RegisterGenerator(ctx, events_per_device=events_per_device)
            register.build_contracts()
            contributions = dataset.contributions_of(dataset_modules(), ctx)
            if connection.vendor == "postgresql" and not append:
                writer.strip_tables()
            for contribution in contributions:
                contribution.prepare()
            register.generate(contributions)
            for contribution in contributions:
                contribution.finish()
            writer.flush_all()
            generated = time.monotonic() - started
            writer.rebuild_tables()
            writer.reset_sequences()
        written = time.monotonic() - started
        analyze = 0.0
        if connection.vendor == "postgresql":
            began = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            analyze = time.monotonic() - began
        self._report(writer, written, analyze)
        if writer.rebuilt:
            self.stdout.write(_("Rows written in %(generated).1f s; indexes and constraints rebuilt in %(rebuilt).1f s "
                                "(slowest: %(slowest)s).")
                              % {"generated": generated, "rebuilt": sum(writer.rebuilt.values()),
                                 "slowest": ", ".join(f"{t} {s:.1f} s" for t, s in sorted(
                                     writer.rebuilt.items(), key=lambda i: -i[1])[:3])})
        if baseline:
            rate = dataset.baseline_event_rate(rows=baseline, batch_size=min(batch_size, 5_000))
            self.stdout.write(_("Baseline: plain bulk_create of %(rows)d bare event rows: %(rate)s rows/s (rolled back).")
                              % {"rows": baseline, "rate": f"{rate:,.0f}"})

    def _report(self, writer: dataset.BulkWriter, written: float, analyze: float) -> None:
        self.stdout.write(_("%(table)-42s %(rows)12s %(seconds)9s %(rate)12s")
                          % {"table": _("table"), "rows": _("rows"), "seconds": _("write s"), "rate": _("rows/s")})
        total = 0
        for table in sorted(writer.rows, key=lambda t: -writer.rows[t]):
            rows, seconds = writer.rows[table], writer.seconds[table]
            total += rows
            rate = f"{rows / seconds:,.0f}" if seconds else "—"
            self.stdout.write(f"{table:42s} {rows:12,d} {seconds:9.1f} {rate:>12s}")
        self.stdout.write(_("%(rows)s rows in %(seconds).1f s (%(rate)s rows/s overall, generation included); "
                            "ANALYZE %(analyze).1f s.")
                          % {"rows": f"{total:,d}", "seconds": written, "rate": f"{total / written:,.0f}",
                             "analyze": analyze})
