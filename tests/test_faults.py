"""Faults that are not the user's: a full disk, a read-only install, damaged saved results,
kills at random moments, two processes on one folder, interruptions, a port that is no
Dask scheduler.  Each ends in one line and a state the same command resumes from."""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

from sim import run_experiment
from sim.config import parse_config

ROOT = Path(__file__).resolve().parents[1]
CI = os.environ.get("CI") == "true"
TNLAB = [sys.executable, "-m", "sim.cli"]

SMALL = {
    "name": "faults",
    "seed": 11,
    "replications": 2,
    "scenario": {"days": 1},
    "inventory": {"area_codes": [212], "blocks_per_area_code": 3},
    "subscribers": {
        "residential": {"initial": 1200},
        "business": {"initial": 200},
        "call_centre": {"initial": 5, "contacts_mean": 100},
        "notifier": {"initial": 5},
    },
    "sweep": {"subscribers.residential.calls_per_day": [2.0, 4.0]},
}
RUNS = 4


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted experiment every faulty one must end up equal to."""
    out = tmp_path_factory.mktemp("reference")
    run_experiment(parse_config(SMALL), out, progress=False)
    return out


@pytest.fixture
def config_file(tmp_path) -> Path:
    path = tmp_path / "faults.toml"
    path.write_text(tomli_w.dumps(SMALL))
    return path


def _digests(out: Path) -> dict[str, str]:
    """Every run's tables and the experiment's metrics, by content."""
    found = {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.glob("runs/*/*.parquet"))
        if p.name != "metrics.parquet"
    }
    metrics = pd.read_parquet(out / "metrics.parquet")
    found["metrics"] = hashlib.sha256(
        metrics.sort_values(["point", "replication", "metric"]).to_csv().encode()
    ).hexdigest()
    return found


RUN_LINE = re.compile(r"^tnlab: run p\d{3}-r\d{3} done \(\d+/\d+, \d+ s\)$")
"""What a run in a log prints as each run finishes."""


def _leftovers(out: Path) -> list[str]:
    return [str(p) for p in out.rglob("*") if p.name.endswith(".part") or ".tmp" in p.name]


def _one_line(stderr: str) -> str:
    """The one line that says what went wrong (besides the log's line per finished run)."""
    lines = [ln for ln in stderr.strip().splitlines() if not RUN_LINE.match(ln)]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_a_full_disk_stops_with_one_line_and_the_same_command_resumes(
    reference, config_file, tmp_path
):
    """With a file-size limit below one table's size the run stops: one line naming the
    file, status 1, no table truncated under its final name; without the limit the same
    command finishes to the uninterrupted tables."""
    out = tmp_path / "out"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    cmd = [*TNLAB, "run", str(config_file), "--out", str(out), "--workers", "1"]
    res = subprocess.run(cmd, preexec_fn=limit, capture_output=True, text=True)
    line = _one_line(res.stderr)
    assert res.returncode == 1 and line.startswith("tnlab: error: cannot write "), line
    assert "File too large" in line and "run the same command" in line
    for table in out.rglob("*.parquet"):
        pd.read_parquet(table)  # whatever is under a final name is whole
    assert not _leftovers(out)
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert _digests(out) == _digests(reference)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_random_moments_then_resume_to_the_same_tables(
    reference, config_file, tmp_path, seed
):
    """Killed (-9) at random moments, repeatedly, the experiment resumes each time and ends
    equal to the uninterrupted one; no partial file is left under a final name."""
    out = tmp_path / "out"
    cmd = [*TNLAB, "run", str(config_file), "--out", str(out), "--workers", "1"]
    rng = np.random.default_rng(seed)
    for _ in range(3):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(1.0, 8.0)))
        proc.kill()
        proc.wait()
        for table in out.rglob("*.parquet"):
            pd.read_parquet(table)
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert _digests(out) == _digests(reference)
    assert not _leftovers(out)


@pytest.mark.parametrize(
    "sig, status, workers, group",
    [
        (signal.SIGINT, 130, 1, False),
        (signal.SIGTERM, 143, 1, False),
        (signal.SIGINT, 130, 2, True),  # Ctrl-C in a terminal: every process of the group
    ],
    ids=["sigint", "sigterm", "ctrl-c-2-workers"],
)
def test_an_interruption_is_one_line_and_resumes(
    reference, config_file, tmp_path, sig, status, workers, group
):
    out = tmp_path / "out"
    cmd = [*TNLAB, "run", str(config_file), "--out", str(out), "--workers", str(workers)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=group,
    )
    deadline = time.time() + 120
    while not any(out.glob("runs/*/metrics.parquet")) and time.time() < deadline:
        time.sleep(0.05)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    # the status first: a process killed outright (by a signal it did not catch, or a crash)
    # says so here, where the line below would only show what it printed before
    assert proc.returncode == status, (proc.returncode, err)
    line = _one_line(err)
    assert line.startswith("tnlab: interrupted;") and f"of {RUNS} runs kept" in line
    assert "run the same command to resume" in line
    assert not _leftovers(out)
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    assert _digests(out) == _digests(reference)


