"""What a plain install holds: the wheel carries the manifest and the migrations, and the CLI works from it
with no repository beside it (`recall-slackbot manifest` used to read the repository root)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRINT_MANIFEST = (
    "import sys, slackbot.cli, slackbot.manifest as m; print('read from', m.MANIFEST_PATH, file=sys.stderr); "
    "raise SystemExit(slackbot.cli.main())"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy, so the build leaves nothing behind in the checkout.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("slackbot", "storage", "recall"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("recall_slackbot-*.whl")
    return built


def test_wheel_carries_the_manifest_and_the_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "slackbot/manifest.yml" in names
    assert "storage/migrations/env.py" in names
    assert any(name.startswith("storage/migrations/versions/0003_") for name in names)
    assert not any(name.startswith("tests/") for name in names)
    # The demo runs from any install: its page's files and the stand-ins are in the wheel.
    for static in ("demo.css", "demo.js", "slack.js"):
        assert f"slackbot/demo/static/{static}" in names
    assert {"slackbot/demo/twins/slack.py", "slackbot/demo/twins/recall.py", "slackbot/demo/twins/google.py"} <= names


def test_manifest_command_works_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # Run from an empty folder with only the unpacked wheel first on the path: no repository to fall back on.
    result = subprocess.run(
        [sys.executable, "-c", PRINT_MANIFEST, "manifest", "--public-url", "https://bot.example.com"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "https://bot.example.com/slack/events" in result.stdout
    assert f"read from {site}" in result.stderr  # the unpacked wheel's copy, not the repository's
