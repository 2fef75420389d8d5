"""The small pieces: TOML config writing, outcome tallies, hot-spot aggregation, the report's
figures, and the benchsink plugin's reading of the sink's answers."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliverator_job import customerio_config, summary_counts, toml_value, unsupported_reason, write_config
from profiling import format_hot_spots, read_collapsed
from report import runs_json, summarise, target_rows, write_json
from results import RunResult
from spread import Spread, ratio
from verify import differing_items, tally_outcomes

toml_scalars = st.one_of(st.booleans(), st.integers(-10**9, 10**9), st.text(max_size=30),
                         st.floats(allow_nan=False, allow_infinity=False))


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
                       st.one_of(toml_scalars, st.lists(st.integers(), max_size=3)), max_size=6))
def test_written_config_reads_back_as_the_same_values(keys: dict[str, Any]) -> None:
    text = "\n".join(f"{key} = {toml_value(value)}" for key, value in keys.items())
    assert tomllib.loads(text) == keys


def test_config_tables_and_inline_tables_round_trip(tmp_path: Path) -> None:
    sections: dict[str, dict[str, Any]] = {
        "destination": {"name": "benchsink"},
        "destination.settings": {"endpoint": "https://127.0.0.1:1"},
        "error_handler": {"backoff_strategies": [{"type": "constant", "backoff_time_in_seconds": 0.01}]},
    }
    parsed = tomllib.loads(write_config(tmp_path / "c.toml", sections).read_text())
    assert parsed["destination"] == {"name": "benchsink", "settings": {"endpoint": "https://127.0.0.1:1"}}
    assert parsed["error_handler"]["backoff_strategies"][0]["backoff_time_in_seconds"] == 0.01


def test_toml_value_refuses_what_it_cannot_write() -> None:
    with pytest.raises(TypeError, match="no TOML form for object"):
        toml_value(object())


def test_summary_line_is_read_from_the_output() -> None:
    assert summary_counts("x\n199998 delivered, 2 failed, 0 ignored\n") == (199998, 2, 0)
    assert summary_counts("nothing here") is None


def _outcome(index: int, outcome: str = "delivered", sent: Any = None) -> bytes:
    return orjson.dumps({"index": index, "outcome": outcome, "sent": sent}) + b"\n"


def test_outcomes_are_tallied_by_kind(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(_outcome(0) + _outcome(1, "failed") + b"\n" + _outcome(2))
    assert tally_outcomes(path) == {"lines": 3, "delivered": 2, "failed": 1}


def test_differing_items_finds_indexes_whose_sent_item_changed_whatever_the_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b"".join(_outcome(i, sent={"n": i}) for i in range(5)))
    second.write_bytes(b"".join(_outcome(i, sent={"n": i if i != 3 else -1}) for i in (4, 3, 2, 1, 0)))
    assert differing_items(first, second) == [3]


def test_hot_spots_merge_lines_of_one_function_and_count_self_and_total(tmp_path: Path) -> None:
    raw = tmp_path / "p.txt"
    raw.write_text(
        "main (/x/run.py:10);work (/x/lib.py:5) 6\n"
        "main (/x/run.py:11);work (/x/lib.py:7);dumps (/y/json.py:2) 4\n"
        "garbage line\n"
    )
    spots = read_collapsed(raw)
    assert spots.samples == 10
    assert spots.self_samples == {"work (lib.py)": 6, "dumps (json.py)": 4}
    assert spots.total_samples["main (run.py)"] == 10
    assert "60.0%" in format_hot_spots(spots, top=3)


def _run(key: str, events: int, seconds: float, rss: float | None = None, *, cpu_s: float | None = None,
         largest: float | None = None, processes: int | None = None) -> RunResult:
    return RunResult(key=key, label=key, events=events, seconds=seconds, timed="t",
                     cpu_s=seconds if cpu_s is None else cpu_s, max_rss_mb=rss,
                     largest_process_rss_mb=largest, processes=processes)


def test_ratios_compare_event_rates_not_times() -> None:
    a, b = [_run("A", 200_000, 4.0)], [_run("B", 5_000, 5.0)]
    spread = ratio(a, b)
    assert spread is not None
    assert spread.median == pytest.approx(50.0)
    assert ratio(a, None) is None


def test_ratio_spread_is_median_over_median_and_the_widest_range() -> None:
    a = [_run("A", 100, seconds) for seconds in (1.0, 2.0, 4.0)]  # 100, 50, 25 events/s
    b = [_run("B", 100, seconds) for seconds in (2.0, 4.0)]  # 50, 25 events/s: median 37.5
    spread = ratio(a, b)
    assert spread == Spread(pytest.approx(0.5), pytest.approx(50 / 37.5), pytest.approx(4.0))


def test_spread_is_min_median_max_and_says_so() -> None:
    spread = Spread.of([3.0, 1.0, 2.0])
    assert (spread.low, spread.median, spread.high) == (1.0, 2.0, 3.0)
    assert spread.format(".1f") == "2.0 (1.0-3.0)"
    assert Spread.of([5.0]).format(".1f") == "5.0"
    with pytest.raises(ValueError, match="at least one"):
        Spread.of([])


def test_headline_reports_rss_growth_from_n_to_ten_n() -> None:
    runs = {"A": [_run("A", 100, 1.0, rss=90.0), _run("A", 100, 1.0, rss=100.0)],
            "A10": [_run("A10", 1000, 10.0, rss=115.0)]}
    headline = summarise({}, runs)
    assert headline["A_rss_growth"] == pytest.approx(0.15)
    assert headline["A_cpu_s_per_100k"]["median"] == pytest.approx(1000.0)


def test_runs_json_keeps_every_run_and_the_spread() -> None:
    data = runs_json({"A": [_run("A", 100, 1.0), _run("A", 100, 2.0)]})
    assert len(data["A"]["runs"]) == 2
    assert data["A"]["events_per_s"] == {"min": 50.0, "median": 75.0, "max": 100.0}


def test_results_are_written_as_a_dated_file_and_latest(tmp_path: Path) -> None:
    path = write_json({"headline": {"A/B": 30.0}}, tmp_path)
    assert path.name.startswith("bench-")
    assert orjson.loads((tmp_path / "latest.json").read_bytes()) == {"headline": {"A/B": 30.0}}


def test_run_result_json_has_rate_and_cpu_per_100k() -> None:
    data = _run("A", 200_000, 5.0).to_json()
    assert data["events_per_s"] == 40_000.0
    assert data["cpu_s_per_100k"] == 2.5
    assert math.isclose(data["seconds"], 5.0)


def test_charts_are_written_as_png_files(tmp_path: Path) -> None:
    charts = pytest.importorskip("charts", reason="matplotlib is a bench-only dependency (make bench installs it)")
    runs = {key: {"events_per_s": {"min": 90.0, "median": 100.0, "max": 120.0}} for key in ("A", "A1", "B'", "C'")}
    arc = {"rate_limited": {"shape": {"rate": 200.0, "latency_s": 0.1}, "samples": [[0.05, 1], [0.1, 2]]},
           "knee": {"shape": {"workers": 8, "service_s": 0.05}, "samples": [[0.05, 1], [0.1, 2]]}}
    written = [charts.throughput_chart(runs, tmp_path / "t.png", "title"), charts.limit_chart(arc, tmp_path / "l.png")]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_processes_key_is_written_only_when_asked(tmp_path: Path) -> None:
    plain = tomllib.loads(customerio_config(tmp_path / "a.toml", "https://127.0.0.1:1", concurrency=4,
                                            ca_bundle=None).read_text())
    one = tomllib.loads(customerio_config(tmp_path / "a1.toml", "https://127.0.0.1:1", concurrency=4,
                                          ca_bundle=None, processes=1).read_text())
    assert "processes" not in plain["delivery"]
    assert one["delivery"] == {"concurrency": 4, "processes": 1}


def test_check_accepting_the_config_means_the_processes_key_is_supported() -> None:
    assert unsupported_reason(0, "configuration OK") is None
    assert unsupported_reason(1, "configuration OK: destination 'customerio'\ncredentials FAILED: ...") is None


def test_a_config_error_naming_processes_means_it_is_not_supported() -> None:
    output = ("deliverator: error: configuration: delivery: unknown key 'processes'; expected one of: "
              "batch_size, concurrency\n")
    assert unsupported_reason(2, output) == "deliverator: error: configuration: delivery: unknown key 'processes'"


def test_any_other_config_error_is_the_benchmarks_fault_and_says_so() -> None:
    with pytest.raises(RuntimeError, match=r"exit 2.*site_id"):
        unsupported_reason(2, "error: [destination.settings]: site_id is required")


def test_headline_has_a1_ratios_and_cpu_per_event_against_one_process() -> None:
    runs = {"A": [_run("A", 100, 1.0, cpu_s=1.1)], "A1": [_run("A1", 100, 2.0, cpu_s=1.0)],
            "B'": [_run("B'", 100, 4.0)], "C'": [_run("C'", 100, 2.5)]}
    headline = summarise({}, runs)
    assert headline["A/B'"]["median"] == pytest.approx(4.0)
    assert headline["A1/B'"]["median"] == pytest.approx(2.0)
    assert headline["A1/C'"]["median"] == pytest.approx(1.25)
    assert headline["A/A1"]["median"] == pytest.approx(2.0)
    assert headline["A_cpu/A1_cpu"]["median"] == pytest.approx(1.1)


def test_peak_rss_rows_say_how_many_processes_were_summed() -> None:
    runs = {"A": [_run("A", 100, 1.0, rss=120.0, largest=50.0, processes=3)],
            "A10": [_run("A10", 1000, 10.0, rss=130.0, largest=52.0, processes=3)],
            "A1": [_run("A1", 100, 2.0, rss=70.0, largest=70.0, processes=1)]}
    report = {"setup": {"events": 100, "rss_events": 1000}, "headline": summarise({}, runs)}
    rows = {name: (value, target, ok) for name, value, target, ok in target_rows(report)}
    assert rows["A peak RSS, N, all 3 processes"] == ("120.0 MB", "<= 150 MB", True)
    assert rows["A largest single process, N"] == ("50.0 MB", "", None)
    assert rows["A1 peak RSS, N, one process"] == ("70.0 MB", "", None)
    assert rows["A peak RSS, 10 x N, all 3 processes"] == ("130.0 MB", "", None)
    assert rows["A RSS growth N -> 10 x N"][0] == "+8.3 %"
    assert rows["A CPU / A1 CPU (per event)"][1:] == ("<= 1.00", True)
