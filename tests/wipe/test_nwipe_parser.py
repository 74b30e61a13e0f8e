"""The nwipe evidence parser, on real nwipe 0.33 logs (see samples/README.md for how each was made).

No database: the parser is pure Python. Values asserted here are read from the sample files.
"""
from __future__ import annotations

import dataclasses
import io
import json
import random
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from wipe.nwipe import DriveResult, NotAReport, ParsedReport, parse

SAMPLES = Path(__file__).resolve().parent / "samples"
JSON_OK = "json/nwipe_report_WD-WCC2E1000011_2026-11-20_10-41-38.json"
JSON_FAILED = "json/nwipe_report_Z1D1000012_2026-11-20_09-52-11.json"
JSON_UNKNOWN_SERIAL = "json/nwipe_report_NOT-IN-REGISTER-002_2026-11-20_09-48-00.json"


def read(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def parsed(name: str) -> ParsedReport:
    return parse(read(name), filename=name)


def drive(report: ParsedReport, path: str) -> DriveResult:
    (found,) = [d for d in report.drives if d.device_path == path]
    return found


def reasons_at(report: ParsedReport, line: int) -> list[str]:
    return [p.reason for p in report.problems if p.line == line]


def with_line(content: bytes, number: int, new: bytes) -> bytes:
    """The file with its line `number` (1-based) replaced."""
    lines = content.split(b"\n")
    lines[number - 1] = new
    return b"\n".join(lines)


def is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- real logs -----------------------------------------------------------------------------------


def test_zero_fill_of_two_drives_with_verification():
    report = parsed("zero_2drives.serials.log")

    assert report.format == "nwipe-log"
    assert report.tool_version == "0.33"
    assert report.problems == []
    assert [d.device_path for d in report.drives] == ["/dev/loop0", "/dev/loop1"]
    first = drive(report, "/dev/loop0")
    assert first == DriveResult(
        device_path="/dev/loop0", serial="S3Z1NB0K100001", model="Loopback device", size_bytes=16777216,
        method="Fill With Zeros", overwrite_passes=2, pattern="zeros (0x00); final blanking pass with zeros",
        verification="last", prng="", started_at=datetime(2026, 11, 21, 7, 4, 49),
        ended_at=datetime(2026, 11, 21, 7, 4, 49), outcome="erased", errors=0, line=62, tool_version="0.33",
        rounds=1, blanking=True, duration_seconds=0, bus="VIRT",
    )
    second = drive(report, "/dev/loop1")
    assert (second.serial, second.outcome, second.line, second.overwrite_passes) == ("WD-WCC4E1000002", "erased", 63, 2)


def test_untouched_log_with_garbage_serials_is_not_utf8_and_still_parses():
    content = read("zero_2drives.log")
    assert not is_utf8(content)  # nwipe 0.33 prints uninitialised memory as a loop device's serial

    report = parse(content)

    assert [(d.device_path, d.serial, d.outcome) for d in report.drives] == [
        ("/dev/loop0", "", "erased"), ("/dev/loop1", "", "erased")]
    assert reasons_at(report, 2) == ["no serial number: nwipe printed bytes that are not readable text (/dev/loop0)"]
    assert reasons_at(report, 4) == ["no serial number: nwipe printed bytes that are not readable text (/dev/loop1)"]
    assert "\ufffd" in report.problems[0].text


def test_non_utf8_model_does_not_stop_the_drive_from_parsing():
    content = read("zero_2drives.serials.nonutf8.log")
    assert not is_utf8(content)

    report = parse(content)

    loop1 = drive(report, "/dev/loop1")
    assert (loop1.serial, loop1.model, loop1.outcome) == ("WD-WCC4E1000002", "Loopback d\ufffdvice", "erased")
    assert report.problems == []


def test_dod_short_with_verification_of_every_pass():
    loop2 = drive(parsed("dodshort_verify_all.serials.log"), "/dev/loop2")

    assert (loop2.serial, loop2.method, loop2.verification, loop2.prng) == ("ZA1000003", "DoD Short", "all", "Isaac")
    assert loop2.overwrite_passes == 4  # 3 passes + the blanking pass
    assert loop2.pattern == ("DoD 5220.22-M short: 3 passes (a random byte, its complement, random data); "
                             "final blanking pass with zeros")
    assert (loop2.outcome, loop2.errors, loop2.line, loop2.started_at) == (
        "erased", 0, 63, datetime(2026, 11, 21, 7, 5, 2))


def test_capture_of_standard_output_reads_like_the_log_file():
    """Console noise before the first log line and wrapped lines ("Linux version ...") are not problems."""
    from_stdout = parsed("dodshort_verify_all.stdout.txt")
    from_file = parsed("dodshort_verify_all.log")

    assert [p.reason for p in from_stdout.problems] == [
        "no serial number: nwipe printed bytes that are not readable text (/dev/loop2)"]
    assert from_stdout.problems[0].line == 9
    assert dataclasses.replace(from_stdout.drives[0], line=0) == dataclasses.replace(from_file.drives[0], line=0)


def test_prng_stream_two_rounds_without_blanking_and_a_serial_outside_the_register():
    loop3 = drive(parsed("prng_2rounds_noblank.serials.log"), "/dev/loop3")

    assert loop3.serial == "NOT-IN-REGISTER-001"
    assert (loop3.method, loop3.rounds, loop3.blanking, loop3.overwrite_passes) == ("PRNG Stream", 2, False, 2)
    assert (loop3.verification, loop3.prng) == ("off", "Mersenne Twister")
    assert loop3.pattern == "random data (PRNG Mersenne Twister), 2 rounds"
    assert (loop3.outcome, loop3.started_at) == ("erased", datetime(2026, 11, 21, 7, 5, 5))


def test_wipe_aborted_by_the_user():
    report = parsed("aborted_sigint.serials.log")
    loop4 = drive(report, "/dev/loop4")

    assert (loop4.serial, loop4.size_bytes, loop4.method) == ("WD-WCC4E1000004", 2147483648, "DoD Short")
    assert (loop4.outcome, loop4.overwrite_passes, loop4.errors, loop4.line) == ("aborted", 0, 0, 36)
    assert loop4.started_at == datetime(2026, 11, 21, 7, 5, 9)
    assert (loop4.duration_seconds, loop4.ended_at) == (13, datetime(2026, 11, 21, 7, 5, 22))
    assert reasons_at(report, 36) == ["wipe aborted by the user (/dev/loop4)"]


def test_failed_fdatasync_is_failed_although_messages_say_success():
    content = read("failed_fdatasync.serials.log")
    assert b"[SUCCESS] Verified that /dev/loop5 is empty." in content

    report = parse(content)
    loop5 = drive(report, "/dev/loop5")

    assert (loop5.serial, loop5.outcome, loop5.errors, loop5.line) == ("ZA1000005", "failed", 2, 52)
    assert reasons_at(report, 52) == ["wipe failed (/dev/loop5)"]
    assert reasons_at(report, 26) == reasons_at(report, 32) == ["nwipe logged an error"]


def test_blank_serial_is_reported_as_missing():
    report = parsed("failed_fdatasync.log")

    assert drive(report, "/dev/loop5").serial == ""
    assert reasons_at(report, 2) == ["no serial number (/dev/loop5)"]


def test_one_drive_erased_and_one_failed_in_the_same_run():
    report = parsed("failed_one_of_two.serials.log")
    loop1, loop5 = drive(report, "/dev/loop1"), drive(report, "/dev/loop5")

    assert (loop1.serial, loop1.method, loop1.outcome, loop1.overwrite_passes) == (
        "S3Z1NB0K100006", "Fill With Ones", "erased", 2)
    assert (loop1.started_at, loop1.ended_at) == (datetime(2026, 11, 21, 7, 5, 39), datetime(2026, 11, 21, 7, 5, 51))
    assert (loop5.serial, loop5.outcome, loop5.errors, loop5.overwrite_passes) == ("ZA1000007", "failed", 2, 0)
    assert loop5.ended_at == datetime(2026, 11, 21, 7, 5, 40)
    assert reasons_at(report, 64) == ["wipe failed (/dev/loop5)"]
    assert reasons_at(report, 49) == ["nwipe logged an error for /dev/loop5"]  # "Nwipe exited with errors on ..."
    assert reasons_at(report, 63) == []


def test_failed_verification_of_a_drive_that_was_not_zeroed():
    report = parsed("verify_zero_failed.log")
    loop6 = drive(report, "/dev/loop6")

    assert (loop6.method, loop6.overwrite_passes, loop6.pattern) == (
        "Verify Zeros (0x00)", 0, "nothing written (verification only: zeros)")
    assert (loop6.outcome, loop6.errors, loop6.line) == ("failed", 8193, 42)
    assert reasons_at(report, 42) == ["wipe failed (/dev/loop6)"]
    assert [p.line for p in report.problems if p.reason == "nwipe logged an error for /dev/loop6"] == [27, 28, 29]
    assert "[FAILURE] /dev/loop6 has not been Zeroed ." in report.problems[1].text


def test_log_file_that_nwipe_appended_to_twice():
    report = parsed("appended_two_runs.log")

    assert [(d.device_path, d.started_at, d.line, d.outcome) for d in report.drives] == [
        ("/dev/loop6", datetime(2026, 11, 21, 7, 7, 7), 42, "erased"),
        ("/dev/loop6", datetime(2026, 11, 21, 7, 8, 35), 89, "erased"),
    ]


def test_truncated_log_has_no_erased_drive():
    report = parsed("zero_2drives.serials.truncated.log")

    assert [(d.serial, d.outcome, d.overwrite_passes) for d in report.drives] == [
        ("S3Z1NB0K100001", "unknown", None), ("WD-WCC4E1000002", "unknown", None)]
    assert reasons_at(report, 47) == ["the result of the wipe of /dev/loop0 is not in the log (no closing summary)"]
    assert reasons_at(report, 48) == ["the result of the wipe of /dev/loop1 is not in the log (no closing summary)"]
    (last,) = reasons_at(report, 49)
    assert "incomplete" in last and "cut short" in last
    assert parsed("zero_2drives.serials.log").drives[0].outcome == "erased"  # the same run, complete


def test_log_cut_inside_the_drive_status_table():
    """A drive whose row was cut off is unknown; the one whose row is there keeps its result."""
    head = b"\n".join(read("zero_2drives.serials.log").split(b"\n")[:62])
    report = parse(head)

    assert [(d.device_path, d.outcome) for d in report.drives] == [("/dev/loop0", "erased"), ("/dev/loop1", "unknown")]
    assert "incomplete" in reasons_at(report, 62)[-1]


def test_log_cut_before_any_drive_is_not_a_report():
    head = b"\n".join(read("zero_2drives.log").split(b"\n")[:8])

    with pytest.raises(NotAReport, match="no wiped drive"):
        parse(head)


# --- damaged or inconsistent logs (real logs, one line changed) ----------------------------------


def test_garbage_in_the_middle_of_the_log_is_an_unreadable_line():
    content = read("zero_2drives.serials.log").split(b"\n")
    content.insert(30, b"\x00\x01\xfe\xff binary junk")
    content[40] = b"[2026/11/21 07:04:4"
    report = parse(b"\n".join(content))

    assert reasons_at(report, 31) == ["unreadable line"]
    assert reasons_at(report, 41) == ["unreadable line"]
    assert [d.outcome for d in report.drives] == ["erased", "erased"]


def test_nul_padding_after_a_crash_is_reported():
    report = parse(read("zero_2drives.serials.truncated.log") + b"\n" + b"\x00" * 64 + b"\n")

    assert reasons_at(report, 50)[-1] == "unreadable line"
    assert "incomplete" in reasons_at(report, 50)[0]
    assert {d.outcome for d in report.drives} == {"unknown"}


def test_table_erased_but_messages_report_failure():
    content = with_line(read("failed_fdatasync.serials.log"), 52,
                        b"     loop5 | Erased |   0 B/s | 00:00:00 | Loopback device/ZA1000005")
    report = parse(content)

    assert drive(report, "/dev/loop5").outcome == "unknown"
    assert reasons_at(report, 52) == [
        "the summary table and the messages disagree about /dev/loop5: the table says erased, the messages report "
        "errors"]


def test_table_failed_but_messages_say_finished():
    content = with_line(read("zero_2drives.serials.log"), 62,
                        b"!    loop0 |-FAILED-|   0 B/s | 00:00:00 | Loopback device/S3Z1NB0K100001")
    report = parse(content)

    assert drive(report, "/dev/loop0").outcome == "unknown"
    assert drive(report, "/dev/loop1").outcome == "erased"
    assert "disagree" in reasons_at(report, 62)[0]


def test_error_count_in_the_summary_makes_an_erased_drive_unknown():
    content = with_line(read("zero_2drives.serials.log"), 55,
                        b"!    loop0 |           0 |                    3 |                    0")
    report = parse(content)

    loop0 = drive(report, "/dev/loop0")
    assert (loop0.outcome, loop0.errors) == ("unknown", 3)


def test_serial_masked_by_quiet_option():
    content = read("zero_2drives.serials.log").replace(b"S3Z1NB0K100001", b"XXXXXXXXXXXXXXX")
    report = parse(content)

    assert drive(report, "/dev/loop0").serial == ""
    assert reasons_at(report, 2) == ["no serial number: nwipe's --quiet option masked it (/dev/loop0)"]


def test_serials_that_disagree_are_not_used():
    content = with_line(read("zero_2drives.serials.log"), 62,
                        b"     loop0 | Erased |   0 B/s | 00:00:00 | Loopback device/S3Z1NB0K999999")
    report = parse(content)

    assert drive(report, "/dev/loop0").serial == ""
    assert "disagree" in reasons_at(report, 2)[0]


def test_older_nwipe_wording_on_device():
    """Older nwipe wrote "on device '/dev/sda'." and "pass 1 of 3"; the same run must read the same."""
    content = read("zero_2drives.serials.log")
    wipe_lines = rb"(Invoking method '[^']+'|Starting round \d+ of \d+|Finished final round \d+ of \d+)"
    older = re.sub(wipe_lines + rb" on (/dev/loop\d)", rb"\1 on device '\2'.", content)
    older = re.sub(rb"(Starting|Finished) pass (\d+)/(\d+), round (\d+)/(\d+), on (/dev/loop\d)",
                   rb"\1 pass \2 of \3, round \4 of \5, on device '\6'.", older)
    assert older.count(b"on device '/dev/loop0'.") == 5

    assert parse(older).drives == parse(content).drives


def test_passes_of_an_erased_drive_without_pass_lines_come_from_the_method():
    content = b"\n".join(line for line in read("dodshort_verify_all.serials.log").split(b"\n")
                         if b"Finished pass" not in line)

    assert parse(content).drives[0].overwrite_passes == 4  # DoD Short: 3 passes x 1 round + blanking


def test_windows_line_endings():
    content = read("zero_2drives.serials.log")

    assert parse(content.replace(b"\n", b"\r\n")).drives == parse(content).drives


# --- not reports ---------------------------------------------------------------------------------


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    document = canvas.Canvas(buffer)
    document.drawString(100, 750, "Disk Erasure Report")
    document.save()
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b" \n\r\n\t", "The file is empty."),
        (b"\xef\xbb\xbf\n", "The file is empty."),
        (random.Random(20261121).randbytes(4096), "not an nwipe log or JSON report"),
        (b"Dear IT office,\nplease wipe the laptops.\n", "not an nwipe log or JSON report"),
        (_pdf(), "This is a PDF document"),
        (b'{"name": "backup", "files": 12}', "not an nwipe report"),
        (b"[1, 2, 3]", "not an nwipe report"),
        (b'{"report_metadata": {"software": "shred"}, "device": {}, "wipe_result": {}}', "not an nwipe report"),
        (b'{"report_metadata": {"software": "nwipe"', "cannot be read as JSON"),
    ],
    ids=["empty", "blank", "bom-only", "random-bytes", "letter", "pdf", "other-json", "json-list", "other-tool",
         "broken-json"],
)
def test_not_a_report(content: bytes, message: str):
    with pytest.raises(NotAReport, match=message) as caught:
        parse(content)

    assert str(caught.value).endswith(".")


