"""What a user sees when the command line meets hostile input: a segment file built to
exhaust memory, rules too deep or too long, strings no database holds, instants and
option values out of range, plots into missing folders, a workspace with no segments, and
a scheduled refresh that meets a workspace locked by another process.

Every error is one line on stderr, ``error: ...``, with exit code 2 and no traceback; a
failing saved segment fails alone during ``segmint refresh``.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import pytest
from typer.testing import CliRunner, Result

import segmint
from segmint.cli import app
from tests.conftest import db, write_csv, write_jsonl

AS_OF = "2026-06-01T00:00:00Z"
OUT_OF_RANGE = "0001-01-01T00:00:00Z"


def cli(root: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-w", str(root), *args])


def one_error_line(done: Result, start: str, caret: bool = False) -> None:
    """Exit 2 with ``error: ...`` on one line of stderr (no traceback); with ``caret``, an
    error in rule text, followed by the line of text and a caret under the place."""
    assert done.exit_code == 2, (done.output, done.exception)
    assert done.stderr.startswith(f"error: {start}"), done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == (3 if caret else 1), done.stderr
    assert not caret or lines[2].strip() == "^"


def make_shop(root: Path) -> Path:
    """Six customers (C1, C3, C5 in the US), app opens and orders; two saved segments."""
    ws = segmint.init(root)
    folder = root.parent
    write_jsonl(
        folder / "customers.jsonl",
        [
            {"customer_id": f"C{i}", "country": "US" if i % 2 else "GB"}
            | {"created_at": "2025-01-01T00:00:00Z"}
            for i in range(6)
        ],
    )
    write_csv(
        folder / "events.csv",
        """event_id,event,timestamp,customer_id
        E1,app_open,2026-05-20T10:00:00Z,C1
        E2,app_open,2026-05-21T10:00:00Z,C2""",
    )
    write_csv(
        folder / "orders.csv",
        """order_id,customer_id,ordered_at,total
        O1,C1,2026-05-01T00:00:00Z,120
        O2,C2,2025-12-01T00:00:00Z,40""",
    )
    for kind, name in (("customers", "customers.jsonl"), ("events", "events.csv")):
        ws.ingest(kind, folder / name)
    ws.ingest("orders", folder / "orders.csv")
    ws.add_segment("us", 'country = "US"')
    ws.add_segment("buyers", "did order_completed")
    ws.close()
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A shop a test may change."""
    return make_shop(tmp_path / "shop")


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shop for commands that must fail before changing anything."""
    return make_shop(tmp_path_factory.mktemp("idle") / "shop")


def refreshes(root: Path) -> list[tuple[Any, ...]]:
    with segmint.open(root) as ws:
        return db(ws).execute("SELECT refresh_id, segments, failed FROM refreshes").fetchall()


# --- 1. segment files built to exhaust memory or the stack --------------------------------


def billion_laughs() -> str:
    """536 bytes of YAML whose aliases expand to 10^9 strings (it took 56 s and 5.8 GB)."""
    lines = ["name: lol", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines.append('rule: {"attr": "customer_id", "op": "in", "value": *a8}')
    return "\n".join(lines) + "\n"


HOSTILE_FILES = {
    "lol.yaml": (billion_laughs(), "anchors (&name) and aliases (*name) are not allowed"),
    "deep.yaml": ("name: deep\nrule: " + "[" * 100_000 + "]" * 100_000, "nested deeper than 100"),
    "deepj.json": ('{"name": "deepj", "rule": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested"),
    "huge.yaml": ("name: huge\nrule: did app_open\n# " + "x" * 2_000_000, "larger than 1,000,000"),
}


def test_hostile_segment_files_fail_alone_during_refresh_and_list_as_unreadable(
    shop: Path,
) -> None:
    for name, (text, _) in HOSTILE_FILES.items():
        (shop / "segments" / name).write_text(text, encoding="utf-8")
    started = time.perf_counter()
    done = cli(shop, "refresh", "--as-of", AS_OF)
    assert time.perf_counter() - started < 30
    assert done.exit_code == 1, done.output  # some segments failed; the others refreshed
    errors = dict(line.split(": ", 2)[1:] for line in done.stderr.splitlines())
    for name, (_, reason) in HOSTILE_FILES.items():
        segment = name.split(".")[0]
        assert f"{shop / 'segments' / name}" in errors[f"segment {segment}"]
        assert reason in errors[f"segment {segment}"]
    assert "refreshed 2 segments at 2026-06-01T00:00:00Z" in done.stdout
    with segmint.open(shop) as ws:
        runs = dict(db(ws).execute("SELECT name, status FROM segment_runs").fetchall())
    assert runs == {"us": "ok", "buyers": "ok"} | {
        name: "failed" for name in ("lol", "deep", "deepj", "huge")
    }
    wide = {"COLUMNS": "1000"}  # one line per row
    listed = CliRunner().invoke(app, ["-w", str(shop), "segment", "list"], env=wide)
    assert listed.exit_code == 0
    rows = {line.split()[1]: line for line in listed.stdout.splitlines() if "│" in line}
    for name, (_, reason) in HOSTILE_FILES.items():
        assert f"│ unreadable: {shop / 'segments' / name}" in rows[name.split(".")[0]]
        assert reason in rows[name.split(".")[0]]


# --- 2. strings no database can hold ------------------------------------------------------


def test_a_nul_in_a_segment_that_refers_to_another_fails_only_that_segment(shop: Path) -> None:
    # Evaluated in the second level of the refresh, inside its transaction: before this was
    # refused at validation, its failing query rolled the whole refresh back.
    rule = {"and": [{"segment": "us"}, {"attr": "country", "op": "ne", "value": "U\u0000S"}]}
    (shop / "segments" / "nul.json").write_text(json.dumps({"name": "nul", "rule": rule}))
    done = cli(shop, "refresh", "--as-of", AS_OF)
    assert done.exit_code == 1
    assert done.stderr == (
        f"error: segment nul: {shop / 'segments' / 'nul.json'}.rule.and[1].value: contains a "
        "NUL character (\\u0000) at position 1: 'U\\x00S'\n"
    )
    assert refreshes(shop) == [(1, 3, 1)]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ('country = "a\\u0000"', "value: contains a NUL character"),
        ('country in ["US", "\\ud800"]', "value: item 1 contains a lone surrogate"),
    ],
    ids=["nul", "surrogate"],
)
def test_a_bad_string_in_a_rule_option_is_one_error_line(
    idle: Path, rule: str, problem: str
) -> None:
    count = cli(idle, "segment", "count", "--rule", rule)
    one_error_line(count, f"rule text, line 1, column 1: {problem}", caret=True)
    add = cli(idle, "segment", "add", "--rule", rule, "--name", "bad")
    one_error_line(add, f"segment.rule: rule text, line 1, column 1: {problem}", caret=True)
    assert not (idle / "segments" / "bad.yaml").exists()


# --- 3. nothing to refresh ----------------------------------------------------------------


def test_refresh_without_segments_says_so_and_succeeds(tmp_path: Path) -> None:
    segmint.init(tmp_path / "ws").close()
    done = cli(tmp_path / "ws", "refresh")
    assert done.exit_code == 0, done.output
    assert done.stdout == ""
    assert done.stderr == (
        "nothing to refresh: no saved segments (add one with: segmint segment add "
        "--rule TEXT --name NAME)\n"
    )
    assert refreshes(tmp_path / "ws") == []


def test_refresh_with_every_segment_retired_says_so(shop: Path) -> None:
    for name in ("us", "buyers"):
        assert cli(shop, "segment", "retire", name).exit_code == 0
    done = cli(shop, "refresh")
    assert done.exit_code == 0
    assert done.stderr.startswith("nothing to refresh: every saved segment is retired")
    backfill = cli(shop, "refresh", "--backfill", "--from", "2026-01-01", "--to", "2026-01-08")
    assert backfill.exit_code == 0
    assert backfill.stderr.count("nothing to refresh") == 2


# --- 4. rules too deep or too long ----------------------------------------------------------


def test_rules_past_the_limits_are_one_error_line_in_both_forms(idle: Path, tmp_path: Path) -> None:
    deep_text = "not " * 160 + "did app_open"
    one_error_line(
        cli(idle, "segment", "count", "--rule", deep_text),
        "rule text, line 1, column 133: nested deeper than 32 levels",
        caret=True,
    )
    long_text = " or ".join(f'country = "X{i}"' for i in range(1_000))
    one_error_line(
        cli(idle, "segment", "sql", "--rule", long_text),
        "rule text, line 1, column 1: more than 500",
    )
    deep: dict[str, Any] = {"attr": "country", "op": "is_set"}
    for _ in range(40):
        deep = {"not": deep}
    (tmp_path / "deep.json").write_text(json.dumps(deep))
    one_error_line(
        cli(idle, "segment", "members", "--rule-file", str(tmp_path / "deep.json")),
        "rule" + ".not" * 33 + ": nested deeper than 32 levels",
    )
    for _ in range(120):
        deep = {"not": deep}
    (tmp_path / "deeper.json").write_text(json.dumps(deep))
    one_error_line(
        cli(idle, "segment", "members", "--rule-file", str(tmp_path / "deeper.json")),
        f"{tmp_path / 'deeper.json'}: nested deeper than 100 levels",
    )
    (tmp_path / "long.json").write_text(
        json.dumps({"and": [{"attr": "country", "op": "is_set"}] * 1_000})
    )
    one_error_line(
        cli(idle, "segment", "count", "--rule-file", str(tmp_path / "long.json")),
        "rule: more than 500 conditions",
    )


# --- 5. instants out of range ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["segment", "count", "us"],
        ["segment", "members", "us"],
        ["segment", "sql", "us"],
        ["segment", "show", "us"],
        ["segment", "list", "--sizes"],
        ["traits"],
        ["models"],
        ["templates", "--sizes"],
        ["customer", "show", "C1"],
        ["cluster"],
    ],
    ids=lambda args: " ".join(args),
)
def test_an_as_of_out_of_range_is_one_error_line(idle: Path, args: list[str]) -> None:
    for as_of in (OUT_OF_RANGE, "0001-01-01T00:00:00+01:00", "10000-01-01T00:00:00Z"):
        done = cli(idle, *args, "--as-of", as_of)
        if as_of.startswith("10000"):  # not a date Python can read: the format error
            one_error_line(done, "--as-of: expected an ISO 8601 date or instant with an offset")
        else:
            one_error_line(done, "--as-of: must be between 1900-01-01 and 9999-12-31 (UTC), got ")


def test_refresh_and_backfill_dates_out_of_range_are_one_error_line(idle: Path) -> None:
    one_error_line(cli(idle, "refresh", "--as-of", OUT_OF_RANGE), "--as-of: must be between 1900")
    one_error_line(
        cli(idle, "refresh", "--backfill", "--from", "0001-01-01", "--to", "2026-01-01"),
        "--from: must be between 1900-01-01 and 9999-12-31 (UTC), got '0001-01-01'",
    )
    one_error_line(
        cli(idle, "segment", "history", "us", "--since", "1899-12-31"), "--since: must be between"
    )
    assert refreshes(idle) == []


def test_the_ends_of_the_range_work(idle: Path) -> None:
    for as_of in ("1900-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        done = cli(
            idle, "segment", "count", "--rule", "did app_open in last 100000 days", "--as-of", as_of
        )
        assert done.exit_code == 0, done.output
    assert cli(idle, "traits", "--as-of", "9999-12-31T23:59:59Z").exit_code == 0


# --- 6. numeric and duration options -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["customer", "show", "C1", "--recent", "-1"], "--recent: must be between 0 and 10,000"),
        (["customer", "show", "C1", "--recent", "9" * 30], "--recent: must be between 0 and"),
        (["refresh", "--every", "99999999999999d"], "--every: must be at most 366d, got"),
        (["refresh", "--every", "9" * 5_000 + "s"], "--every: must be at most 366d, got '999"),
        (["refresh", "--every", "367d"], "--every: must be at most 366d, got '367d'"),
        (
            [
                "refresh",
                "--backfill",
                "--from",
                "1900-01-01",
                "--to",
                "9999-12-31",
                "--every",
                "1s",
            ],
            "--backfill: 255,",
        ),
        (
            [
                "refresh",
                "--backfill",
                "--from",
                "2000-01-01",
                "--to",
                "2026-01-01",
                "--every",
                "1h",
            ],
            "--backfill: 227,929 refreshes from --from to --to at --every 1h; at most 10,000",
        ),
        (["cluster", "--sample", "-5"], "--sample: must be between 2 and 100,000,000, got -5"),
        (["cluster", "--sample", "1"], "--sample: must be between 2 and"),
        (["cluster", "--k", "0"], "--k: must be between 2 and 50, got 0"),
        (["cluster", "--k", "51"], "--k: must be between 2 and 50, got 51"),
        (["cluster", "--k", "9" * 30], "--k: must be between 2 and 50"),
        (["cluster", "--k-range", "0-3"], "--k-range: must be between 2 and 50, got 0"),
        (["cluster", "--k-range", "3-" + "9" * 30], "--k-range: each k must be between 2 and 50"),
        (["cluster", "--seed", "-1"], "--seed: must be between 0 and 4,294,967,295, got -1"),
        (["cluster", "--seed", str(2**32)], "--seed: must be between 0 and 4,294,967,295"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_option_values_out_of_range_are_one_error_line(
    idle: Path, args: list[str], message: str
) -> None:
    started = time.perf_counter()
    one_error_line(cli(idle, *args), message)
    assert time.perf_counter() - started < 20
    assert refreshes(idle) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "-5"], "--customers must be at least 50"),
        (["--customers", "2000000"], "--customers: at most 1,000,000 in the demo"),
        (["--seed", "-1"], "--seed: must be between 0 and 4,294,967,295, got -1"),
    ],
)
def test_demo_options_out_of_range_leave_no_folder(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = CliRunner().invoke(app, ["demo", str(tmp_path / "d"), *args])
    one_error_line(done, message)
    assert not (tmp_path / "d").exists()


# --- 7. plots into missing folders ----------------------------------------------------------


def test_segment_show_plot_into_a_missing_folder_is_an_error_before_any_work(idle: Path) -> None:
    target = idle.parent / "missing" / "trend.png"
    one_error_line(
        cli(idle, "segment", "show", "us", "--plot", str(target)),
        f"--plot: the folder {target.parent} does not exist; create it first",
    )
    one_error_line(
        cli(idle, "segment", "show", "us", "--plot", str(idle)),
        f"--plot: {idle} is a folder; give a file name such as chart.png",
    )


def test_cluster_plot_dir_is_created_before_the_work(tmp_path: Path) -> None:
    segmint.init(tmp_path / "ws").close()  # no customers: clustering fails after the check
    folder = tmp_path / "plots" / "run1"
    done = cli(tmp_path / "ws", "cluster", "--plot-dir", str(folder))
    assert done.exit_code == 2 and "no customer has an order" in done.stderr
    assert folder.is_dir()
    (tmp_path / "file").write_text("x")
    one_error_line(
        cli(tmp_path / "ws", "cluster", "--plot-dir", str(tmp_path / "file")),
        f"--plot-dir: {tmp_path / 'file'} exists and is not a folder",
    )


# --- 8. a scheduled refresh meets a locked workspace ----------------------------------------------


def lines_of(stream: IO[str], into: queue.Queue[tuple[str, str]], name: str) -> None:
    for line in stream:
        into.put((name, line.rstrip("\n")))


def wait_for(lines: queue.Queue[tuple[str, str]], seen: list[tuple[str, str]], test: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            item = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(item)
        if test(*item):
            return
    raise AssertionError(f"not seen in time; output so far: {seen}")


# Another process with the workspace's DuckDB file open read-write until its stdin closes
# (it waits for a refresh that holds the file to let go first).
HOLD = """
import sys, time, duckdb
while True:
    try:
        con = duckdb.connect(sys.argv[1])
        break
    except duckdb.IOException:
        time.sleep(0.05)
