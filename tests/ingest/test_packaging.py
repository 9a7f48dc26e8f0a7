"""A non-editable install (the built package, not this source tree) lists and uses every preset.

The package is built the way ``pip install .`` builds it (setuptools' build_py: the packages and
their package data, as pyproject.toml declares them), without a network to fetch build tools.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from kpi.cli import main
from tests.ingest.conftest import REAL

ROOT = Path(__file__).resolve().parents[2]


def test_an_installed_package_lists_and_uses_every_preset(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("kpi", "ui"):
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    env = tmp_path / "env"  # a fresh environment: the built package, the dependencies beside it
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = Path(sysconfig.get_paths(vars={"base": str(env), "platbase": str(env)})["purelib"])
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                    "build_py", "--build-lib", str(site)], cwd=source, check=True,
                   capture_output=True)
    shipped = sorted(p.name for p in (ROOT / "kpi" / "ingest" / "presets").glob("*.yaml"))
    assert sorted(p.name for p in (site / "kpi" / "ingest" / "presets").glob("*.yaml")) == shipped
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = env / "bin" / "python"
    where = subprocess.run([python, "-c", "import kpi; print(kpi.__file__)"], cwd=tmp_path,
                           check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(site)), where
    listed = subprocess.run([python, "-m", "kpi", "presets"], cwd=tmp_path, check=True,
                            capture_output=True, text=True).stdout
    for name in shipped:
        assert name.removesuffix(".yaml") in listed
    checked = subprocess.run([python, "-m", "kpi", "import", str(REAL / "salesforce_genai_demo"),
                              "--db", str(tmp_path / "x.duckdb"), "--preset", "salesforce",
                              "--check"], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "checked 152 rows: 0 problems" in checked.stdout


def readme_imports() -> list[list[str]]:
    """The `python -m kpi import ...` commands of the README (continuation lines joined)."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        if line.startswith(".venv/bin/python -m kpi import"):
            commands.append(shlex.split(line.split("#")[0])[3:])
    return commands


def test_the_readme_import_examples_run_on_a_clean_clone(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    commands = readme_imports()
    assert len(commands) >= 3
    monkeypatch.chdir(ROOT)  # the paths are relative to the repository, as a clone has them
    for args in commands:
        db = args.index("--db") + 1
        args[db] = str(tmp_path / Path(args[db]).name)
        assert main(args) == 0, capsys.readouterr().err
        assert not Path(args[args.index("import") + 1]).is_absolute()
