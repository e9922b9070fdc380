"""How long Backchain takes to start: a cold `backchain ask` and the bot until it polls.

usage: python -m benchmarks.startup [--runs N] [--question TEXT] [--python PATH]

Prints medians over N runs (5 by default) of fresh processes, each from process start:
- `backchain ask QUESTION` and `backchain ask --json QUESTION`: wall time until the answer's first
  byte is printed, and until the process exits, and its CPU time (user + system);
- `backchain run` against the fake Bot API of the end-to-end tests on 127.0.0.1: wall time until
  the first getUpdates reaches the fake, and the CPU the bot had used by then (read from /proc).

Both use the disk build cache as a real start does: the first run of each kind warms it and is
not counted (the first `backchain run` also creates the database the others restart on).

Each line ends with the start-up target it has, if any: the bot polling within 1 s, and a plain
`backchain ask` that has printed its answer within 0.3 s.

Measure as an installed copy runs, with bytecode written: run `python -m compileall -q bot
storage src` once and leave PYTHONDONTWRITEBYTECODE unset (or empty).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKCHAIN = [sys.executable, "-m", "backchain"]
TICKS = os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_ask(arguments: list[str]) -> tuple[float, float, float]:
    """(answered, exited, CPU) seconds of one `backchain ask` process: from its start until the
    answer's first byte reaches standard output, until it exits, and its CPU time."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen([*BACKCHAIN, "ask", *arguments], stdout=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None
    process.stdout.read(1)
    answered = time.perf_counter() - started
    process.stdout.read()
    if process.wait() != 0:
        raise SystemExit(f"backchain ask {' '.join(arguments)} failed")
    return answered, time.perf_counter() - started, _children_cpu() - cpu_before


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def time_bot_start(workdir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds from `backchain run` starting until its first getUpdates arrives."""
    sys.path.insert(0, str(ROOT))
    from tests.e2e.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

    async with FakeBotApi() as server:
        env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
        env.update(TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN, NO_PROXY="127.0.0.1,localhost")
        argv = [*BACKCHAIN, "run", "--api-url", server.api_url, "--db", str(workdir / "b.db")]
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            await server.wait_for(
                lambda: any(call.method == "getUpdates" for call in server.calls), 30.0
            )
            wall = time.perf_counter() - started
            cpu = _process_cpu(process.pid)
        finally:
            process.terminate()
            process.wait(10)
    return wall, cpu


# Start-up targets, wall seconds.
TARGETS = {"backchain ask (answered)": 0.3, "backchain run (until polling)": 1.0}


def _report(name: str, runs: list[tuple[float, float]]) -> None:
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    figures = f"median wall {wall * 1000:6.0f} ms   CPU {cpu * 1000:6.0f} ms"
    target = TARGETS.get(name)
    verdict = "" if target is None else f"   target < {target * 1000:.0f} ms: "
    verdict += "" if target is None else "met" if wall < target else "NOT met"
    print(f"{name:30s} {figures}   ({len(runs)} runs){verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--question", default="why does my hip hurt")
    parser.add_argument(
        "--python",
        help="the interpreter of an installed Backchain (e.g. a virtual environment's "
        "bin/python with the wheel installed) instead of this one",
    )
    args = parser.parse_args()
    if args.python:
        BACKCHAIN[0] = args.python
    for name, arguments in (
        ("backchain ask", [args.question]),
        ("backchain ask --json", ["--json", args.question]),
    ):
        time_ask(arguments)  # warms the build cache
        timings = [time_ask(arguments) for _ in range(args.runs)]
        _report(f"{name} (answered)", [(answered, cpu) for answered, _, cpu in timings])
        _report(f"{name} (exited)", [(exited, cpu) for _, exited, cpu in timings])
    with tempfile.TemporaryDirectory() as folder:
        runs = []
        for run in range(args.runs + 1):
            result = asyncio.run(time_bot_start(Path(folder)))
            if run:  # the first start creates the database and warms the cache
                runs.append(result)
        _report("backchain run (until polling)", runs)


if __name__ == "__main__":
    main()
