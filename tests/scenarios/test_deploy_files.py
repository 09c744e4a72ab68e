"""The files an operator deploys with: the Dockerfile, compose.yaml and the systemd units.

There is no Docker daemon here (nor in CI), so the image is not built. What can be checked without one is: the
Dockerfile's promises read from the file itself (non-root, a HEALTHCHECK on /healthz, the CLI as entry point, every
copied path present and not ignored), its HEALTHCHECK command run for real against the app's /healthz, the
compose file validated and interpolated by `docker-compose config` (Debian's docker-compose, installed by CI), and
the systemd units by `systemd-analyze verify`.
"""

from __future__ import annotations

import fnmatch
import http.server
import os
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.scenarios.harness import LiveServer, bound_socket

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        package = "docker-compose" if name == "docker-compose" else "systemd"
        reason = f"{name} is not installed (apt-get install -y {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must check the deployment files", pytrace=False)
        pytest.skip(reason)
    return path


# ---- Dockerfile -------------------------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def dockerignored(path: str) -> bool:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        for pattern in patterns
        for prefix in prefixes
    )


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return dockerfile_instructions((ROOT / "Dockerfile").read_text())


def healthcheck_argv(instructions: list[tuple[str, str]]) -> list[str]:
    (args,) = [args for keyword, args in final_stage(instructions) if keyword == "HEALTHCHECK"]
    _, _, command = args.partition("CMD ")
    argv = yaml.safe_load(command)  # the exec form is a JSON array
    assert isinstance(argv, list)
    return [str(part) for part in argv]


def test_the_image_runs_as_a_non_root_user_with_the_cli_as_entry_point(dockerfile: list[tuple[str, str]]) -> None:
    final = final_stage(dockerfile)
    keywords = [keyword for keyword, _ in final]
    (user,) = [args for keyword, args in final if keyword == "USER"]
    assert user.split(":")[0] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    (entrypoint,) = [yaml.safe_load(args) for keyword, args in final if keyword == "ENTRYPOINT"]
    assert entrypoint == ["recall-slackbot"] and "recall-slackbot" in scripts
    (cmd,) = [yaml.safe_load(args) for keyword, args in final if keyword == "CMD"]
    assert cmd == ["serve"]
    assert ("EXPOSE", "3000") in final
    # The runtime stage starts from the build stage's wheels, not from the sources.
    assert not any(keyword == "COPY" and "--from" not in args for keyword, args in final)


def test_every_path_the_build_copies_exists_and_is_not_ignored(dockerfile: list[tuple[str, str]]) -> None:
    copies = [args.split() for keyword, args in dockerfile if keyword == "COPY" and "--from" not in args]
    sources = [source for parts in copies for source in parts[:-1]]
    assert {"pyproject.toml", "README.md", "slackbot", "storage", "recall"} <= set(sources)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert {pattern.rstrip("*") for pattern in packages["include"]} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source), f"{source} is copied but .dockerignore drops it"
    # Local state and secrets never reach the build context.
    for private in (".env", ".venv", "recall-slackbot.db", "slackbot/__pycache__/x.pyc", ".git"):
        assert dockerignored(private), private


class _Answer503(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b'{"status": "error", "database": "schema_behind"}')

    def log_message(self, *args: object) -> None:
        pass


def _run_healthcheck(argv: list[str], port: int) -> subprocess.CompletedProcess[str]:
    # The image has its own python; here the test's python plays it.
    assert argv[0] == "python"
    return subprocess.run(
        [sys.executable, *argv[1:]],
        env={"PORT": str(port), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_healthcheck_passes_on_a_healthy_app(dockerfile: list[tuple[str, str]], live: LiveServer) -> None:
    result = _run_healthcheck(healthcheck_argv(dockerfile), live.sock.getsockname()[1])
    assert result.returncode == 0, result.stderr


def test_the_healthcheck_fails_when_healthz_says_503_or_nothing_listens(dockerfile: list[tuple[str, str]]) -> None:
    argv = healthcheck_argv(dockerfile)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Answer503)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert _run_healthcheck(argv, server.server_address[1]).returncode != 0
    finally:
        server.shutdown()
        server.server_close()
    closed = bound_socket()
    port = closed.getsockname()[1]
    closed.close()  # bound, never listened: nothing answers there
    assert _run_healthcheck(argv, port).returncode != 0


# ---- compose.yaml -----------------------------------------------------------------------------------------------


def _compose_config(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    compose = _tool("docker-compose")
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")  # the README's set-up: cp .env.example .env
    return subprocess.run(
        [compose, "--project-directory", str(tmp_path), "-f", str(tmp_path / "compose.yaml"), "config"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_runs_web_worker_and_postgresql_from_one_image(tmp_path: Path) -> None:
    result = _compose_config(tmp_path, {"POSTGRES_PASSWORD": "s3cret"})
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"web", "worker", "db"}
    web, worker, db = services["web"], services["worker"], services["db"]
    assert web["image"] == worker["image"] and web["build"]["context"] == worker["build"]["context"] == str(tmp_path)
    assert web["command"] == ["serve"] and worker["command"] == ["worker"]
    # The jobs run once, in the worker; both reach PostgreSQL by its service name, never the .env's SQLite.
    assert web["environment"]["RUN_JOBS"] == "false" and worker["environment"]["RUN_JOBS"] == "true"
    for app in (web, worker):
        assert app["environment"]["DATABASE_URL"] == "postgresql://recall:s3cret@db:5432/recall"
        assert app["depends_on"]["db"]["condition"] == "service_healthy"
        assert app["restart"] == "unless-stopped"
        assert app["environment"]["SLACK_SIGNING_SECRET"]  # the rest comes from .env
    assert worker["healthcheck"]["test"] == ["NONE"]  # the worker serves no /healthz
    assert [port["target"] for port in web["ports"]] == [3000]
    assert "ports" not in db and "ports" not in worker  # only the web service is published
    assert db["environment"]["POSTGRES_PASSWORD"] == "s3cret"
    assert db["healthcheck"]["test"][0] == "CMD-SHELL" and "pg_isready" in db["healthcheck"]["test"][1]
    assert any(volume.startswith("pgdata:/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pgdata" in config["volumes"]


def test_compose_without_a_database_password_stops_with_one_clear_line(tmp_path: Path) -> None:
    result = _compose_config(tmp_path, {})
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


# ---- systemd units ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "command"), [("recall-slackbot", "serve"), ("recall-slackbot-worker", "worker")])
def test_the_systemd_units_verify_and_run_the_right_command(tmp_path: Path, unit: str, command: str) -> None:
    analyze = _tool("systemd-analyze")
    text = (ROOT / "deploy" / "systemd" / f"{unit}.service").read_text()
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    binary, *args = shlex.split(exec_start.removeprefix("ExecStart="))
    assert args == [command]
    assert "\nUser=recall\n" in text and "\nEnvironmentFile=/etc/recall-slackbot/env\n" in text
    assert "\nRestart=on-failure\n" in text
    assert ("RUN_JOBS=false" in text) == (command == "serve") and ("RUN_JOBS=true" in text) == (command == "worker")
    # systemd-analyze checks that the binary exists: point it at this environment's installed CLI.
    installed = Path(sys.executable).with_name("recall-slackbot")
    assert installed.exists()
    local = tmp_path / f"{unit}.service"
    local.write_text(text.replace(binary, str(installed)))
    result = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