def test_two_processes_on_one_folder_one_refuses_nothing_corrupts(reference, config_file, tmp_path):
    """While another process holds the folder a run refuses in one line and touches
    nothing; with --wait it waits its turn and then finishes to the uninterrupted tables."""
    from sim.runs.outputs import claim

    out = tmp_path / "out"
    cmd = [*TNLAB, "run", str(config_file), "--out", str(out), "--workers", "1"]
    with claim(out):  # this test process is the other writer
        refused = subprocess.run(cmd, capture_output=True, text=True)
        line = _one_line(refused.stderr)
        assert refused.returncode == 2 and f"(pid {os.getpid()})" in line, line
        assert not out.exists()
        waiting = subprocess.Popen(
            [*cmd, "--wait"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        time.sleep(3.0)
        assert waiting.poll() is None  # still waiting for us
        assert not out.exists()
    _, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert _digests(out) == _digests(reference)


def test_damaged_results_are_named_and_redone(reference, config_file, tmp_path):
    """A truncated metrics file, a corrupt run table, a missing manifest: `tnlab report`
    names the file in one line (status 2); `tnlab run` redoes the damaged runs."""
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    cmd = [*TNLAB, "run", str(config_file), "--out", str(out), "--workers", "1"]
    metrics = out / "metrics.parquet"
    metrics.write_bytes(metrics.read_bytes()[:100])
    res = subprocess.run([*TNLAB, "report", str(out)], capture_output=True, text=True)
    line = _one_line(res.stderr)
    assert res.returncode == 2 and str(metrics) in line and "run the same" in line
    table = out / "runs" / "p001-r000" / "ledger.parquet"
    table.write_bytes(b"not parquet")
    (out / "runs" / "p000-r001" / "manifest.json").unlink()
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    assert _digests(out) == _digests(reference)
    table.write_bytes(b"not parquet")
    res = subprocess.run([*TNLAB, "report", str(out)], capture_output=True, text=True)
    line = _one_line(res.stderr)
    assert res.returncode == 2 and str(table) in line


def test_a_port_that_is_no_dask_scheduler_fails_within_the_timeout(config_file, tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start = time.time()
        res = subprocess.run(
            [
                *TNLAB,
                "run",
                str(config_file),
                "--out",
                str(tmp_path / "out"),
                "--scheduler",
                f"tcp://127.0.0.1:{server.server_port}",
                "--scheduler-timeout",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.shutdown()
    line = _one_line(res.stderr)
    assert res.returncode == 2 and "cannot reach a Dask scheduler" in line, line
    assert time.time() - start < 30
    assert not (tmp_path / "out").exists()


def test_local_workers_open_no_fixed_port(config_file, tmp_path):
    """The local cluster's scheduler listens on loopback ports it picks, never the dashboard's
    8787: with 8787 held by someone else the run is unaffected and says nothing."""
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", 8787))
    except OSError:
        pytest.skip("port 8787 is in use on this machine")
    blocker.listen()
    try:
        res = subprocess.run(
            [*TNLAB, "run", str(config_file), "--out", str(tmp_path / "out"), "--workers", "2"],
            capture_output=True,
            text=True,
        )
    finally:
        blocker.close()
    assert res.returncode == 0, res.stderr
    assert "8787" not in res.stderr and "Port" not in res.stderr


def _setpriv() -> list[str] | None:
    """How to run a command without root's power over file permissions."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv"):
        return ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]
    return None


def test_a_read_only_install_runs_for_a_user_without_a_writable_home(tmp_path):
    """The wheel installed in a fresh virtual environment made read-only, run by a user who
    cannot write there nor in their home: Numba and Matplotlib cache in folders of the
    user's own, and simulate writes its tables."""
    drop = _setpriv()
    if drop is None:
        if CI:
            pytest.fail("setpriv (util-linux) is needed to run as a user without privileges")
        pytest.skip("setpriv is not installed: apt-get install util-linux")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    deps = next(Path(sys.prefix).glob("lib/python*/site-packages"))
    (site / "deps.pth").write_text(f"{deps}\n")  # the dependencies of this environment
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--no-deps",
            "--force-reinstall",  # the dependencies' folder holds a tnlab of its own
            str(next(wheels.glob("*.whl"))),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["chmod", "-R", "a-w", str(venv)], check=True)
    work = tmp_path / "work"
    work.mkdir()
    config = work / "q.toml"
    config.write_text(tomli_w.dumps({**SMALL, "sweep": {}}))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA", "MPL"))}
        env.update(HOME=str(venv), TMPDIR=str(work), PYTHONPATH="")
        res = subprocess.run(
            [
                *drop,
                str(venv / "bin" / "tnlab"),
                "simulate",
                str(config),
                "--out",
                str(work / "out"),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
        )
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(venv)], check=True)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert (work / "out" / "ledger.parquet").exists()
