"""The import contracts of pyproject.toml hold for the package as it installs.

import-linter reads real package folders, which an editable install of our mapped folders does
not have; so the package is laid out as the wheel installs it (package-dir, read from
pyproject.toml) in a temporary folder, and lint-imports runs over that copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = REPO / "pyproject.toml"

pytest.importorskip("importlinter")


def lay_out_installed_package(target: Path) -> None:
    """Copy each mapped folder to where the wheel puts it: backchain.bot -> backchain/bot."""
    mapping = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-dir"]
    for package, folder in sorted(mapping.items(), key=lambda item: item[0].count(".")):
        shutil.copytree(
            REPO / folder,
            target / package.replace(".", "/"),
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )


def test_every_import_contract_is_kept(tmp_path: Path) -> None:
    lay_out_installed_package(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    # -I would also drop PYTHONPATH; -P (3.11) keeps the checkout's folder off sys.path.
    done = subprocess.run(
        [
            sys.executable,
            "-P",
            "-c",
            "import sys; from importlinter.cli import lint_imports_command as c;"
            f" sys.argv = ['lint-imports', '--config', {str(PYPROJECT)!r}, '--no-cache']; c()",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = done.stdout + done.stderr
    assert "0 broken" in report, report
    assert done.returncode == 0, report
