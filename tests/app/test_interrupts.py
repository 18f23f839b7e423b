"""SIGTERM and SIGHUP unwind like Ctrl-C (physics.app.signals): workers stop, no temporary file stays."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from core._atomic import is_temporary
from physics.app import signals

pytestmark = pytest.mark.skipif(not (os.name == "posix" and Path("/proc/self/stat").exists()),
                                reason="POSIX signals and /proc")
ROOT = Path(__file__).parents[2]


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def start_generation(cache: Path, n_jobs: int, handler: bool = True, L: int = 32) -> subprocess.Popen:
    temps = [float(t) for t in np.linspace(1.0, 3.5, 24)]
    script = textwrap.dedent(f"""
        import faulthandler, signal
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # the stacks, should it hang
        from physics.app.signals import handle_termination
        from physics.ising.dataset import generate_dataset
        if {handler!r}:
            assert handle_termination()
        generate_dataset({L}, {temps!r}, 400, seed=5, cache_dir={str(cache)!r}, n_jobs={n_jobs}, progress=False,
                         algorithm="metropolis", burn_in=200, thin=10)
    """)
    # a session of its own: its process group holds it and every worker it starts; stderr to a file, as a
    # pipe would stay open as long as any process of the group lives
    with open(cache / "stderr.txt", "w") as stderr:
        return subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True, stderr=stderr)


def describe_group(pgid: int) -> str:
    lines = []
    for pid in group_members(pgid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:200]
        except OSError:
            continue
        lines.append(f"{pid}: {command!r}")
    return "\n".join(lines)


def files(cache: Path):
    every = [p for p in cache.rglob("*") if p.is_file()]
    return [p for p in every if p.suffix == ".npz" and not is_temporary(p)], [p for p in every if is_temporary(p)]


@pytest.mark.parametrize("signum, to_group, returncode, message", [
    (signal.SIGTERM, False, 143, "SIGTERM received"),  # timeout, kill
    (signal.SIGTERM, True, 143, "SIGTERM received"),  # SLURM signals every process of the job
    (signal.SIGINT, False, -signal.SIGINT, "KeyboardInterrupt"),  # kill -INT (Ctrl-C reaches the group)
], ids=["SIGTERM to the parent", "SIGTERM to the group", "SIGINT to the parent"])
def test_termination_stops_the_workers_and_leaves_no_temporary_file(tmp_path, signum, to_group, returncode,
                                                                      message):
    proc = start_generation(tmp_path, n_jobs=2)
    try:
        assert wait_until(lambda: len(files(tmp_path)[0]) >= 1 or proc.poll() is not None, 120)
        assert proc.poll() is None, "the run must still be going when it is terminated"
        assert len(group_members(proc.pid)) >= 3, "the parent and its two workers"
        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            group = describe_group(proc.pid)
            os.kill(proc.pid, signal.SIGUSR1)  # faulthandler: the stacks of the parent's threads
            time.sleep(2)
            pytest.fail(f"the run did not stop; its group:\n{group}\n{(tmp_path / 'stderr.txt').read_text()}")
        survived = wait_until(lambda: not group_members(proc.pid), 10) or describe_group(proc.pid)
    finally:
        if group_members(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    stderr = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == returncode and message in stderr, stderr
    assert signum != signal.SIGTERM or "Traceback" not in stderr
    assert survived is True, f"processes survived their parent:\n{survived}"
    done, temporary = files(tmp_path)
    assert temporary == [] and 1 <= len(done) < 24


def test_without_the_handler_sigterm_orphans_the_workers(tmp_path):
    """What handle_termination fixes: by default the parent dies at once and its workers go on."""
    proc = start_generation(tmp_path, n_jobs=2, handler=False, L=64)  # ~1 s per temperature
    try:
        assert wait_until(lambda: len(files(tmp_path)[0]) >= 1 or proc.poll() is not None, 120)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGTERM
        assert group_members(proc.pid), "workers outlive the parent (and finish and write their temperature)"
    finally:
        if group_members(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)


def test_handler_raises_terminated_once_then_ignores_repeats(monkeypatch):
    monkeypatch.setattr(signals, "_first_signal_at", None)
    with pytest.raises(signals.Terminated) as raised:
        signals._handler(signal.SIGTERM, None)
    assert raised.value.code == 143 and str(raised.value) == "terminated by SIGTERM"
    assert isinstance(raised.value, SystemExit) and not isinstance(raised.value, (Exception, KeyboardInterrupt))
    assert signals._handler(signal.SIGTERM, None) is None  # within the grace period: ignored, cleanup goes on


def test_handle_termination_installs_only_over_default_dispositions():
    script = textwrap.dedent("""
        import signal, threading
        from physics.app.signals import handle_termination, _handler
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup does
        assert handle_termination() and handle_termination()  # twice: no change
        assert signal.getsignal(signal.SIGTERM) is _handler
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        result = []
        thread = threading.Thread(target=lambda: result.append(handle_termination()))
        thread.start(); thread.join()
        assert result == [False]
        try:
            with open(__import__("os").devnull, "w"):
                signal.raise_signal(signal.SIGTERM)
        except SystemExit as exit:
            assert exit.code == 143
        else:
            raise AssertionError("no exception")
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