# --- JSON ----------------------------------------------------------------------------------------


def test_json_report_of_an_erased_drive():
    report = parsed(JSON_OK)

    assert (report.format, report.tool_version, report.problems) == ("nwipe-json", "0.38", [])
    assert report.drives == [DriveResult(
        device_path="/dev/sda", serial="WD-WCC2E1000011", model="WDC WD5000AAKX-00ERMA0", size_bytes=500107862016,
        method="", overwrite_passes=None, pattern="", verification="", prng="",
        started_at=datetime(2026, 11, 20, 8, 15, 2, tzinfo=timezone.utc),
        ended_at=datetime(2026, 11, 20, 9, 41, 37, tzinfo=timezone.utc), outcome="erased", errors=0, line=0,
        tool_version="0.38", rounds=1, blanking=None, duration_seconds=5195, bus="",
    )]


def test_json_report_of_a_failed_drive():
    report = parsed(JSON_FAILED)
    (sdb,) = report.drives

    assert (sdb.device_path, sdb.serial, sdb.outcome, sdb.errors) == ("/dev/sdb", "Z1D1000012", "failed", 3)
    assert [(p.line, p.text, p.reason) for p in report.problems] == [
        (0, "wipe_result.status: failure", "wipe failed (/dev/sdb)")]


def test_json_report_of_a_drive_outside_the_register():
    (sdc,) = parsed(JSON_UNKNOWN_SERIAL).drives

    assert (sdc.serial, sdc.model, sdc.outcome, sdc.size_bytes) == (
        "NOT-IN-REGISTER-002", "Samsung SSD 850 EVO 250GB", "erased", 250059350016)


