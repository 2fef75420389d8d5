"""What a person reads during and after a run: the summary lines (cancelled apart from failed,
retries defined in the text, ignore reasons, only files that were written) and the progress
view (counts of events, a total only when known or estimated from a file, "stopping")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deliverator._cli.progress import estimated_total, progress_view
from deliverator._delivery import Summary
from tests.support import REPO


def summary_of(
    delivered: int = 0, failed: dict[str, int] | None = None, ignored: dict[str, int] | None = None
) -> Summary:
    summary = Summary()
    for _ in range(delivered):
        summary.record_delivered()
    for errortype, count in (failed or {}).items():
        for _ in range(count):
            summary.record_failed(errortype, sent=True)
    for reason, count in (ignored or {}).items():
        for _ in range(count):
            summary.record_ignored(reason)
    return summary


def test_cancelled_events_are_counted_apart_from_failed_ones() -> None:
    summary = summary_of(5, {"CANCELLED": 7, "BAD_REQUEST": 2})
    assert summary.line() == "5 delivered, 2 failed, 0 ignored, 7 cancelled"
    assert summary.failed == 9  # every failed record, for the exit code


def test_events_left_for_a_resumed_run_are_not_finished_not_failed() -> None:
    summary = summary_of(5)
    summary.cancelled = True
    summary.released = 40
    assert summary.line() == "5 delivered, 0 failed, 0 ignored, 40 not finished"


def test_the_traffic_line_says_what_requests_and_retries_count() -> None:
    summary = summary_of(10)
    assert summary.traffic_line() is None
    summary.requests, summary.retried_items, summary.rate_limited = 8, 100, 1
    assert summary.traffic_line() == (
        "requests: 8 made, 1 answered with a rate limit; retries: 100 (items sent again after a retryable answer)"
    )


def test_ignored_events_give_their_reasons_most_frequent_first() -> None:
    summary = summary_of(ignored={"identify needs profiles": 2, "alias is not supported": 5})
    assert summary.ignored_line() == "ignored: 5 'alias is not supported'; 2 'identify needs profiles'"
    many = summary_of(ignored={f"reason {i}": 10 - i for i in range(6)})
    line = many.ignored_line()
    assert line is not None and line.endswith("18 for 3 other reasons (see deliverator report)")


def test_only_files_that_were_written_are_named(tmp_path: Path) -> None:
    results = tmp_path / "events.results.jsonl"
    results.write_text("{}\n")
    empty = tmp_path / "events.dead-letter.jsonl"
    empty.write_text("")
    lines = summary_of(1).lines(
        [("outcomes", results), ("dead letters", empty), ("missing", tmp_path / "nope"), ("stdout", None)]
    )
    assert lines == ["1 delivered, 0 failed, 0 ignored", f"outcomes: {results}"]


def _summary_block(page: Path) -> list[str]:
    blocks = re.findall(r"```\n(\d+ delivered.*?)```", page.read_text(), flags=re.S)
    assert blocks, f"{page.name} shows no summary"
    return blocks[0].splitlines()


@pytest.mark.parametrize("page", [REPO / "README.md", REPO / "docs" / "guide.md"], ids=lambda p: p.name)
def test_the_documented_summary_is_what_a_run_prints(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _summary_block(page)
    numbers = [int(n) for n in re.findall(r"\d+", " ".join(shown[:2]))]
    delivered, failed, ignored, requests, rate_limited, retries = numbers
    summary = summary_of(delivered, {"PAYLOAD_VALIDATION_FAILED": failed})
    summary.requests, summary.rate_limited, summary.retried_items = requests, rate_limited, retries
    monkeypatch.chdir(tmp_path)
    files = [("outcomes", Path("events.results.jsonl")), ("dead letters", Path("events.dead-letter.jsonl"))]
    for _, path in files:
        path.write_text("{}\n")
    assert summary.lines(files) == shown
    assert not ignored


def _view(summary: Summary, bytes_read: int, total_bytes: int | None, **extra: object) -> dict[str, object]:
    options: dict[str, object] = {"label": "delivering", "rate": 100.0, "resumable": False, "now": 10.0}
    options.update(extra)
    view = progress_view(summary, bytes_read, total_bytes, **options)  # type: ignore[arg-type]
    return {
        "label": view.label,
        "fraction": view.fraction,
        "count": view.count,
        "eta": view.eta,
        "waiting": view.waiting,
    }


def test_stdin_shows_counts_without_a_total() -> None:
    summary = summary_of(30)
    summary.read = 50
    view = _view(summary, 5_000, None)
    assert view["count"] == "30 events" and view["fraction"] is None and view["eta"] == ""


def test_a_file_estimates_its_total_from_the_lines_read() -> None:
    summary = summary_of(20)
    summary.read = 50
    assert estimated_total(summary, 1_000, 10_000) == (500, True)
    view = _view(summary, 1_000, 10_000)
    assert view["count"] == "20/~500 events" and view["eta"] == "ETA 0:00:05"
    assert view["fraction"] == pytest.approx(20 / 500)


def test_a_file_read_to_its_end_has_an_exact_total() -> None:
    summary = summary_of(20)
    summary.read = 60
    assert estimated_total(summary, 10_000, 10_000) == (60, False)
    assert _view(summary, 10_000, 10_000)["count"] == "20/60 events"


def test_a_source_that_knows_its_total_gives_it() -> None:
    summary = summary_of(3)
    summary.expected = 12
    assert _view(summary, 0, None)["count"] == "3/12 events"


def test_without_a_count_of_records_read_a_file_shows_how_much_was_read() -> None:
    view = _view(summary_of(7), 2_500, 10_000)
    assert view["count"] == "7 events (25 % of the file read)" and view["fraction"] is None


def test_retries_waiting_and_a_rate_limit_slow_down_show_live() -> None:
    summary = summary_of(5)
    summary.requests, summary.retried_items, summary.rate_limited = 4, 9, 1
    summary.waiting_retry, summary.next_retry_s, summary.paced_rate = 3, 2.5, 4.0
    waiting = _view(summary, 0, None)["waiting"]
    assert waiting == (
        "4 requests, 9 retries, 1 rate-limited · 3 waiting to retry (next in 2.5 s) · slowed to 4.0 requests/s"
    )
    summary.waiting_retry, summary.paced_rate = 0, None
    assert _view(summary, 0, None)["waiting"] == "4 requests, 9 retries, 1 rate-limited"


@pytest.mark.parametrize("resumable", [False, True])
def test_a_stopped_run_says_so_and_whether_it_resumes(resumable: bool) -> None:
    summary = summary_of(5)
    summary.cancelled = True
    view = _view(summary, 100, 1_000, resumable=resumable)
    assert view["label"] == "stopping" and view["eta"] == ""
    assert str(view["waiting"]).startswith("resumable: the same command finishes the run") is resumable


def test_a_finished_run_shows_its_exact_count_and_how_long_it_took() -> None:
    summary = summary_of(20)
    view = _view(summary, 900, 1_000, finished_after_s=95.0)
    assert (view["label"], view["count"], view["eta"], view["fraction"]) == ("done", "20/20 events", "in 0:01:35", 1.0)
