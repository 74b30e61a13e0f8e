"""Reads the evidence nwipe and ShredOS leave behind: the log, and the JSON report proposed upstream.

Pure Python, no Django and no database: the import service keeps the file byte for byte and builds on
what `parse` reads from it. The parser never guesses. A drive is "erased" only when nwipe's own messages
and its closing "Drive Status" table both say so; anything it cannot establish is "unknown" and comes
with a `LineProblem` naming the line, so a person can look at the file.

Why both sources: nwipe prints "[SUCCESS] Verified that /dev/x is empty." even for a drive whose
fdatasync failed, and marks it FAILED only in the closing tables (tests/wipe/samples/failed_fdatasync.log);
a log cut before the tables therefore proves nothing about any drive.

The log format is nwipe's (checked against 0.33 as Debian ships it, and its older "on device '%s'."
wording); the JSON format is the one of martijnvanbrummelen/nwipe PR #707 (src/create_json.c), the only
JSON report nwipe has published. See tests/wipe/samples/README.md.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

__all__ = ["NotAReport", "LineProblem", "DriveResult", "ParsedReport", "parse"]


class NotAReport(ValueError):
    """The file is not an nwipe log or JSON report at all: empty, garbage, binary, or cut before any drive.

    str(exc) is a plain English sentence for the user.
    """


@dataclass(frozen=True)
class LineProblem:
    line: int  # 1-based line in the file; 0 for JSON, where `text` starts with the path of the value
    text: str  # the offending line (decoded with errors="replace"), stripped, cut to 200 characters
    reason: str  # plain English


@dataclass(frozen=True)
class DriveResult:
    device_path: str  # "/dev/sda"
    serial: str  # as nwipe reports it, stripped; "" if nwipe reported none (or garbage, or the --quiet mask)
    model: str  # "" if unknown
    size_bytes: int | None
    method: str  # nwipe's method name as it prints it ("DoD Short", "Fill With Zeros", ...); "" if unknown
    overwrite_passes: int | None  # complete passes written (rounds x method passes + blanking/final pass)
    pattern: str  # what was written, e.g. "zeros (0x00); final blanking pass with zeros"; "" if unknown
    verification: str  # "off" | "last" | "all"; "" when the evidence does not say (the JSON report)
    prng: str  # "" if the method uses none or the evidence does not say
    started_at: datetime | None  # log: naive, local time as nwipe printed it; JSON: aware, UTC
    ended_at: datetime | None
    outcome: str  # "erased" | "failed" | "aborted" | "unknown"
    errors: int  # pass + verification + fdatasync errors nwipe reported for this drive
    line: int  # line where this drive's final status was found (0 for JSON)
    tool_version: str  # e.g. "0.33"; "" if unknown
    # Added to the agreed interface:
    rounds: int | None = None  # rounds of the method (nwipe --rounds)
    blanking: bool | None = None  # whether a final zero blanking pass was (to be) written
    duration_seconds: int | None = None  # nwipe's own measure (the HH:MM:SS column, or the JSON field)
    bus: str = ""  # nwipe's bus label: "ATA", "USB", "NVME", "VIRT", ... ("" if not logged)


@dataclass(frozen=True)
class ParsedReport:
    format: str  # "nwipe-log" | "nwipe-json"
    tool_version: str
    drives: list[DriveResult]
    problems: list[LineProblem]


def parse(content: bytes, *, filename: str = "") -> ParsedReport:
    """Detect JSON vs log by content (not by name) and parse. Raises NotAReport for files that are not reports.

    `filename` is accepted for the caller's convenience and deliberately ignored: a renamed file is the
    same evidence.
    """
    del filename
    body = content[3:] if content.startswith(b"\xef\xbb\xbf") else content
    if not body.strip():
        raise NotAReport("The file is empty.")
    head = body.lstrip()
    if head.startswith(b"%PDF"):
        raise NotAReport(
            "This is a PDF document, not an nwipe log or JSON report. nwipe's PDF certificate cannot be "
            "imported; upload the log file nwipe wrote (its --logfile) instead."
        )
    if head.startswith(b"{") or (head.startswith(b"[") and not _LOG_START.match(head)):
        return _parse_json(body)
    return _parse_log(body)


# --- shared helpers ------------------------------------------------------------------------------

_LOG_START = re.compile(rb"^\[\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\]")


def _cut(text: str) -> str:
    return text.strip()[:200]


def _serial_verdict(raw: str) -> tuple[str, str]:
    """(serial, reason): the stripped serial, or "" with why it cannot be used to identify a drive.

    nwipe 0.33 prints uninitialised memory as the serial of a drive that has none (loop devices, some USB
    bridges); with --quiet it masks serials as XXXX (one exists) or ???? (none could be read).
    """
    value = raw.strip()
    if not value:
        return "", "no serial number"
    if "\ufffd" in value or any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value):
        return "", "no serial number: nwipe printed bytes that are not readable text"
    if set(value) == {"X"}:
        return "", "no serial number: nwipe's --quiet option masked it"
    if set(value) == {"?"}:
        return "", "no serial number: nwipe could not read one"
    if value.lower() in ("(s/n: unknown)", "(no ata pass-thru)", "unknown"):
        return "", "no serial number: nwipe could not read one"
    return value, ""


# What each method writes, for `pattern` and `prng`: (passes in one round, description, uses the PRNG).
_METHODS: dict[str, tuple[int, str, bool]] = {
    "Fill With Zeros": (1, "zeros (0x00)", False),
    "Fill With Ones": (1, "ones (0xFF)", False),
    "PRNG Stream": (1, "random data", True),
    "DoD Short": (3, "DoD 5220.22-M short: 3 passes (a random byte, its complement, random data)", True),
    "DoD 5220.22-M": (7, "DoD 5220.22-M: 7 passes (random bytes, their complements, random data)", True),
    "Gutmann Wipe": (35, "Gutmann: 35 passes (8 of random data, 27 fixed patterns)", True),
    "RCMP TSSIT OPS-II": (8, "RCMP TSSIT OPS-II: 8 passes of a random byte and its complement, "
                             "then a final pass of random data", True),
    "Verify Zeros (0x00)": (0, "nothing written (verification only: zeros)", False),
    "Verify Ones  (0xFF)": (0, "nothing written (verification only: ones)", False),
}
_VERIFY_ONLY = {"Verify Zeros (0x00)", "Verify Ones  (0xFF)"}


def _pattern(method: str, prng: str, rounds: int | None, blanking: bool | None) -> str:
    known = _METHODS.get(method)
    if known is None:
        return ""
    text = known[1]
    if method == "PRNG Stream" and prng:
        text = f"random data (PRNG {prng})"
    if rounds and rounds > 1:
        text += f", {rounds} rounds"
    if blanking:
        text += "; final blanking pass with zeros"
    return text


# --- the log -------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_STAMP = re.compile(r"^\[(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})\] (.*)$")
_LEVEL = re.compile(r"^ *(debug|info|notice|warning|error|fatal|sanity|level \d+): ?(.*)$")
_TOTAL = re.compile(r"^Total Throughput\s+.*?/s, (.+), (\d+)R\+(B|NB)\+(VL|VA|NV)\s*$")
_CONTINUATION = re.compile(r"^ {20,}\S")
# Printed by nwipe on the console without a timestamp; they show up in captures of its standard output.
_CONSOLE = re.compile(
    r"^(Waiting for wipe thread to cancel for|Requesting wipe thread cancellation for|"
    r"Wipe thread for device \S+ has terminated)"
)
_TABLE_ERRORS = re.compile(r"^\*+ Error Summary \*+$")
_TABLE_STATUS = re.compile(r"^\*+ Drive Status \*+$")
_ERRORS_ROW = re.compile(r"^([! ]) *(\S+) \| *(\d+) \| *(\d+) \| *(\d+) *$")
_STATUS_ROW = re.compile(r"^([! ]) *(\S+) \|(.{8})\| *(.*?)/s \| (\d+):(\d\d):(\d\d) \| (.*)$")
_PATH = re.compile(r"/dev/[A-Za-z0-9_./:+-]*[A-Za-z0-9_]")
_DEV = r"(?:device )?'?(/dev/[^\s']+?)'?\.?"

_M_FOUND = re.compile(r"^Found (/dev/\S+), ([^,]*), (.*), +(\d+ [KMGT]?B), S/N=(.*)$")
_M_SERIAL = re.compile(r"^(/dev/\S+) has serial number ?(.*)$")
_M_GEOMETRY = re.compile(r"^(/dev/\S+), sect/blk/dev (\d+)/(\d+)/(\d+)$")
_M_INVOKE = re.compile(rf"^Invoking method '(.+)' on {_DEV}$")
_M_ROUND = re.compile(rf"^Starting round (\d+) of (\d+) on {_DEV}$")
_M_PASS = re.compile(rf"^(Starting|Finished) pass (\d+)(?:/| of )(\d+), round (\d+)(?:/| of )(\d+), on {_DEV}$")
_M_FINAL = re.compile(rf"^Finished final round (\d+) of (\d+) on {_DEV}$")
_M_BLANKING = re.compile(rf"^Blanking {_DEV}$")
_M_BLANKED = re.compile(rf"^\[SUCCESS\] Blanked {_DEV}$")
_M_VERIFIED = re.compile(rf"^\[SUCCESS\] Verified that {_DEV} is (empty|Zeroed|full of ones \(0xFF\))\.?$")
_M_FRP = re.compile(rf"^Writing final random pattern to {_DEV}$")
_M_FRP_OK = re.compile(rf"^\[SUCCESS\] Verified FRP on {_DEV} matches$")
_M_COUNTED = re.compile(rf"^(\d+) (verification|wipe) errors on {_DEV}$")
_M_STATUS = re.compile(
    r"^Status: (/dev/\S+), result=(-?\d+), pass_errors=(\d+), verify_errors=(\d+), fsync_errors=(\d+)$"
)
_M_EXITED = re.compile(r"^Nwipe exited with errors on device = (/dev/\S+),")
_M_VERSION = re.compile(r"^(?:banner   = )?nwipe (\d+(?:\.\d+)+\S*)")
_M_OPTION = re.compile(r"^  (method|prng|rounds|verify)\s*= (.*)$")

_STATUS_WORDS = {"Erased": "erased", "-FAILED-": "failed", "UABORTED": "aborted", "INSANITY": "insanity"}
_VERIFY_OPTION = {"0": "off", "1": "last", "2": "all"}
_VERIFY_FLAG = {"NV": "off", "VL": "last", "VA": "all"}


@dataclass
class _Drive:
    """What the log says about one drive in one run of nwipe."""

    path: str
    serial_sources: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, raw serial)
    size_bytes: int | None = None
    method: str = ""
    started_at: datetime | None = None
    last_at: datetime | None = None
    last_line: int = 0
    last_text: str = ""
    rounds: int | None = None
    finished_passes: set[tuple[int, int]] = field(default_factory=set)
    final_round: bool = False
    blank_started: bool = False
    blank_done: bool = False
    frp_started: bool = False
    frp_done: bool = False
    failures: list[tuple[int, str]] = field(default_factory=list)  # (line, text)
    counted_errors: int = 0
    status_errors: tuple[int, int, int, int, str] | None = None  # (pass, verify, fsync, line, text)
    table_errors: tuple[int, int, int, int, str] | None = None
    table_status: tuple[str, int, str, int, str] | None = None  # (word, seconds, model/serial, line, text)


@dataclass
class _Run:
    """One run of nwipe: a log file holds several when nwipe appends to it."""

    version: str = ""
    method: str = ""
    prng: str = ""
    rounds: int | None = None
    verification: str = ""
    noblank: bool = False
    options_seen: bool = False
    total: tuple[str, int, bool, str] | None = None  # (method, rounds, blanking, verification)
    found: dict[str, tuple[str, str, str, int, str]] = field(default_factory=dict)  # bus, model, serial, line, text
    drives: dict[str, _Drive] = field(default_factory=dict)
    end: str = ""  # "completed" | "aborted" | "errors" | ""
    last_line: int = 0
    last_text: str = ""

    def drive(self, path: str) -> _Drive:
        if path not in self.drives:
            self.drives[path] = _Drive(path)
        return self.drives[path]

    def by_terse(self, name: str) -> _Drive:
        """nwipe's tables name a drive without /dev/ ("sda")."""
        for path, drive in self.drives.items():
            if path.rsplit("/", 1)[-1] == name:
                return drive
        for path in self.found:
            if path.rsplit("/", 1)[-1] == name:
                return self.drive(path)
        return self.drive(f"/dev/{name}")


