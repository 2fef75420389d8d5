"""``deliverator report``: counts by outcome, status and error type, the most frequent messages
with a sample of what was sent and answered, attempts; flat memory however long the file; and
an HTML page that a real browser renders with the same rows."""

from __future__ import annotations

import os
import shutil
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from deliverator._report.page import render_page
from deliverator._report.tally import MESSAGE_CAPACITY, tally_lines
from tests.support import run_cli


def outcome(index: int, kind: str = "delivered", **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "index": index,
        "message_id": f"m-{index}",
        "outcome": kind,
        "status": 200,
        "errortype": None,
        "errormessage": None,
        "attempts": 1,
        "sent": {"type": "person", "n": index},
        "body": {},
    }
    record.update(fields)
    return record


def failed(
    index: int, message: str, status: int = 400, errortype: str = "PAYLOAD_VALIDATION_FAILED", **more: Any
) -> dict[str, Any]:
    return outcome(index, "failed", status=status, errortype=errortype, errormessage=message, **more)


RECORDS = [
    *(outcome(i) for i in range(6)),
    failed(6, "event name is 176 bytes; the limit is 100", body=[{"batch_index": 6, "reason": "invalid"}]),
    failed(7, "event name is 176 bytes; the limit is 100"),
    failed(8, "event name is 176 bytes; the limit is 100"),
    failed(9, "line is not valid JSON", attempts=0, sent=None, body=None),
    failed(10, "Too many requests (gave up after 6 attempts)", status=429, errortype="TOO_MANY_REQUESTS", attempts=6),
    outcome(11, "ignored", errormessage="alias is not sent to this destination", attempts=0, sent=None),
]


def write_results(path: Path, records: list[dict[str, Any]], extra: bytes = b"") -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records) + extra)
    return path


def test_report_counts_outcomes_statuses_error_types_and_attempts(tmp_path: Path) -> None:
    tally = tally_lines(write_results(tmp_path / "r.jsonl", RECORDS, b"not json\n\n").read_bytes().splitlines())
    assert tally.records == 12 and tally.unreadable == 1
    assert tally.by_outcome == {"delivered": 6, "failed": 5, "ignored": 1}
    assert tally.by_status == {200: 7, 400: 4, 429: 1}
    assert tally.by_errortype[("failed", "PAYLOAD_VALIDATION_FAILED")] == 4
    assert tally.by_errortype[("failed", "TOO_MANY_REQUESTS")] == 1
    assert tally.attempts == {0: 2, 1: 9, 6: 1}
    top = tally.top_messages()
    assert (top[0].count, top[0].message, top[0].sample_index) == (3, "event name is 176 bytes; the limit is 100", 6)
    assert orjson.loads(top[0].sample_sent) == {"type": "person", "n": 6}
    assert orjson.loads(top[0].sample_body) == [{"batch_index": 6, "reason": "invalid"}]
    assert "alias is not sent to this destination" in [group.message for group in top]


def test_report_command_prints_the_tables_and_a_sample(tmp_path: Path) -> None:
    results = write_results(tmp_path / "events.results.jsonl", RECORDS)
    proc = run_cli(["report", str(results)], {**os.environ, "COLUMNS": "160"})
    assert proc.returncode == 0, proc.stderr
    assert "12 outcome records" in proc.stdout
    assert "3 events: [failed] PAYLOAD_VALIDATION_FAILED 400: event name is 176 bytes" in proc.stdout
    assert "request to destination (event 6):" in proc.stdout and '"batch_index": 6' in proc.stdout
    assert "TOO_MANY_REQUESTS" in proc.stdout


def test_report_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    proc = run_cli(["report", str(tmp_path / "nope.jsonl")], dict(os.environ))
    assert proc.returncode == 2 and "results file not found" in proc.stderr and "Traceback" not in proc.stderr


def _lines(count: int) -> Iterator[bytes]:
    """Failures whose messages are all different (the worst case for memory)."""
    for i in range(count):
        yield orjson.dumps(failed(i, f"user {i} is unknown", sent={"id": i, "pad": "x" * 200}))


def _peak_bytes(count: int) -> int:
    tracemalloc.start()
    try:
        tally = tally_lines(_lines(count))
        assert tally.records == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_however_many_distinct_messages() -> None:
    small = _peak_bytes(3 * MESSAGE_CAPACITY)
    large = _peak_bytes(20 * MESSAGE_CAPACITY)
    assert large < 1.5 * small, (small, large)


def test_frequent_messages_survive_a_flood_of_rare_ones() -> None:
    lines = [orjson.dumps(failed(i, "the frequent one")) for i in range(50)]
    lines += list(_lines(10 * MESSAGE_CAPACITY))
    tally = tally_lines(lines)
    assert not tally.exact
    assert tally.top_messages(1)[0].message == "the frequent one"
    assert tally.top_messages(1)[0].count == 50


def test_the_page_is_self_contained() -> None:
    page = render_page(tally_lines(orjson.dumps(r) for r in RECORDS), "r.jsonl")
    for external in ("src=", "href=", "<link", "<script", "@import", "url("):
        assert external not in page


def test_the_page_escapes_what_it_shows() -> None:
    hostile = failed(0, "<script>alert(1)</script>", body={"html": "<img src=x onerror=alert(2)>"})
    page = render_page(tally_lines([orjson.dumps(hostile)]), "<b>r.jsonl</b>")
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- in a real browser ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium, installed with apt-get when missing and running as root."""
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"], env=env, capture_output=True, check=False, timeout=1200
        )
        found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing and could not be installed with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium, as root, installs it)")
    return found


def _browser(chromium: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_browser_renders_the_html_report_with_its_rows(tmp_path: Path, chromium: str) -> None:
    from PIL import Image

    results = write_results(tmp_path / "events.results.jsonl", RECORDS)
    page = tmp_path / "report.html"
    proc = run_cli(["report", str(results), "--html", str(page)], dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert f"report: {page}" in proc.stdout
    shot = tmp_path / "report.png"
    _browser(chromium, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), "chromium wrote no screenshot"
    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        colours = pixels.getcolors(maxcolors=1 << 20) or []
        not_white = sum(count for count, rgb in colours if rgb != (255, 255, 255))
        assert len(colours) > 20 and not_white > 0.02 * pixels.width * pixels.height, "the screenshot is blank"
        # The chart's bars are drawn in the outcomes' colours.
        assert any(rgb == (0x2E, 0x7D, 0x32) for _, rgb in colours)
        assert any(rgb == (0xC6, 0x28, 0x28) for _, rgb in colours)
    dom = _browser(chromium, "--dump-dom", page.as_uri()).stdout
    assert dom.count("<tr>") >= 20
    for row in (
        '<td class="outcome-delivered">delivered</td><td class="n">6</td>',
        '<td class="outcome-failed">failed</td><td class="n">5</td>',
        "<td>TOO_MANY_REQUESTS</td>",
        "<td>event name is 176 bytes; the limit is 100</td>",
    ):
        assert row in dom, row
    assert "Request to destination" in dom and "Response from destination" in dom
