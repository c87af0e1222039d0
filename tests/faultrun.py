"""Run the toolkit's command lines many times without paying for ``import torch`` each time.

    with Runner() as r:
        got = r.run(["verify", "optimal_d", "--seeds", "0"], cwd=tmp, env={"X": "1"})
        got.rc, got.out, got.err, got.maxrss_bytes

:class:`Runner` starts one Python process (this module's ``serve``) that imports torch and every
command's module once, then forks a child per request. The child gets its own stdin (``/dev/null``),
stdout and stderr files (or a pipe whose reader is gone, for ``stdout="closed"``), environment,
working directory and resource limits, and then runs ``sys.exit(gantheory.cli.main(argv))`` and
exits as the interpreter would (:func:`_exit_as_python_would`): an uncaught exception prints its
traceback and exits 1, a failing final flush of stdout prints "Exception ignored" and exits 120. The parent
reports the child's exit status (``-N`` for signal N) and its peak resident memory from
``wait4``'s ``ru_maxrss``. That figure counts the pages the child shares with the server (torch's
libraries), so it is an upper bound of what the request itself took.

The server polls the child's resident memory and kills it past ``memory_limit`` (1 GiB), so a
request that would allocate gigabytes costs a moment, not the machine; ``Result.killed`` says so.
``pre`` is Python run in the child before the command: a test breaks the toolkit with it on
purpose, to show that the checks catch the breakage.
``sigint_after`` sends SIGINT to the child that many seconds after the fork (Ctrl-C in a terminal).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULES = ("gantheory.cli", "gantheory.verify", "gantheory.claims", "gantheory.mnist.cli",
           "gantheory.mnist.rundir", "gantheory.metrics.cli", "gantheory.metrics.parzen",
           "gantheory.metrics.mnist_metrics", "gantheory.sample", "gantheory.plotting")

#: A child whose resident memory passes this is killed (a refused request must stay below it).
MEMORY_LIMIT = 1 << 30
#: A child still running after this long is killed: a guard against a hang, not a timing check.
HANG_S = 600.0


@dataclass
class Result:
    rc: int
    out: str
    err: str
    maxrss_bytes: int
    killed: str | None = None  # "over_memory" or "hung" when the server killed the child

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


class Runner:
    """A fork server for command lines (see the module docstring)."""

    def __init__(self):
        env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.faultrun"], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self.proc.stdout.readline()
        if ready.strip() != "ready":
            raise RuntimeError(f"the fork server did not start: {ready!r}")

    def run(self, argv: list[str], *, cwd: str | Path, env: dict | None = None,
            unset: tuple[str, ...] = (), stdout: str = "file", fsize: int | None = None,
            sigint_after: float | None = None, memory_limit: int = MEMORY_LIMIT,
            hang_s: float = HANG_S, pre: str | None = None) -> Result:
        out, err = Path(cwd) / ".faultrun.out", Path(cwd) / ".faultrun.err"
        request = {"argv": [str(a) for a in argv], "cwd": str(cwd), "env": env or {},
                   "unset": list(unset), "stdout": stdout, "out": str(out), "err": str(err),
                   "fsize": fsize, "sigint_after": sigint_after,
                   "memory_limit": memory_limit, "hang_s": hang_s, "pre": pre}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        text = {p: (p.read_text(errors="replace") if p.exists() else "") for p in (out, err)}
        for p in (out, err):
            p.unlink(missing_ok=True)
        return Result(reply["rc"], text[out], text[err], reply["maxrss_kb"] * 1024,
                      reply["killed"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _child(req: dict) -> None:
    """In the forked child: set up the process as a fresh command line would have it."""
    os.chdir(req["cwd"])
    for name in req["unset"]:
        os.environ.pop(name, None)
    os.environ.update(req["env"])
    if req["fsize"] is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (req["fsize"], req["fsize"]))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    if req["stdout"] == "closed":  # a pipe whose reader has gone: `cmd | head` after head exits
        r, w = os.pipe()
        os.close(r)
        os.dup2(w, 1)
    else:
        os.dup2(os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
    os.dup2(os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    sys.argv = ["gantheory", *req["argv"]]
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _exit_as_python_would(main, argv: list[str]) -> None:
    """``sys.exit(main(argv))`` at the top level, then the interpreter's exit: a traceback for an
    uncaught exception (status 1), death by SIGINT for an uncaught KeyboardInterrupt, atexit
    handlers, and the final flush of stdout, whose failure CPython reports as "Exception
    ignored" with status 120. Only the teardown of every module (a second per child, for torch)
    is skipped, through ``os._exit``."""
    import atexit
    import traceback

    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        traceback.print_exc()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        raise
    except BaseException:
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except Exception as exc:  # noqa: BLE001 - what CPython prints for its own final flush
        print(f"Exception ignored in: {sys.stdout!r}\n{type(exc).__name__}: {exc}",
              file=sys.stderr)
        code = 120
    sys.stderr.flush()
    os._exit(code)


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _watch(pid: int, req: dict) -> dict:
    """Wait for the child, killing it once its resident memory passes ``memory_limit`` bytes
    (``"killed": "over_memory"``) or after ``hang_s`` seconds (``hung``)."""
    start, killed = time.monotonic(), None
    sigint_at = req["sigint_after"]
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return {"rc": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
                    "killed": killed}
        elapsed = time.monotonic() - start
        if sigint_at is not None and elapsed >= sigint_at:
            os.kill(pid, signal.SIGINT)
            sigint_at = None
        if killed is None and _rss_kb(pid) * 1024 > req["memory_limit"]:
            killed = "over_memory"
        elif killed is None and elapsed > req["hang_s"]:
            killed = "hung"
        if killed:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)


def serve() -> None:
    """Import once, then fork one child per request line on stdin (see the module docstring)."""
    import importlib

    import torch

    torch.set_num_threads(1)
    for name in MODULES:
        importlib.import_module(name)
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    print("ready", file=reply)
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            reply.close()
            try:
                _child(req)
            except BaseException as exc:  # the harness itself failed: say so and leave
                os.write(2, f"faultrun: {exc!r}\n".encode())
                os._exit(99)
            from gantheory.cli import main

            if req["pre"]:  # a test's deliberate breakage (the matrix's negative controls)
                exec(req["pre"], {})
            _exit_as_python_would(main, req["argv"])
        print(json.dumps(_watch(pid, req)), file=reply)


if __name__ == "__main__":
    serve()