def test_several_json_reports_in_one_list():
    items = [json.loads(read(name)) for name in (JSON_OK, JSON_FAILED, JSON_UNKNOWN_SERIAL)] + [{"note": "x"}]
    report = parse(json.dumps(items).encode())

    assert [d.serial for d in report.drives] == ["WD-WCC2E1000011", "Z1D1000012", "NOT-IN-REGISTER-002"]
    assert [(p.text, p.reason) for p in report.problems] == [
        ("[1].wipe_result.status: failure", "wipe failed (/dev/sdb)"), ("[3]", "not an nwipe report; left out")]


def test_json_success_with_errors_is_not_trusted():
    content = read(JSON_OK).replace(b'"verify_errors": 0', b'"verify_errors": 5')
    report = parse(content)

    assert (report.drives[0].outcome, report.drives[0].errors) == ("unknown", 5)
    assert "counts 5 errors" in report.problems[0].reason


def test_json_with_a_garbage_serial_written_byte_for_byte():
    content = read(JSON_OK).replace(b'"WD-WCC2E1000011"', b'" @\xfa\xc1\xad\x7f"')
    report = parse(content)

    assert report.drives[0].serial == ""
    assert report.problems[0].reason == "no serial number: nwipe printed bytes that are not readable text"


def test_format_is_detected_by_content_not_by_name():
    assert parse(read(JSON_OK), filename="evidence.log").format == "nwipe-json"
    assert parse(read("zero_2drives.serials.log"), filename="report.json").format == "nwipe-log"


def test_results_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed(JSON_OK).drives[0].outcome = "erased"  # type: ignore[misc]
