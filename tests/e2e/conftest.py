"""Fixtures for end-to-end tests: a fake Bot API per test and the real bot as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import pytest

from .fake_bot_api import DEFAULT_TOKEN, FakeBotApi
from .user import SimulatedUser

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_TOKEN = DEFAULT_TOKEN
BOT_COMMAND: tuple[str, ...] = (sys.executable, "-m", "backchain")
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
_EXIT_POLL_INTERVAL = 0.05
_E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is an e2e test, so `-m "not e2e"` skips the directory."""
    for item in items:
        if _E2E_DIR in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the bot's log to a failing test's report."""
    report = yield
    if report.failed:
        for process in getattr(item, "bot_processes", []):
            report.sections.append((f"bot log {process.log_path}", process.log_tail()))
    return report


def token_leaks(text: str, token: str) -> list[str]:
    """Lines of `text` that contain the token or its secret half."""
    secret = token.split(":", 1)[-1]
    return [line for line in text.splitlines() if token in line or secret in line]


class BotProcess:
    """The bot running as a child process against the fake server, logging to a file."""

    def __init__(
        self,
        server: FakeBotApi,
        argv: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        db_path: Path,
        token: str,
        *,
        traced: bool = False,
    ) -> None:
        self.server = server
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.db_path = db_path
        self.token = token
        # Run under a tracer (a command prefix such as strace): the bot is the tracer's child,
        # and both live in a process group of their own so nothing outlives the test.
        self.traced = traced
        self._bot_pids: list[int] = []
        self.starts = 0
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def bot_pid(self) -> int | None:
        """The bot's own process: the tracer's child when traced, else the process started."""
        if self._popen is None or not self.traced:
            return self.pid
        children = Path(f"/proc/{self._popen.pid}/task/{self._popen.pid}/children")
        try:
            pids = children.read_text().split()
        except OSError:
            return None
        return int(pids[0]) if pids else None

    @property
    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen else None

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    async def start(
        self, *, wait_ready: bool = True, ready_timeout: float = READY_TIMEOUT
    ) -> BotProcess:
        """Launch the process; unless told otherwise, return once it polls for updates."""
        if self.running:
            raise RuntimeError("the bot is already running")
        polls_before = self.server.get_updates_count
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}: {shlex.join(self.argv)}\n".encode())
            log.flush()
            self._popen = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=self.traced,
            )
        if wait_ready:
            await self._wait_until_polling(polls_before, ready_timeout)
        if self.traced and (pid := self.bot_pid) is not None:
            self._bot_pids.append(pid)
        return self

    async def _wait_until_polling(self, polls_before: int, timeout: float) -> None:
        try:
            await self.server.wait_for(
                lambda: self.server.get_updates_count > polls_before or not self.running,
                timeout,
                what="the bot polling getUpdates",
            )
        except TimeoutError:
            await self.kill()
            raise AssertionError(
                f"the bot did not poll within {timeout}s\n{self.log_tail()}"
            ) from None
        if not self.running:
            raise AssertionError(
                f"the bot exited with {self.returncode} before polling\n{self.log_tail()}"
            )

    async def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the process to end by itself; its exit code."""
        code = await self._exit_code_within(timeout)
        if code is None:
            raise AssertionError(f"the bot still runs after {timeout}s\n{self.log_tail()}")
        return code

    async def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait for a graceful exit; its exit code."""
        if not self.running:
            return self._require_popen().returncode
        self._signal_bot(signal.SIGTERM)
        code = await self._exit_code_within(timeout)
        if code is None:
            await self.kill()
            raise AssertionError(f"the bot ignored SIGTERM for {timeout}s\n{self.log_tail()}")
        return code

    async def kill(self) -> int:
        """SIGKILL, as a crash or an out-of-memory kill would; its exit code."""
        self._require_popen()
        if self.running:
            self._signal_bot(signal.SIGKILL)
        code = await self._exit_code_within(STOP_TIMEOUT)
        if code is None and self.traced:
            self.kill_group()
            code = await self._exit_code_within(STOP_TIMEOUT)
        assert code is not None, "a SIGKILLed process did not exit"
        return code

    def _signal_bot(self, signum: int) -> None:
        """Signal the bot itself; a tracer then exits as its child did."""
        popen = self._require_popen()
        pid = self.bot_pid
        if pid is None or pid == popen.pid:
            popen.send_signal(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    def kill_group(self) -> None:
        """SIGKILL what is left of a traced bot: the tracer's process group while the tracer
        runs, else a bot it left behind (a tracer killed first detaches its child)."""
        if self._popen is None or not self.traced:
            return
        group = self._popen.pid
        if self._popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            return
        for pid in self._bot_pids:
            with contextlib.suppress(ProcessLookupError):
                if os.getpgid(pid) == group:
                    os.kill(pid, signal.SIGKILL)

    async def restart(self, *, graceful: bool = True) -> BotProcess:
        """Stop (SIGTERM, or SIGKILL when not graceful) and start again on the same database."""
        if graceful:
            await self.terminate()
        else:
            await self.kill()
        return await self.start()

    async def _exit_code_within(self, timeout: float) -> int | None:
        # Poll instead of blocking: the bot's shutdown calls the fake server on this loop.
        popen = self._require_popen()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while popen.poll() is None and loop.time() < deadline:
            await asyncio.sleep(_EXIT_POLL_INTERVAL)
        return popen.poll()

    def _require_popen(self) -> subprocess.Popen[bytes]:
        if self._popen is None:
            raise RuntimeError("the bot was never started")
        return self._popen

    def logs(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    def assert_token_not_logged(self) -> None:
        leaks = token_leaks(self.logs(), self.token)
        assert not leaks, f"the bot token appears in {self.log_path}:\n" + "\n".join(leaks)


class BotLauncher:
    """Starts bot processes for one test and kills any left running at teardown."""

    def __init__(self, server: FakeBotApi, workdir: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.processes: list[BotProcess] = []

    async def __call__(
        self,
        *extra_args: str,
        command: Sequence[str] = BOT_COMMAND,
        db_path: Path | None = None,
        token: str = TEST_TOKEN,
        token_source: Literal["env", "file"] = "env",
        env: Mapping[str, str] | None = None,
        wait_ready: bool = True,
        ready_timeout: float = READY_TIMEOUT,
        prefix: Sequence[str] = (),
    ) -> BotProcess:
        """Start `command run --api-url ... --db ...` and, by default, wait until it polls.

        `prefix` runs the bot under another program (a tracer such as strace), which must run
        the rest of the line as its child; signals then go to that child."""
        number = len(self.processes) + 1
        db_path = db_path or self.workdir / "backchain.db"
        argv = [*prefix, *command, "run", "--api-url", self.server.api_url, "--db", str(db_path)]
        process_env = _child_environment(env)
        if token_source == "file":
            token_file = self.workdir / f"token-{number}"
            token_file.write_text(token + "\n", encoding="utf-8")
            argv += ["--token-file", str(token_file)]
        else:
            process_env["TELEGRAM_BOT_TOKEN"] = token
        argv += extra_args
        log_path = self.workdir / f"bot-{number}.log"
        process = BotProcess(
            self.server, argv, process_env, log_path, db_path, token, traced=bool(prefix)
        )
        self.processes.append(process)
        return await process.start(wait_ready=wait_ready, ready_timeout=ready_timeout)

    async def kill_all(self) -> None:
        for process in self.processes:
            if process.running:
                await process.kill()
            process.kill_group()


def _child_environment(overrides: Mapping[str, str] | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "TELEGRAM_BOT_TOKEN"}
    python_path = [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(python_path),
            "PYTHONUNBUFFERED": "1",
            "MPLBACKEND": "Agg",
            # The fake server is local; a configured proxy must not intercept it.
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    env.update(overrides or {})
    return env


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    """A running fake Bot API for the test's bot token."""
    async with FakeBotApi(TEST_TOKEN) as server:
        yield server


@pytest.fixture
async def bot_process(
    fake_api: FakeBotApi, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[BotLauncher]:
    """Call it to start the bot: `bot = await bot_process()`; extra CLI arguments allowed."""
    launcher = BotLauncher(fake_api, tmp_path)
    request.node.bot_processes = launcher.processes
    yield launcher
    await launcher.kill_all()


@pytest.fixture
def user(fake_api: FakeBotApi) -> SimulatedUser:
    return SimulatedUser(fake_api, 1001, "Alex")


@pytest.fixture
def make_user(fake_api: FakeBotApi) -> Callable[..., SimulatedUser]:
    """Another user in the same test: `make_user(1002, "Sam")`."""

    def make(user_id: int, first_name: str = "Sam") -> SimulatedUser:
        return SimulatedUser(fake_api, user_id, first_name)

    return make
