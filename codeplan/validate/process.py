"""Running one check's command: the oracle's only subprocess I/O.

Output goes to a file rather than a pipe: a grandchild that outlives a killed command
would keep a pipe open and hang the reader.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codeplan.errors import ValidationError

# after the timeout, an interrupt lets pytest or Python print where the command was stuck
INTERRUPT_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class Completed:
    exit_code: int  # negative: killed by that signal
    output: str  # stdout and stderr interleaved
    seconds: float
    timed_out: bool


def run_command(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout_seconds: float,
    scratch: Path,
) -> Completed:
    """Run `argv` in `cwd` in its own process group; ValidationError if it cannot start."""
    executable = _executable(argv[0], cwd, env)
    log_fd, log_name = tempfile.mkstemp(prefix="output-", suffix=".txt", dir=scratch)
    started = time.monotonic()
    with os.fdopen(log_fd, "wb") as log:
        try:
            process = subprocess.Popen(
                [executable, *argv[1:]],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, to kill it whole
            )
        except OSError as error:
            raise ValidationError(f"cannot run {argv[0]!r}: {error.strerror or error}") from error
        timed_out = False
        try:
            exit_code = process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            exit_code = _stop(process)
        finally:
            if process.returncode is None:  # interrupted ourselves: leave nothing running
                _signal_group(process, signal.SIGKILL)
                process.wait()
    seconds = time.monotonic() - started
    output = Path(log_name).read_text(encoding="utf-8", errors="replace")
    Path(log_name).unlink(missing_ok=True)
    return Completed(exit_code, output, seconds, timed_out)


def _executable(name: str, cwd: Path, env: Mapping[str, str]) -> str:
    if os.path.dirname(name):
        return str(cwd / name)  # relative to the validated tree, like a shell there
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise ValidationError(f"cannot run {name!r}: not found on PATH")
    return found


def _stop(process: subprocess.Popen[bytes]) -> int:
    _signal_group(process, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=INTERRUPT_GRACE_SECONDS)
    # also whatever the command left behind in its group
    _signal_group(process, signal.SIGKILL)
    return process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, signum)
