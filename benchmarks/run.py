"""``make bench``: deliverator against the official client (used well: its ``batch()`` call;
and one request per event), a straight-line script and a zero-work baseline, on loopback
against one fast sink; plus peak memory, retry amplification and start-up time. See
benchmarks/README.md for what each figure means.

    python benchmarks/run.py [--events N] [--rss-events M] [--transport tls|http] [--repeat K] [--quick]
    python benchmarks/run.py --profile        # where A spends its time (py-spy)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from arc import fast_sink, knee, rate_limited
from certs import make_tls_files
from deliverator_job import deliverator_command, processes_key_unsupported, run_a, run_a_sharded
from events import write_events
from jobs import run_b, run_b_prime, run_c, run_c_prime
from profiling import format_hot_spots, profile_a
from report import Runs, render, runs_json, summarise, write_json
from results import RunResult
from retries import run_retry_amplification
from sink import Mode, Shape, Sink, TlsFiles
from startup import measure_startup

HERE = Path(__file__).resolve().parent
STEPS = ("startup", "C", "C'", "A", "A1", "A2", "B'", "B", "rss", "retries", "arc", "queue")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (every default is the issue's)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="N, events for A, C' and C (200,000)")
    parser.add_argument("--b-events", type=int, default=5_000, help="events for the official client (5,000)")
    parser.add_argument("--rss-events", type=int, default=None,
                        help="events for A's second memory run (default 10 x N; 0 skips it)")
    parser.add_argument("--retry-events", type=int, default=None,
                        help="events for the retry-amplification run (default min(N, 100,000))")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--transport", choices=("tls", "http"), default="tls",
                        help="for A, C' and C (B is always HTTPS); default tls")
    parser.add_argument("--sink-workers", type=int, default=1, help="sink processes (SO_REUSEPORT)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of every runner; each figure is reported as min / median / max")
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--arc-events", type=int, default=None,
                        help="events for each adaptive-concurrency run on the shaped sinks (default min(N, 60,000))")
    parser.add_argument("--arc-rate", type=float, default=200.0, help="requests/s the rate-limited sink allows")
    parser.add_argument("--charts-dir", type=Path, default=None,
                        help="also copy the PNG charts here (e.g. docs/images)")
    parser.add_argument("--only", default=",".join(STEPS),
                        help=f"comma-separated steps to run, from {', '.join(STEPS)}")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: N = 20,000, 1,000 for B, 10 x N = 200,000")
    parser.add_argument("--profile", action="store_true",
                        help="instead of benchmarking, profile A under py-spy and print the hot spots")
    parser.add_argument("--top", type=int, default=25, help="hot spots to print with --profile")
    parser.add_argument("--work-dir", type=Path, default=None, help="keep inputs and outcomes here")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.b_events = 20_000, 1_000
    if args.rss_events is None:
        args.rss_events = 10 * args.events
    if args.retry_events is None:
        args.retry_events = min(args.events, 100_000)
    if args.arc_events is None:
        args.arc_events = min(args.events, 60_000)
    steps = [step.strip() for step in args.only.split(",") if step.strip()]
    unknown = [step for step in steps if step not in STEPS]
    if unknown:
        parser.error(f"unknown step {unknown[0]!r} in --only (choose from {', '.join(STEPS)})")
    args.steps = steps
    for name in ("events", "b_events", "concurrency", "sink_workers", "repeat", "startup_runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


@contextmanager
def work_directory(chosen: Path | None) -> Iterator[Path]:
    """The given directory, kept; or a temporary one, removed afterwards."""
    if chosen is not None:
        chosen.mkdir(parents=True, exist_ok=True)
        yield chosen
        return
    path = Path(tempfile.mkdtemp(prefix="deliverator-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Bench:
    """One benchmark session: inputs, certificates, and a fresh sink for every run."""

    def __init__(self, args: argparse.Namespace, work: Path, console: Console) -> None:
        self.args = args
        self.work = work
        self.console = console
        self.tls: TlsFiles = make_tls_files(work / "tls")
        self.inputs: dict[int, Path] = {}

    @cached_property
    def processes_unsupported(self) -> str | None:
        """None if the installed deliverator takes ``[delivery] processes``, else why not
        (asked once: A1 and A x 2 both need to know)."""
        reason = processes_key_unsupported(self.work, self.sink(), self.ca_bundle)
        if reason is not None:
            why = escape(f"this deliverator has no [delivery] processes key ({reason})")
            self.console.print(f"[yellow]note:[/yellow] {why}: A1 is skipped and A x 2 runs with its defaults")
        return reason

    @property
    def ca_bundle(self) -> Path | None:
        """What A, C' and C are told to trust (None over plain HTTP)."""
        return self.tls.ca_path if self.args.transport == "tls" else None

    def events_file(self, count: int) -> Path:
        """The deterministic input of ``count`` events, written once."""
        if count not in self.inputs:
            with self.step(f"writing {count:,} events"):
                self.inputs[count] = write_events(self.work / f"events-{count}.jsonl", count)
        return self.inputs[count]

    def sink(self, mode: Mode = "ok", *, tls: bool | None = None, workers: int | None = None) -> Sink:
        """A started sink on the chosen transport (or as asked)."""
        use_tls = self.args.transport == "tls" if tls is None else tls
        sink = Sink(mode=mode, workers=workers or self.args.sink_workers,
                    tls=self.tls if use_tls else None)
        sink.start()
        return sink

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Say what runs, and how long it took, on stderr."""
        self.console.print(f"[dim]… {what}[/dim]", end="")
        started = time.perf_counter()
        yield
        self.console.print(f"[dim] ({time.perf_counter() - started:.1f} s)[/dim]")

    def repeated(self, what: str, run: Callable[[], RunResult]) -> list[RunResult]:
        """Run ``repeat`` times and keep every run (the report gives min / median / max)."""
        return self.alternated({"": (what, run)})[""]

    def alternated(self, runners: dict[str, tuple[str, Callable[[], RunResult]]]) -> dict[str, list[RunResult]]:
        """Run each of ``runners`` (key: (what, run)) ``repeat`` times, taking turns (A, A1, A,
        A1, ...): a change in the shared machine's load then falls on both alike, which matters
        for figures compared with each other as closely as A's and A1's CPU per event."""
        results: dict[str, list[RunResult]] = {key: [] for key in runners}
        for attempt in range(self.args.repeat):
            for key, (what, run) in runners.items():
                label = what if self.args.repeat == 1 else f"{what} (run {attempt + 1}/{self.args.repeat})"
                with self.step(label):
                    results[key].append(run())
        return results


def benchmark(args: argparse.Namespace, bench: Bench) -> dict[str, Any]:
    """Run every chosen step and build the report."""
    n, steps = args.events, set(args.steps)
    deliverator = deliverator_command()
    runs: Runs = {}
    report: dict[str, Any] = {
        "setup": {
            "events": n, "b_events": args.b_events, "rss_events": args.rss_events,
            "retry_events": args.retry_events, "concurrency": args.concurrency,
            "transport": "TLS (trustme CA)" if args.transport == "tls" else "plain HTTP",
            "b_transport": "TLS (trustme CA)", "sink_workers": args.sink_workers,
            "repeat": args.repeat, "python": platform.python_version(),
            "platform": platform.platform(), "cpus": os.cpu_count(),
        },
    }
    if "startup" in steps:
        with bench.step(f"start-up, best of {args.startup_runs}"):
            startup = measure_startup(deliverator, runs=args.startup_runs)
        report["startup"] = {"help_s": round(startup.help_s, 4),
                             "destinations_s": round(startup.destinations_s, 4), "runs": startup.runs,
                             "help_s_spread": startup.help.to_json(),
                             "destinations_s_spread": startup.destinations.to_json()}
    events = bench.events_file(n) if steps & {"C", "C'", "A", "A1", "A2", "B'", "B"} else None
    if events is not None and "C" in steps:
        runs["C"] = bench.repeated("C: zero-work baseline", lambda: run_c(
            events, sink=bench.sink(), work_dir=bench.work, concurrency=args.concurrency,
            ca_bundle=bench.ca_bundle))
    if events is not None and "C'" in steps:
        runs["C'"] = bench.repeated("C': straight-line script", lambda: run_c_prime(
            events, n, sink=bench.sink(), work_dir=bench.work, concurrency=args.concurrency,
            ca_bundle=bench.ca_bundle))
    a_runners: dict[str, tuple[str, Callable[[], RunResult]]] = {}
    if events is not None and "A" in steps:
        a_runners["A"] = ("A: deliverator deliver", lambda: run_a(
            events, n, work_dir=bench.work, sink=bench.sink(), concurrency=args.concurrency,
            ca_bundle=bench.ca_bundle))
    if events is not None and "A1" in steps:
        unsupported = bench.processes_unsupported
        if unsupported is None:
            a_runners["A1"] = ("A1: deliverator deliver, processes = 1", lambda: run_a(
                events, n, work_dir=bench.work, sink=bench.sink(), concurrency=args.concurrency,
                ca_bundle=bench.ca_bundle, tag="a1", key="A1", processes=1))
        else:
            report.setdefault("skipped", {})["A1"] = f"[delivery] processes not supported: {unsupported}"
    runs.update(bench.alternated(a_runners))
    if "A" in runs and "C'" in runs:
        from verify import differing_items

        differ = differing_items(bench.work / "a.results.jsonl", bench.work / "c-prime.results.jsonl")
        report["same_items_as_c_prime"] = {"checked": min(n, 5_000), "differing": len(differ),
                                           "first_differing": differ[:5]}
    if events is not None and "A2" in steps:
        one_process = bench.processes_unsupported is None
        runs["Ax2"] = bench.repeated("A x 2: two deliverator processes, half the events each", lambda: run_a_sharded(
            events, n, shards=2, work_dir=bench.work, sink=bench.sink(), concurrency=args.concurrency,
            ca_bundle=bench.ca_bundle, one_process=one_process))
    if events is not None and "B'" in steps:
        for threads in (1, 4):
            key = "B'" if threads == 1 else f"B'x{threads}"
            runs[key] = bench.repeated(
                f"{key}: official client batch(), {threads} thread(s)",
                lambda threads=threads: run_b_prime(
                    events, n, sink=bench.sink(tls=True), work_dir=bench.work, threads=threads))
    if events is not None and "B" in steps:
        runs["B"] = bench.repeated(f"B: official client, 1 request per event, {args.b_events:,} events",
                                   lambda: run_b(events, min(args.b_events, n), sink=bench.sink(tls=True, workers=1),
                                                 work_dir=bench.work))
    if "rss" in steps and args.rss_events > 0:
        big = bench.events_file(args.rss_events)
        with bench.step(f"A at {args.rss_events:,} events, for peak RSS"):
            result = run_a(big, args.rss_events, work_dir=bench.work, sink=bench.sink(),
                           concurrency=args.concurrency, ca_bundle=bench.ca_bundle, tally=False,
                           tag="a10")
        runs["A10"] = [result]
        (bench.work / "a10.results.jsonl").unlink(missing_ok=True)
    if "retries" in steps:
        retry_input = bench.events_file(args.retry_events)
        with bench.step(f"retry amplification, {args.retry_events:,} events"):
            retry = run_retry_amplification(
                retry_input, args.retry_events, work_dir=bench.work, concurrency=args.concurrency,
                tls_ca=bench.ca_bundle, sink=bench.sink("items", workers=1))
        report["retries"] = retry.to_json()
    if "arc" in steps:
        report["arc"] = adaptive_concurrency(args, bench)
    if "queue" in steps:  # queue mode, 1 vs 2 workers: its own figures (queue_scale.py, also runnable alone)
        from queue_scale import main as queue_scale

        queue_scale([f"--events={min(n, 100_000)}", f"--concurrency={args.concurrency}"])
    report["runs"] = runs_json(runs)
    report["headline"] = summarise(report, runs)
    render(report, runs, bench.console)
    return report


def adaptive_concurrency(args: argparse.Namespace, bench: Bench) -> dict[str, Any]:
    """The adaptive-concurrency runs: fixed vs adaptive on the fast sink, then the shaped sinks."""
    arc: dict[str, Any] = {}
    fast_events = min(args.events, 100_000)
    arc["fast_sink"] = fast_sink(
        bench.events_file(fast_events), fast_events, repeated=bench.repeated, sink=bench.sink,
        work_dir=bench.work, ca_bundle=bench.ca_bundle)
    shaped_input = bench.events_file(args.arc_events)
    tls = bench.tls if args.transport == "tls" else None
    with bench.step(f"arc: rate-limited sink, {args.arc_rate:.0f} requests/s, {args.arc_events:,} events"):
        arc["rate_limited"] = rate_limited(
            shaped_input, shape=Shape(rate=args.arc_rate, burst=max(1.0, args.arc_rate / 10), latency_s=0.1),
            work_dir=bench.work, tls=tls, ca_bundle=bench.ca_bundle)
    with bench.step(f"arc: knee sink, 8 at once, 50 ms, {args.arc_events:,} events"):
        arc["knee"] = knee(shaped_input, shape=Shape(workers=8, service_s=0.05), work_dir=bench.work, tls=tls,
                           ca_bundle=bench.ca_bundle)
    # For comparison: the default fixed concurrency against the same two sinks (fewer events:
    # it is slow there, which is the point).
    small = bench.events_file(max(1, args.arc_events // 8))
    with bench.step("arc: the same two sinks with fixed concurrency 4"):
        arc["rate_limited_fixed4"] = rate_limited(
            small, shape=Shape(rate=args.arc_rate, burst=max(1.0, args.arc_rate / 10), latency_s=0.1),
            work_dir=bench.work, tls=tls, ca_bundle=bench.ca_bundle, concurrency=4)
        arc["knee_fixed4"] = knee(small, shape=Shape(workers=8, service_s=0.05), work_dir=bench.work, tls=tls,
                                  ca_bundle=bench.ca_bundle, concurrency=4)
    return arc


def profile(args: argparse.Namespace, bench: Bench) -> None:
    """Profile A and print its hot spots; keep the raw stacks in the results directory."""
    events = bench.events_file(args.events)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / "profile-a.collapsed.txt"
    with bench.step(f"A under py-spy, {args.events:,} events"):
        spots = profile_a(events, work_dir=bench.work, sink=bench.sink(), concurrency=args.concurrency,
                          ca_bundle=bench.ca_bundle, out=out)
    bench.console.print(format_hot_spots(spots, args.top), highlight=False, markup=False)
    bench.console.print(f"raw stacks (for flame graphs): {out}")


def write_charts(report: dict[str, Any], directory: Path, copy_to: Path | None) -> list[Path]:
    """The PNG charts of this run (matplotlib is imported only here: a bench dependency)."""
    from charts import limit_chart, throughput_chart

    setup = report["setup"]
    written: list[Path] = []
    if report.get("runs"):
        title = (f"{setup['events']:,} track events, {setup['transport']} on loopback, "
                 f"median of {setup['repeat']} run(s), {setup['cpus']} CPUs (shared)")
        written.append(throughput_chart(report["runs"], directory / "throughput.png", title))
    if report.get("arc"):
        written.append(limit_chart(report["arc"], directory / "adaptive-limit.png"))
    if copy_to is not None:
        copy_to.mkdir(parents=True, exist_ok=True)
        for path in written:
            shutil.copyfile(path, copy_to / path.name)
    return written


def main(argv: list[str] | None = None) -> int:
    """Entry point: benchmark (or profile), print, write JSON."""
    args = parse_args(argv)
    # Wide enough for the table when the output is not a terminal (make, CI logs).
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    with work_directory(args.work_dir) as work:
        bench = Bench(args, work, console)
        try:
            if args.profile:
                profile(args, bench)
                return 0
            report = benchmark(args, bench)
        except RuntimeError as exc:
            console.print(f"\n[red]benchmark failed:[/red] {exc}", markup=True, highlight=False)
            return 1
    path = write_json(report, args.results_dir)
    console.print(f"results written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    for chart in write_charts(report, args.results_dir, args.charts_dir):
        console.print(f"chart written to {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