class _LogReader:
    """Walks the log line by line; `result()` turns what it saw into drives and problems."""

    def __init__(self) -> None:
        self.runs: list[_Run] = [_Run()]
        self.problems: list[LineProblem] = []
        self.seen_log_line = False
        self.table = ""  # "", "errors", "status"
        self.last_kind = ""  # what the previous line was, for wrapped continuation lines
        self.line_count = 0
        self.ends_with_newline = True

    @property
    def run(self) -> _Run:
        return self.runs[-1]

    def problem(self, number: int, text: str, reason: str) -> None:
        self.problems.append(LineProblem(number, _cut(text), reason))

    def feed(self, content: bytes) -> None:
        raw_lines = content.split(b"\n")
        self.ends_with_newline = raw_lines[-1] == b""
        if self.ends_with_newline:
            raw_lines.pop()
        for number, raw in enumerate(raw_lines, start=1):
            text = _ANSI.sub("", raw.rstrip(b"\r").decode("utf-8", errors="replace"))
            self.line_count = number
            self.line(number, text)
            if text.strip():
                self.run.last_line, self.run.last_text = number, text

    def line(self, number: int, text: str) -> None:
        stamp = _STAMP.match(text)
        if stamp:
            self.timestamped(number, text, stamp)
            return
        if not text.strip():
            if self.table:
                self.table = ""
            self.last_kind = "blank"
            return
        if self.table or _TABLE_ERRORS.match(text) or _TABLE_STATUS.match(text):
            self.table_line(number, text)
            return
        if _CONTINUATION.match(text) and self.last_kind in ("log", "continuation"):
            self.last_kind = "continuation"
            return
        if _CONSOLE.match(text.strip()):
            self.last_kind = "console"
            return
        self.last_kind = "other"
        if self.seen_log_line:
            self.problem(number, text, "unreadable line")

    def table_line(self, number: int, text: str) -> None:
        self.last_kind = "table"
        if _TABLE_ERRORS.match(text):
            self.table = "errors"
            return
        if _TABLE_STATUS.match(text):
            self.table = "status"
            return
        if set(text.strip()) <= {"*"}:
            self.table = ""
            return
        if set(text.strip()) <= {"-"} or text.startswith("!   Device |"):
            return
        if self.table == "errors" and (row := _ERRORS_ROW.match(text)):
            drive = self.run.by_terse(row.group(2))
            drive.table_errors = (int(row.group(3)), int(row.group(4)), int(row.group(5)), number, text)
            return
        if self.table == "status" and (row := _STATUS_ROW.match(text)):
            word = _STATUS_WORDS.get(row.group(3).strip(), "")
            seconds = int(row.group(5)) * 3600 + int(row.group(6)) * 60 + int(row.group(7))
            drive = self.run.by_terse(row.group(2))
            drive.table_status = (word, seconds, row.group(8), number, text)
            if not word:
                self.problem(number, text, f"unknown drive status {row.group(3).strip()!r} in the summary table")
            return
        self.problem(number, text, "unreadable line")

    def timestamped(self, number: int, text: str, stamp: re.Match[str]) -> None:
        try:
            at = datetime(*(int(stamp.group(i)) for i in range(1, 7)))
        except ValueError:
            self.problem(number, text, "unreadable line")
            return
        rest = stamp.group(7)
        if (total := _TOTAL.match(rest.strip())):  # the line closing the Drive Status table
            self.run.total = (total.group(1), int(total.group(2)), total.group(3) == "B", _VERIFY_FLAG[total.group(4)])
            self.last_kind = "table"
            return
        self.table = ""
        level = _LEVEL.match(rest)
        if not level:
            self.problem(number, text, "unreadable line")
            return
        self.seen_log_line = True
        self.last_kind = "log"
        self.message(number, text, at, level.group(1), level.group(2))

    def message(self, number: int, text: str, at: datetime, level: str, message: str) -> None:
        run = self.run
        if run.end:
            self.runs.append(_Run(version=run.version))
            run = self.run
        body = message.strip()

        if body.startswith("Program options are set as follows") and run.drives:
            self.runs.append(_Run(version=run.version))
            return
        if (version := _M_VERSION.match(body)):
            run.version = run.version or version.group(1)
            return
        if (option := _M_OPTION.match(message)):
            self.option(option.group(1), option.group(2).strip())
            return
        if body == "do not perform a final blank pass":
            run.noblank = True
            return
        if body.startswith("Nwipe successfully completed"):
            run.end = "completed"
            return
        if body.startswith("Nwipe was aborted by the user"):
            run.end = "aborted"
            return
        if body.startswith("Nwipe exited with errors, check the log"):
            run.end = "errors"
            return
        if (found := _M_FOUND.match(body)):
            run.found[found.group(1)] = (found.group(2).strip(), found.group(3).strip(), found.group(5), number, text)
            return

        drive = self.drive_message(number, text, at, body, message.lstrip())
        if drive is not None:
            drive.last_at, drive.last_line, drive.last_text = at, number, text
            if drive.started_at is None:
                drive.started_at = at
        if level in ("error", "fatal", "sanity") or body.startswith("[FAILURE]"):
            paths = [p for p in _PATH.findall(body) if p in run.drives]
            for path in paths:
                failing = run.drives[path]
                if (number, text) not in failing.failures:
                    failing.failures.append((number, text))
                failing.last_at, failing.last_line, failing.last_text = at, number, text
            if not paths:
                self.problem(number, text, "nwipe logged an error")

    def option(self, name: str, value: str) -> None:
        run = self.run
        run.options_seen = True
        if name == "method":
            run.method = value
        elif name == "prng":
            run.prng = "" if value == "Undefined" else value
        elif name == "rounds" and value.isdigit():
            run.rounds = int(value)
        elif name == "verify":
            run.verification = _VERIFY_OPTION.get(value.split(" ", 1)[0], "")

    def drive_message(self, number: int, text: str, at: datetime, body: str, raw: str) -> _Drive | None:
        """Apply one message about a drive; returns the drive, or None if the message names none.

        `raw` keeps trailing spaces: a blank serial is printed as spaces.
        """
        run = self.run
        if (m := _M_SERIAL.match(raw)):
            drive = run.drive(m.group(1))
            drive.serial_sources.append((number, text, m.group(2)))
            return drive
        if (m := _M_GEOMETRY.match(body)):
            drive = run.drive(m.group(1))
            drive.size_bytes = int(m.group(4))
            return drive
        if (m := _M_INVOKE.match(body)):
            drive = run.drive(m.group(2))
            drive.method = m.group(1)
            drive.started_at = at
            return drive
        if (m := _M_ROUND.match(body)):
            drive = run.drive(m.group(3))
            drive.rounds = int(m.group(2))
            return drive
        if (m := _M_PASS.match(body)):
            drive = run.drive(m.group(6))
            drive.rounds = int(m.group(5))
            if m.group(1) == "Finished":
                drive.finished_passes.add((int(m.group(4)), int(m.group(2))))
            return drive
        if (m := _M_FINAL.match(body)):
            drive = run.drive(m.group(3))
            drive.final_round = True
            return drive
        if (m := _M_BLANKING.match(body)):
            drive = run.drive(m.group(1))
            drive.blank_started = True
            return drive
        if (m := _M_BLANKED.match(body)):
            drive = run.drive(m.group(1))
            drive.blank_done = True
            return drive
        if (m := _M_FRP.match(body)):
            drive = run.drive(m.group(1))
            drive.frp_started = True
            return drive
        if (m := _M_FRP_OK.match(body)):
            drive = run.drive(m.group(1))
            drive.frp_done = True
            return drive
        if (m := _M_VERIFIED.match(body)):
            return run.drive(m.group(1))
        if (m := _M_COUNTED.match(body)):
            drive = run.drive(m.group(3))
            drive.counted_errors += int(m.group(1))
            drive.failures.append((number, text))
            return drive
        if (m := _M_STATUS.match(body)):
            drive = run.drive(m.group(1))
            drive.status_errors = (int(m.group(3)), int(m.group(4)), int(m.group(5)), number, text)
            return drive
        if (m := _M_EXITED.match(body)):
            drive = run.drive(m.group(1))
            drive.failures.append((number, text))
            return drive
        paths = [p for p in _PATH.findall(body) if p in run.drives]
        if len(paths) == 1:
            return run.drives[paths[0]]
        return None

    # --- turning a run into drive results --------------------------------------------------------

    def result(self) -> ParsedReport:
        drives: list[DriveResult] = []
        version = next((run.version for run in self.runs if run.version), "")
        for index, run in enumerate(self.runs):
            if any(drive.table_status is None for drive in run.drives.values()):
                reason = "the log of this run of nwipe stops here, before its closing summary: it is incomplete"
                if index == len(self.runs) - 1 and not self.ends_with_newline and run.last_line == self.line_count:
                    reason += " (the last line is cut short)"
                self.problem(run.last_line, run.last_text, reason)
            for drive in run.drives.values():
                drives.append(self.drive_result(run, drive, version))
        if not drives:
            if self.seen_log_line:
                raise NotAReport(
                    "The file has nwipe log lines but no wiped drive: nwipe stopped, or the file was cut, "
                    "before any drive was wiped."
                )
            raise NotAReport("The file is not an nwipe log or JSON report: it contains no nwipe log lines.")
        problems = sorted(set(self.problems), key=lambda p: (p.line, p.reason))
        return ParsedReport(format="nwipe-log", tool_version=version, drives=drives, problems=problems)

    def drive_result(self, run: _Run, drive: _Drive, version: str) -> DriveResult:
        path = drive.path
        found = run.found.get(path)
        bus, model = (found[0], found[1]) if found else ("", "")
        serial = self.serial(run, drive, found)

        if drive.table_status and not model:
            cell = drive.table_status[2]
            model = cell.rsplit("/", 1)[0].strip() if "/" in cell else ""

        method = drive.method or run.method or (run.total[0] if run.total else "")
        rounds = drive.rounds or run.rounds or (run.total[1] if run.total else None)
        verification = run.verification or (run.total[3] if run.total else "")
        known = _METHODS.get(method)
        prng = "" if known is not None and not known[2] else run.prng

        finished = drive.final_round and (drive.blank_done or not drive.blank_started) and (
            drive.frp_done or not drive.frp_started or verification == "off"
        )
        if drive.blank_started:
            blanking: bool | None = True
        elif finished or method in _VERIFY_ONLY or method == "RCMP TSSIT OPS-II":
            blanking = False  # OPS-II ends with random data instead, and never blanks
        elif run.options_seen:
            blanking = not run.noblank
        else:
            blanking = run.total[2] if run.total else None

        errors, error_problems = self.errors(drive)
        outcome, line, outcome_problems = self.outcome(run, drive, finished, errors)

        passes: int | None = None
        if outcome != "unknown":
            last = (1 if drive.blank_done or (drive.blank_started and outcome == "erased") else 0) + (
                1 if drive.frp_done or (drive.frp_started and outcome == "erased") else 0)
            if drive.finished_passes or outcome != "erased" or method in _VERIFY_ONLY:
                passes = len(drive.finished_passes) + last
            elif known and rounds:
                # Erased, but no pass line understood (another nwipe version's wording?): the whole method ran.
                passes = known[0] * rounds + (1 if blanking or method == "RCMP TSSIT OPS-II" else 0)

        duration = drive.table_status[1] if drive.table_status else None
        ended_at = drive.last_at
        if drive.started_at is not None and duration is not None:
            ended_at = drive.started_at + timedelta(seconds=duration)

        self.problems.extend(error_problems + outcome_problems)
        self.problems.extend(LineProblem(number, _cut(text), f"nwipe logged an error for {path}")
                             for number, text in drive.failures)
        return DriveResult(
            device_path=path, serial=serial, model=model, size_bytes=drive.size_bytes, method=method,
            overwrite_passes=passes, pattern=_pattern(method, prng, rounds, blanking), verification=verification,
            prng=prng, started_at=drive.started_at, ended_at=ended_at, outcome=outcome, errors=errors, line=line,
            tool_version=run.version or version, rounds=rounds, blanking=blanking, duration_seconds=duration,
            bus=bus,
        )

    def serial(self, run: _Run, drive: _Drive, found: tuple[str, str, str, int, str] | None) -> str:
        """The serial all of nwipe's mentions agree on, or "" with a problem."""
        sources = list(drive.serial_sources)
        if found:
            sources.insert(0, (found[3], found[4], found[2]))
        if drive.table_status:
            _word, _seconds, cell, number, text = drive.table_status
            model = found[1] if found else ""
            if model and cell.startswith(model + "/"):
                sources.append((number, text, cell[len(model) + 1:]))
            elif "/" in cell:
                sources.append((number, text, cell.rsplit("/", 1)[1]))
        if not sources:
            self.problem(drive.last_line, drive.last_text, f"no serial number logged for {drive.path}")
            return ""
        values = {raw.strip() for _n, _t, raw in sources}
        number, text, raw = sources[0]
        if len(values) > 1:
            self.problem(number, text, f"serial numbers of {drive.path} disagree: "
                                       + ", ".join(repr(v) for v in sorted(values)))
            return ""
        serial, reason = _serial_verdict(raw)
        if reason:
            self.problem(number, text, f"{reason} ({drive.path})")
        return serial

    @staticmethod
    def errors(drive: _Drive) -> tuple[int, list[LineProblem]]:
        problems: list[LineProblem] = []
        table = drive.table_errors
        status = drive.status_errors
        if table and status and table[:3] != status[:3]:
            problems.append(LineProblem(table[3], _cut(table[4]), f"error counts of {drive.path} differ from "
                                                                  "the ones logged before the summary"))
        if table:
            return sum(table[:3]), problems
        if status:
            return sum(status[:3]), problems
        return drive.counted_errors, problems

    @staticmethod
    def outcome(run: _Run, drive: _Drive, finished: bool, errors: int) -> tuple[str, int, list[LineProblem]]:
        """Compare the messages with the closing table; any disagreement makes the outcome unknown."""
        path = drive.path
        if drive.failures or errors:
            said = "failed"
        elif finished:
            said = "erased"
        elif run.end == "aborted":
            said = "aborted"
        else:
            said = "unfinished"

        def problem(line: int, text: str, reason: str) -> list[LineProblem]:
            return [LineProblem(line, _cut(text), reason)]

        if drive.table_status is None:
            if said == "failed":
                line, text = drive.failures[0] if drive.failures else (drive.last_line, drive.last_text)
                return "failed", line, problem(line, text, f"wipe failed ({path})")
            return "unknown", drive.last_line, problem(
                drive.last_line, drive.last_text,
                f"the result of the wipe of {path} is not in the log (no closing summary)")

        word, _seconds, _cell, line, text = drive.table_status
        if word == "erased" and said == "erased":
            return "erased", line, []
        if word == "failed" and said == "failed":
            return "failed", line, problem(line, text, f"wipe failed ({path})")
        if word == "aborted" and said in ("aborted", "unfinished"):
            return "aborted", line, problem(line, text, f"wipe aborted by the user ({path})")
        if word == "insanity":
            return "unknown", line, problem(line, text, f"nwipe reported an inconsistent state for {path}")
        if not word:
            return "unknown", line, []  # already reported as an unknown status
        messages = {"failed": "report errors", "erased": "say it finished", "aborted": "say the run was aborted",
                    "unfinished": "never log the end of the wipe"}[said]
        return "unknown", line, problem(
            line, text, f"the summary table and the messages disagree about {path}: the table says "
                        f"{word}, the messages {messages}")


