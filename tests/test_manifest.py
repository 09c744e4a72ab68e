"""manifest.yml against Slack's own v1 manifest schema, and its per-deployment rendering."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from slackbot.ids import Subcommand
from slackbot.manifest import (
    EVENTS_PATH,
    MANIFEST_PATH,
    OAUTH_REDIRECT_PATH,
    PLACEHOLDER_URL,
    declared_bot_events,
    declared_bot_scopes,
    declared_slash_commands,
    load_manifest,
    manifest_urls,
    render_manifest,
)
from slackbot.words.commands import USAGE
from tests.twins.slack_contract import contracts_dir

PUBLIC_URL = "https://bot.example.org"
# The narrowest scopes for: /recall, DMs opened and posted by the bot, finding a DM the app posted but never heard
# back about (its DMs' history), a member's timezone and name.
ALLOWED_BOT_SCOPES = {"commands", "chat:write", "im:write", "im:history", "users:read"}
REQUIRED_EVENTS = {"app_home_opened", "app_uninstalled", "tokens_revoked"}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads((contracts_dir() / "slack" / "manifest.schema.1.0.0.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def errors(validator: jsonschema.Draft7Validator, manifest: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))
    ]


def fixture(name: str) -> dict[str, Any]:
    return json.loads((contracts_dir() / "slack" / f"manifest.v1.{name}.example.json").read_text())


def test_the_schema_accepts_its_valid_example_and_rejects_its_invalid_one(validator) -> None:
    assert errors(validator, fixture("valid")) == []
    problems = errors(validator, fixture("invalid"))
    assert problems and any("bad_param" in p for p in problems)


def test_manifest_yml_is_valid(validator) -> None:
    # Package data (every install can print it); the repository root's manifest.yml is the same file.
    root = Path(__file__).resolve().parents[1]
    assert MANIFEST_PATH.is_file() and MANIFEST_PATH.parent == root / "slackbot"
    assert (root / "manifest.yml").read_text() == MANIFEST_PATH.read_text()
    manifest = load_manifest()
    assert manifest["_metadata"]["major_version"] == 1
    assert errors(validator, manifest) == []


def test_rendered_manifest_is_valid(validator) -> None:
    assert errors(validator, yaml.safe_load(render_manifest(PUBLIC_URL))) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda m: m["features"]["slash_commands"][0].update(command="recall"),
        lambda m: m["settings"]["interactivity"].pop("is_enabled"),
        lambda m: m["settings"].update(socket_mode=False),
        lambda m: m["display_information"].update(name="x" * 36),
    ],
)
def test_the_schema_would_catch_typical_mistakes(validator, breakage) -> None:
    manifest = copy.deepcopy(load_manifest())
    breakage(manifest)
    assert errors(validator, manifest)


def test_manifest_yml_urls_use_the_placeholder_host() -> None:
    urls = manifest_urls(load_manifest())
    assert len(urls) == 4
    assert all(url.startswith(PLACEHOLDER_URL + "/") for url in urls)


def test_every_rendered_url_is_a_contract_route_under_the_public_url() -> None:
    rendered = yaml.safe_load(render_manifest(PUBLIC_URL))
    events = f"{PUBLIC_URL}{EVENTS_PATH}"
    assert EVENTS_PATH == "/slack/events" and OAUTH_REDIRECT_PATH == "/slack/oauth_redirect"
    assert [c["url"] for c in rendered["features"]["slash_commands"]] == [events]
    assert rendered["settings"]["event_subscriptions"]["request_url"] == events
    assert rendered["settings"]["interactivity"]["request_url"] == events
    assert rendered["oauth_config"]["redirect_urls"] == [f"{PUBLIC_URL}{OAUTH_REDIRECT_PATH}"]
    assert all(url in {events, f"{PUBLIC_URL}{OAUTH_REDIRECT_PATH}"} for url in manifest_urls(rendered))


@pytest.mark.parametrize(
    ("public_url", "events_url"),
    [
        ("https://bot.example.org/", "https://bot.example.org/slack/events"),
        ("https://acme.example.org/recall/", "https://acme.example.org/recall/slack/events"),
        ("http://localhost:3000", "http://localhost:3000/slack/events"),
    ],
)
def test_render_keeps_a_path_prefix_and_drops_a_trailing_slash(public_url: str, events_url: str) -> None:
    rendered = yaml.safe_load(render_manifest(public_url))
    assert rendered["settings"]["event_subscriptions"]["request_url"] == events_url


@pytest.mark.parametrize("public_url", ["bot.example.org", "ftp://bot.example.org", "https://x.org/?a=1", ""])
def test_render_rejects_a_malformed_public_url(public_url: str) -> None:
    with pytest.raises(ValueError, match="public URL"):
        render_manifest(public_url)


def blank_urls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: blank_urls(v) for k, v in node.items()}
    if isinstance(node, list):
        return [blank_urls(v) for v in node]
    return "URL" if isinstance(node, str) and node.startswith(("http://", "https://")) else node


def test_render_changes_only_urls() -> None:
    original = load_manifest()
    rendered = yaml.safe_load(render_manifest(PUBLIC_URL, original))
    assert original == load_manifest()  # not mutated
    assert blank_urls(rendered) == blank_urls(original)
    assert list(rendered) == list(original)  # key order kept


def test_scopes_are_narrow_and_match_what_the_install_flow_asks_for() -> None:
    from slackbot.bolt_app import BOT_SCOPES

    scopes = declared_bot_scopes()
    assert set(scopes) <= ALLOWED_BOT_SCOPES and len(scopes) == len(set(scopes))
    assert set(scopes) == set(BOT_SCOPES)
    assert "user" not in load_manifest()["oauth_config"]["scopes"]


def test_commands_and_events_match_the_id_module() -> None:
    from slackbot.ids import Command, Event

    assert set(declared_slash_commands()) == {c.value for c in Command} == {"/recall"}
    assert set(declared_bot_events()) == {e.value for e in Event}
    assert set(declared_bot_events()) >= REQUIRED_EVENTS


def test_app_surface_settings() -> None:
    manifest = load_manifest()
    assert manifest["display_information"]["name"] == "Recall for Slack"
    # The app speaks as itself, never as Recall: its messages come from "Recall for Slack".
    assert manifest["features"]["bot_user"]["display_name"] == manifest["display_information"]["name"]
    assert manifest["features"]["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    (command,) = manifest["features"]["slash_commands"]
    assert command["usage_hint"] == " | ".join(Subcommand) and command["should_escape"] is False
    for sub in Subcommand:
        assert f"`/recall {sub}" in USAGE, sub
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert (settings["org_deploy_enabled"], settings["socket_mode_enabled"], settings["token_rotation_enabled"]) == (
        False,
        False,
        False,
    )


def test_load_manifest_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="manifest not found"):
        load_manifest(tmp_path / "manifest.yml")


def test_manifest_module_does_not_import_bolt() -> None:
    code = "import sys, slackbot.manifest; print(sorted(m for m in sys.modules if m.startswith('slack_bolt')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_cli_prints_the_rendered_manifest(capsys) -> None:
    from slackbot.cli import main

    assert main(["manifest", "--public-url", PUBLIC_URL]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == yaml.safe_load(render_manifest(PUBLIC_URL))
