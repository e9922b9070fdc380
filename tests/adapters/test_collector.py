"""The collector is off while a command starts and as it was once the command returns."""

from __future__ import annotations

import gc

import pytest
from backchain.bot.adapters import collector
from backchain.bot.adapters.cli import main


def test_off_until_started_then_on_with_the_start_frozen_out_of_sight() -> None:
    assert gc.isenabled()
    with collector.off_until_started():
        assert not gc.isenabled()
        built = [[] for _ in range(1000)]
        collector.started()
        assert gc.isenabled() and gc.get_freeze_count() >= len(built)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_started_outside_a_command_changes_nothing() -> None:
    collector.started()  # a runner called directly, as tests do
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_command_run_in_process_leaves_the_collector_as_it_was(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["ask", "--json", "why does my hip hurt"]) == 0
    assert '"topic"' in capsys.readouterr().out
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        main(["ask", "--json", "hip"])
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