def _parse_log(content: bytes) -> ParsedReport:
    reader = _LogReader()
    reader.feed(content)
    return reader.result()


# --- the JSON report -----------------------------------------------------------------------------
# One object per drive, as src/create_json.c writes it (martijnvanbrummelen/nwipe PR #707):
# {"report_metadata": {"generated_at", "software": "nwipe", "version"}, "organization": {"business_name"},
#  "device": {"name", "model", "serial_no", "size_bytes", "size_text"},
#  "wipe_result": {"status": "success"|"failure", "rounds_requested", "pass_errors", "verify_errors",
#                  "start_time", "end_time", "duration_seconds"}}   (times: Unix seconds)
# A list of such objects is accepted too, so several drives' files can be uploaded as one.


def _parse_json(content: bytes) -> ParsedReport:
    # create_json.c copies serials and models byte for byte: decode leniently, allow raw control characters.
    text = content.decode("utf-8", errors="replace")
    try:
        data = json.loads(text, strict=False)
    except ValueError as exc:
        raise NotAReport(f"The file looks like JSON but cannot be read as JSON ({exc.msg}, line {exc.lineno}).") \
            from None
    items = data if isinstance(data, list) else [data]
    listed = isinstance(data, list)
    drives: list[DriveResult] = []
    problems: list[LineProblem] = []
    versions: list[str] = []
    for index, item in enumerate(items):
        prefix = f"[{index}]." if listed else ""
        if not _is_nwipe_report(item):
            if listed:
                problems.append(LineProblem(0, f"[{index}]", "not an nwipe report; left out"))
            continue
        drive, drive_problems = _json_drive(item, prefix)
        drives.append(drive)
        problems.extend(drive_problems)
        if drive.tool_version:
            versions.append(drive.tool_version)
    if not drives:
        raise NotAReport(
            'This JSON file is not an nwipe report: it has no "report_metadata" with "software": "nwipe" '
            'and no "device" and "wipe_result" sections.'
        )
    return ParsedReport(format="nwipe-json", tool_version=versions[0] if versions else "", drives=drives,
                        problems=problems)