print("held", flush=True)
sys.stdin.readline()
con.close()
"""


@pytest.fixture
def holders() -> Iterable[Any]:
    """Start holders of a workspace's database; all are stopped at the end."""
    started: list[subprocess.Popen[str]] = []

    def hold(root: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(root / "segmint.duckdb")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        return proc

    yield hold
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.wait(timeout=30) == 0


def test_a_scheduled_refresh_skips_a_tick_on_a_locked_workspace_and_goes_on(
    shop: Path, holders: Any
) -> None:
    first = holders(shop)
    once = subprocess.run(
        [sys.executable, "-m", "segmint", "-w", str(shop), "refresh"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert once.returncode == 2  # a one-off refresh stops: the user can run it again
    assert once.stderr.startswith("error: ") and f"in use by process {first.pid}" in once.stderr
    cmd = [sys.executable, "-m", "segmint", "-w", str(shop), "refresh", "--every", "1s"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )
    lines: queue.Queue[tuple[str, str]] = queue.Queue()
    readers = [
        threading.Thread(target=lines_of, args=(stream, lines, name), daemon=True)
        for stream, name in ((proc.stdout, "out"), (proc.stderr, "err"))
    ]
    for reader in readers:
        reader.start()
    seen: list[tuple[str, str]] = []

    def busy(holder: subprocess.Popen[str]) -> Any:
        return lambda name, line: line.startswith("workspace busy: ") and str(holder.pid) in line

    try:
        wait_for(lines, seen, busy(first))
        release(first)  # the other process finishes: the next tick refreshes
        wait_for(lines, seen, lambda name, line: line.startswith("refreshed 2 segments at "))
        # Busy again, so that the signal lands in the wait after a skipped tick rather than
        # inside a refresh.
        second = holders(shop)
        wait_for(lines, seen, busy(second))
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for reader in readers:
        reader.join(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        assert stream is not None
        stream.close()
    while not lines.empty():
        seen.append(lines.get())
    errors = [line for name, line in seen if name == "err"]
    assert not any("Traceback" in line for line in errors), "\n".join(errors)
    skipped = [line for line in errors if line.startswith("workspace busy: ")]
    assert skipped[0].startswith(
        f"workspace busy: {shop / 'segmint.duckdb'} is in use by process {first.pid}; "
        "skipping this refresh, next at 20"
    )
    assert skipped[0].endswith("Z")
    order = [line.split(" ")[0] for _, line in seen if line.startswith(("workspace", "refreshed"))]
    assert order.index("refreshed") > order.index("workspace")  # skipped, then refreshed
    # Stopped while waiting (0), or, rarely, inside the next tick (130).
    assert proc.returncode in (0, 130), errors
    assert errors[-1] in (
        "stopped between refreshes",
        "stopped the schedule",
    )
    release(second)
    recorded = refreshes(shop)
    assert recorded and all(n == 2 and failed == 0 for _, n, failed in recorded)
