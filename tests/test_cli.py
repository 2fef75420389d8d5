"""The command line in real processes against a real loopback server: exit codes, summary,
files, and every configuration error path (exit 2, a message naming the problem, no traceback)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from deliverator.testing import ScriptedResponse, ScriptedServer
from tests.services import ExampleService, jsonl, track
from tests.support import cli_env, run_cli

CONFIG = """
[destination]
name = "example"

[destination.settings]
endpoint = "{url}"
token = "${{EXAMPLE_TOKEN}}"

[delivery]
batch_size = 5
concurrency = 2
linger_s = 0.05

[error_handler]
max_retries = 2
backoff_strategies = [{{ type = "constant", backoff_time_in_seconds = 0.01 }}]
"""


def write_config(tmp_path: Path, url: str, extra: str = "", text: str | None = None) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text if text is not None else CONFIG.format(url=url) + extra)
    return path


def write_events(tmp_path: Path, records: list[object]) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(records))
    return path


@pytest.fixture
def env(example_site: Path) -> dict[str, str]:
    return cli_env(example_site, extra={"EXAMPLE_TOKEN": "tok-123-secret"})


def test_deliver_exits_0_and_prints_the_summary_when_everything_is_delivered(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with ExampleService() as service:
        config = write_config(tmp_path, service.url)
        events = write_events(tmp_path, [track(i) for i in range(12)])
        proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
    assert proc.returncode == 0, proc.stderr
    assert "12 delivered, 0 failed, 0 ignored" in proc.stdout
    results = (tmp_path / "events.results.jsonl").read_bytes().splitlines()
    assert len(results) == 12
    assert service.requests == 3


def test_deliver_exits_1_when_some_event_failed_and_writes_dead_letters(tmp_path: Path, env: dict[str, str]) -> None:
    with ExampleService(items={"m-2": (400,)}) as service:
        config = write_config(tmp_path, service.url)
        events = write_events(tmp_path, [track(0), "garbage", track(2)])
        proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
    assert proc.returncode == 1, proc.stderr
    assert "1 delivered, 2 failed, 0 ignored" in proc.stdout
    dead = [orjson.loads(line) for line in (tmp_path / "events.dead-letter.jsonl").read_bytes().splitlines()]
    assert [d["index"] for d in sorted(dead, key=lambda d: d["index"])] == [1, 2]


def test_dead_letter_file_can_be_delivered_again(tmp_path: Path, env: dict[str, str]) -> None:
    with ExampleService(items={"m-0": (400, 200)}) as service:
        config = write_config(tmp_path, service.url)
        events = write_events(tmp_path, [track(0), track(1)])
        first = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
        again = run_cli(
            [
                "deliver",
                str(tmp_path / "events.dead-letter.jsonl"),
                "--config",
                str(config),
                "--no-progress",
                "--results",
                str(tmp_path / "again.jsonl"),
            ],
            env,
        )
    assert (first.returncode, again.returncode) == (1, 0), again.stderr
    assert "1 delivered, 0 failed" in again.stdout
    assert service.delivered == {"m-0": 1, "m-1": 1}


def test_stdin_input_and_results_on_stdout(tmp_path: Path, env: dict[str, str]) -> None:
    with ExampleService() as service:
        config = write_config(tmp_path, service.url)
        proc = run_cli(
            ["deliver", "-", "--config", str(config), "--results", "-", "--no-progress"],
            env,
            cwd=tmp_path,
            stdin=jsonl([track(0), track(1)]),
        )
    assert proc.returncode == 0, proc.stderr
    records = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert sorted(r["index"] for r in records) == [0, 1]
    assert "2 delivered, 0 failed, 0 ignored" in proc.stderr


def test_secrets_never_reach_outcomes_or_output(tmp_path: Path, env: dict[str, str]) -> None:
    def script(number: int) -> ScriptedResponse:
        return ScriptedResponse(status=401, body={"message": "bad token"})

    with ExampleService(request_script=script) as service:
        config = write_config(tmp_path, service.url)
        events = write_events(tmp_path, [track(0)])
        proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
    assert proc.returncode == 1
    everything = proc.stdout + proc.stderr + (tmp_path / "events.results.jsonl").read_text()
    everything += (tmp_path / "events.dead-letter.jsonl").read_text()
    assert "tok-123-secret" not in everything


CONFIG_ERRORS = [
    ("not toml at all = = =", "not valid TOML"),
    (
        '[destination]\nname = "example"\n[destination.settings]\nendpoint = "x"\ntoken = "t"\n[surprise]\n',
        "unknown section 'surprise'",
    ),
    ("[delivery]\nconcurrency = 2\n", "missing [destination] section"),
    ('[destination]\nname = "nowhere"\n', "no destination named 'nowhere'"),
    (
        '[destination]\nname = "example"\n[destination.settings]\nendpoint = "x"\n',
        "destination.settings.token: required key missing",
    ),
    (
        '[destination]\nname = "example"\n[destination.settings]\nendpoint = "x"\ntoken = "t"\ncolour = "red"\n',
        "destination.settings: unknown key 'colour'",
    ),
    (
        '[destination]\nname = "example"\n[destination.settings]\nendpoint = "x"\ntoken = "${NOT_SET_ANYWHERE}"\n',
        "environment variable NOT_SET_ANYWHERE is not set",
    ),
    ('[destination]\nname = "example"\n[delivery]\nbatchsize = 3\n', "delivery: unknown key 'batchsize'"),
    ('[destination]\nname = "example"\n[delivery]\nconcurrency = 0\n', "delivery.concurrency: must be greater than 0"),
    ('[destination]\nname = "example"\n[delivery]\ntimeout_s = "soon"\n', "delivery.timeout_s: expected a number"),
    ('[destination]\nname = "example"\n[delivery]\nprocesses = 0\n', "delivery.processes: must be greater than 0"),
    ('[destination]\nname = "example"\n[delivery]\nprocesses = "many"\n', 'expected a whole number or "auto"'),
    ('[destination]\nname = "example"\n[error_handler]\nmax_retriez = 3\n', "max_retriez"),
    ('[destination]\nname = "example"\n[error_handler]\nbackoff_strategies = [{ type = "fibonacci" }]\n', "fibonacci"),
]


@pytest.mark.parametrize(("text", "message"), CONFIG_ERRORS, ids=[m for _, m in CONFIG_ERRORS])
def test_config_errors_exit_2_with_a_message_and_no_traceback(
    tmp_path: Path, env: dict[str, str], text: str, message: str
) -> None:
    config = write_config(tmp_path, "", text=text)
    events = write_events(tmp_path, [track(0)])
    proc = run_cli(["deliver", str(events), "--config", str(config), "--no-progress"], env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "events.results.jsonl").exists() or message


def test_missing_config_file_exits_2(tmp_path: Path, env: dict[str, str]) -> None:
    events = write_events(tmp_path, [track(0)])
    proc = run_cli(["deliver", str(events), "--config", str(tmp_path / "nope.toml")], env)
    assert proc.returncode == 2
    assert "config file not found" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_input_file_exits_2(tmp_path: Path, env: dict[str, str]) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    proc = run_cli(["deliver", str(tmp_path / "nope.jsonl"), "--config", str(config)], env)
    assert proc.returncode == 2
    assert "input file not found" in proc.stderr


def test_missing_config_option_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    proc = run_cli(["deliver", "x.jsonl"], env)
    assert proc.returncode == 2
    assert "--config" in proc.stderr


def test_destinations_lists_the_example_plugin(env: dict[str, str]) -> None:
    proc = run_cli(["destinations"], env)
    assert proc.returncode == 0
    assert "example" in proc.stdout and "deliverator-example" in proc.stdout


def test_destinations_json(env: dict[str, str]) -> None:
    proc = run_cli(["destinations", "--json"], env)
    rows = orjson.loads(proc.stdout)
    assert {
        "name": "example",
        "kind": "destination",
        "distribution": "deliverator-example",
        "version": "0.1.0",
        "module": "deliverator_example.plugin",
    } in rows


def test_destinations_with_an_empty_allow_list_lists_nothing(example_site: Path) -> None:
    proc = run_cli(["destinations", "--json"], cli_env(example_site, allow=""))
    assert orjson.loads(proc.stdout) == []


def test_a_destination_that_fails_to_import_is_named_and_exits_2(tmp_path: Path) -> None:
    from tests.support import write_distribution

    site = tmp_path / "site"
    write_distribution(
        site,
        "bad-dest",
        {"deliverator.destinations": {"bad": "bad_dest"}},
        {"bad_dest": "raise ImportError('missing sdk')\n"},
    )
    config = write_config(tmp_path, "", text='[destination]\nname = "bad"\n')
    events = write_events(tmp_path, [track(0)])
    proc = run_cli(["deliver", str(events), "--config", str(config)], cli_env(site))
    assert proc.returncode == 2
    assert "'bad'" in proc.stderr and "missing sdk" in proc.stderr and "Traceback" not in proc.stderr
    listing = run_cli(["destinations"], cli_env(site))
    assert listing.returncode == 0 and "bad" in listing.stdout


def test_check_reports_a_destination_without_a_credentials_check(tmp_path: Path, env: dict[str, str]) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    proc = run_cli(["check", "--config", str(config)], env)
    assert proc.returncode == 0, proc.stderr
    assert "configuration OK" in proc.stdout and "no credentials check" in proc.stdout


def test_check_with_a_bad_config_exits_2(tmp_path: Path, env: dict[str, str]) -> None:
    config = write_config(
        tmp_path, "", text='[destination]\nname = "example"\n[destination.settings]\nendpoint = 3\ntoken = "t"\n'
    )
    proc = run_cli(["check", "--config", str(config)], env)
    assert proc.returncode == 2 and "destination.settings.endpoint" in proc.stderr


def test_sigterm_leaves_a_file_run_resumable_and_the_same_command_finishes_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    slow = ScriptedServer([ScriptedResponse(status=200, body={"results": [{"status": 200}] * 5}, delay_s=0.4)])
    with slow:
        config = write_config(
            tmp_path, slow.url, text=CONFIG.format(url=slow.url).replace("concurrency = 2", "concurrency = 1")
        )
        events = write_events(tmp_path, [track(i) for i in range(100)])
        args = ["deliver", str(events), "--config", str(config), "--no-progress"]
        command = [sys.executable, "-m", "deliverator", *args]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not slow.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 3, stderr
        first = [orjson.loads(line) for line in (tmp_path / "events.results.jsonl").read_bytes().splitlines()]
        assert first and all(o["outcome"] == "delivered" for o in first)  # the in-flight request finished
        assert len(first) < 100 and not [o for o in first if o["status"] == 499]  # the rest released, not failed
        assert (tmp_path / "events.results.jsonl.journal").exists()
        again = run_cli(args, env)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(first)} of 100 events already have an outcome" in again.stderr
    outcomes = [orjson.loads(line) for line in (tmp_path / "events.results.jsonl").read_bytes().splitlines()]
    assert sorted(o["index"] for o in outcomes) == list(range(100))
    assert "100 delivered, 0 failed, 0 ignored" in again.stdout
    assert not (tmp_path / "events.results.jsonl.journal").exists()
    assert not (tmp_path / "events.dead-letter.jsonl").exists()  # nothing failed: no empty file


def test_sigterm_on_stdin_records_every_unfinished_event_as_cancelled(tmp_path: Path, env: dict[str, str]) -> None:
    slow = ScriptedServer([ScriptedResponse(status=200, body={"results": [{"status": 200}] * 5}, delay_s=0.4)])
    with slow:
        config = write_config(
            tmp_path, slow.url, text=CONFIG.format(url=slow.url).replace("concurrency = 2", "concurrency = 1")
        )
        feed = tmp_path.parent / f"{tmp_path.name}-feed.jsonl"
        feed.write_bytes(jsonl([track(i) for i in range(100)]))
        with feed.open("rb") as stdin:
            proc = subprocess.Popen(
                [sys.executable, "-m", "deliverator", "deliver", "-", "--config", str(config), "--no-progress"],
                env=env,
                cwd=tmp_path,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        deadline = time.monotonic() + 20
        while not slow.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1, stderr
    outcomes = [orjson.loads(line) for line in stdout.splitlines()]
    assert sorted(o["index"] for o in outcomes) == list(range(100))
    cancelled = [o for o in outcomes if o["status"] == 499]
    assert cancelled and all(o["errortype"] == "CANCELLED" and o["outcome"] == "failed" for o in cancelled)
    assert any(o["outcome"] == "delivered" for o in outcomes)  # the in-flight request was allowed to finish
    assert b"cancelled" in stderr
    assert not list(tmp_path.glob("*.jsonl*"))  # no file the user did not name


def test_help_lists_the_commands(env: dict[str, str]) -> None:
    proc = run_cli(["--help"], env)
    assert proc.returncode == 0
    for name in ("deliver", "destinations", "check", "demo"):
        assert name in proc.stdout


def test_a_results_file_that_cannot_be_written_exits_2_naming_it(tmp_path: Path, env: dict[str, str]) -> None:
    with ExampleService() as service:
        config = write_config(tmp_path, service.url)
        events = write_events(tmp_path, [track(0)])
        proc = run_cli(
            ["deliver", str(events), "--config", str(config), "--results", str(tmp_path / "no" / "such" / "dir.jsonl")],
            env,
        )
    assert proc.returncode == 2
    assert "cannot open the results file" in proc.stderr and "Traceback" not in proc.stderr
    assert service.requests == 0