def _is_nwipe_report(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    meta = item.get("report_metadata")
    return (isinstance(meta, dict) and meta.get("software") == "nwipe"
            and isinstance(item.get("device"), dict) and isinstance(item.get("wipe_result"), dict))


def _json_drive(item: dict[str, Any], prefix: str) -> tuple[DriveResult, list[LineProblem]]:
    problems: list[LineProblem] = []
    device: dict[str, Any] = item["device"]
    result: dict[str, Any] = item["wipe_result"]

    def note(key: str, value: Any, reason: str) -> None:
        problems.append(LineProblem(0, _cut(f"{prefix}{key}: {value}"), reason))

    def text(section: dict[str, Any], name: str, key: str) -> str:
        value = section.get(name, "")
        if not isinstance(value, str):
            note(key, value, "unexpected value")
            return ""
        return value.strip()

    def number(section: dict[str, Any], name: str, key: str) -> int | None:
        value = section.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            note(key, value, "unexpected value")
            return None
        return value

    path = text(device, "name", "device.name")
    if not path:
        note("device.name", "", "no device path")
    model = text(device, "model", "device.model")
    raw_serial = device.get("serial_no", "")
    serial, reason = _serial_verdict(raw_serial if isinstance(raw_serial, str) else "")
    if reason:
        note("device.serial_no", raw_serial, reason)
    size = number(device, "size_bytes", "device.size_bytes") or None  # 0: nwipe did not establish the size

    pass_errors = number(result, "pass_errors", "wipe_result.pass_errors") or 0
    verify_errors = number(result, "verify_errors", "wipe_result.verify_errors") or 0
    errors = pass_errors + verify_errors
    status = result.get("status")
    if status == "success" and errors == 0:
        outcome = "erased"
    elif status == "success":
        outcome = "unknown"
        note("wipe_result.status", status, f"the report says success but counts {errors} errors; "
                                           "nwipe counts any error as a failed wipe")
    elif status == "failure":
        outcome = "failed"
        note("wipe_result.status", status, f"wipe failed ({path or 'unknown device'})")
    else:
        outcome = "unknown"
        note("wipe_result.status", status, "unknown wipe status")

    def moment(name: str) -> datetime | None:
        seconds = number(result, name, f"wipe_result.{name}")
        return datetime.fromtimestamp(seconds, tz=dt_timezone.utc) if seconds else None

    meta = item["report_metadata"]
    version = meta.get("version", "")
    return DriveResult(
        device_path=path, serial=serial, model=model, size_bytes=size, method="", overwrite_passes=None,
        pattern="", verification="", prng="", started_at=moment("start_time"), ended_at=moment("end_time"),
        outcome=outcome, errors=errors, line=0, tool_version=version.strip() if isinstance(version, str) else "",
        rounds=number(result, "rounds_requested", "wipe_result.rounds_requested"), blanking=None,
        duration_seconds=number(result, "duration_seconds", "wipe_result.duration_seconds"), bus="",
    ), problems
