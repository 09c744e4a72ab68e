"""The Slack twin, held to Slack's Web API spec and driven by slack_sdk's and Bolt's real clients."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, parse_qsl, urlsplit

import aiohttp
import httpx
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.twins.fake_slack import (
    DEFAULT_APP_ID,
    NON_MARKETPLACE_HISTORY,
    FakeSlack,
    Workspace,
    app_home_opened_event,
    app_uninstalled_event,
    block_actions_body,
    dm_channel_id,
    event_body,
    sign_slack_request,
    slash_command_body,
    tokens_revoked_event,
    validate_blocks,
)
from tests.twins.slack_contract import (
    SPEC_RELATIVE_PATH,
    SlackWebApiContract,
    contracts_dir,
    load_web_api_spec,
    web_api_contract,
)

TEAM = "T0ACME0001"
MEMBER = "U0MEMBER01"
OTHER = "U0MEMBER02"
TS_PATTERN = r"^\d{10}\.\d{6}$"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "Weekly sync at 10:00"}}
METHODS = [
    "auth.test",
    "oauth.v2.access",
    "conversations.open",
    "chat.postMessage",
    "chat.update",
    "conversations.history",
    "chat.postEphemeral",
    "views.publish",
    "users.info",
]


def button(text: str, action_id: str = "schedule_bot") -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": "1"}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as twin:
        yield twin


@pytest.fixture
def ws(fake: FakeSlack) -> Workspace:
    workspace = fake.add_workspace(TEAM, "Acme Corp", bot_token="xoxb-1-acme-bot-token")
    fake.add_user(TEAM, MEMBER, name="ada", real_name="Ada Lovelace", tz="Europe/London")
    fake.add_user(TEAM, OTHER, name="grace", display_name="Grace H")
    return workspace


@pytest.fixture
async def client(fake: FakeSlack, ws: Workspace) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(base_url=fake.base_url, token=ws.bot_token)


async def slack_error(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value.response.data


# ----------------------------------------------------------------------------- the contract itself


def test_contracts_dir_is_the_shared_folder_beside_the_repo() -> None:
    path = contracts_dir()
    assert path.name == "contracts" and path.parent.name == "shared"
    assert (path / SPEC_RELATIVE_PATH).is_file()


def test_lenient_spec_drops_closed_objects_and_error_enums() -> None:
    text = json.dumps(load_web_api_spec())
    assert '"additionalProperties": false' not in text
    op = web_api_contract().operation("chat.postMessage")
    assert op is not None and "enum" not in op.error_schema["properties"]["error"]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_the_twin_serves_is_in_the_spec_and_its_own_examples_validate(method: str) -> None:
    raw = json.loads((contracts_dir() / SPEC_RELATIVE_PATH).read_text())
    contract = web_api_contract()
    assert contract.operation(method) is not None
    (op,) = raw["paths"][f"/{method}"].values()
    for response in op["responses"].values():
        example = response.get("examples", {}).get("application/json")
        if example is not None:
            assert contract.validate_response(method, example) == []


def test_required_parameters_come_from_the_spec() -> None:
    contract = web_api_contract()
    assert contract.operation("chat.postMessage").required_params == ["channel"]
    assert sorted(contract.operation("chat.update").required_params) == ["channel", "ts"]
    assert contract.validate_request("chat.update", {"channel": "D0123456789"}) == [
        "chat.update: missing required parameter `ts`"
    ]
    assert contract.validate_request("chat.postMessage", {"channel": "D0123456789", "text": "x"}) == []
    assert contract.validate_request("chat.postMessage", {"channel": "D1", "unfurl_links": "maybe"})


@pytest.mark.parametrize("missing", ["ts", "channel", "message"])
def test_reply_validator_rejects_a_post_message_reply_missing_a_field(missing: str) -> None:
    reply = {
        "ok": True,
        "channel": "D0123456789",
        "ts": "1700000000.000100",
        "message": {"type": "message", "text": "hi", "ts": "1700000000.000100"},
    }
    assert web_api_contract().validate_response("chat.postMessage", reply) == []
    del reply[missing]
    problems = web_api_contract().validate_response("chat.postMessage", reply)
    assert any(f"'{missing}' is a required property" in p for p in problems)


def test_reply_validator_rejects_malformed_ids_and_a_users_info_user_without_id() -> None:
    contract = web_api_contract()
    bad_channel = {
        "ok": True,
        "channel": "general",
        "ts": "1700000000.000100",
        "message": {"type": "message", "text": "hi", "ts": "1700000000.000100"},
    }
    assert contract.validate_response("chat.postMessage", bad_channel)
    bad_ts = {"ok": True, "message_ts": "17.1"}
    assert contract.validate_response("chat.postEphemeral", bad_ts)
    # `user` is written as a pseudo-oneOf ("items": [...]) in the spec; the loader makes it count.
    assert contract.validate_response("users.info", {"ok": True, "user": {"name": "ada"}})
    # Error replies need ok: false plus an error string; unknown error codes are fine (lenient).
    assert contract.validate_response("chat.update", {"ok": False, "error": "brand_new_error"}) == []
    assert contract.validate_response("chat.update", {"ok": False})


def test_chat_update_reply_blocks_are_an_array_after_the_repair() -> None:
    reply = {
        "ok": True,
        "channel": "D0123456789",
        "ts": "1700000000.000100",
        "text": "x",
        "message": {"text": "x", "blocks": [SECTION]},
    }
    assert web_api_contract().validate_response("chat.update", reply) == []


def test_a_twin_reply_that_breaks_the_spec_is_recorded() -> None:
    class Broken(FakeSlack):
        def _chat_post_message(self, ws, params, headers):
            body = super()._chat_post_message(ws, params, headers)
            del body["ts"]
            return body

    with Broken() as twin:
        workspace = twin.add_workspace(TEAM, "Acme")
        twin.add_user(TEAM, MEMBER, name="ada")
        httpx.post(
            twin.base_url + "chat.postMessage",
            headers={"Authorization": f"Bearer {workspace.bot_token}"},
            json={"channel": MEMBER, "text": "hi"},
        )
        assert [v.kind for v in twin.violations] == ["reply"]
        assert "'ts' is a required property" in twin.violations[0].message


# ----------------------------------------------------------------------------- lifecycle


def test_serves_on_loopback_with_an_api_base_url_and_stops_cleanly() -> None:
    twin = FakeSlack().start()
    try:
        assert twin.base_url.startswith("http://127.0.0.1:") and twin.base_url.endswith("/api/")
        assert httpx.post(twin.base_url + "auth.test").json() == {"ok": False, "error": "not_authed"}
        port = urlsplit(twin.url).port
    finally:
        twin.stop()
    twin.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"http://127.0.0.1:{port}/api/auth.test", timeout=2)


def test_ids_must_look_like_slack_ids(fake: FakeSlack) -> None:
    with pytest.raises(ValueError, match="does not look like a Slack id"):
        fake.add_workspace("T1", "Too short")
    with pytest.raises(ValueError, match="does not look like a Slack id"):
        fake.add_user(TEAM, "bob", name="bob")


# ----------------------------------------------------------------------------- auth


async def test_auth_test_describes_the_bot(client: AsyncWebClient, ws: Workspace) -> None:
    resp = await client.auth_test()
    assert resp["team_id"] == TEAM and resp["user_id"] == ws.bot_user_id and resp["bot_id"] == ws.bot_id


async def test_unknown_revoked_and_missing_tokens(fake: FakeSlack, ws: Workspace) -> None:
    bad = AsyncWebClient(base_url=fake.base_url, token="xoxb-not-issued")
    assert (await slack_error(bad.auth_test()))["error"] == "invalid_auth"
    none = AsyncWebClient(base_url=fake.base_url)
    assert (await slack_error(none.chat_postMessage(channel=MEMBER, text="x")))["error"] == "not_authed"
    fake.revoke(ws.bot_token)
    revoked = AsyncWebClient(base_url=fake.base_url, token=ws.bot_token)
    assert (await slack_error(revoked.chat_postMessage(channel=MEMBER, text="x")))["error"] == "token_revoked"
    fake.assert_no_violations()


async def test_a_token_inside_a_json_body_is_ignored_like_slack_does(fake: FakeSlack, ws: Workspace) -> None:
    resp = httpx.post(fake.base_url + "auth.test", json={"token": ws.bot_token})
    assert resp.json()["error"] == "not_authed"
    form = httpx.post(fake.base_url + "auth.test", data={"token": ws.bot_token})
    assert form.json()["ok"] is True


async def test_missing_scope(fake: FakeSlack) -> None:
    workspace = fake.add_workspace(TEAM, "Acme", scopes=["commands", "chat:write"])
    fake.add_user(TEAM, MEMBER, name="ada")
    client = AsyncWebClient(base_url=fake.base_url, token=workspace.bot_token)
    data = await slack_error(client.users_info(user=MEMBER))
    assert data == {"ok": False, "error": "missing_scope", "needed": "users:read", "provided": "commands,chat:write"}


async def test_uninstall_revokes_every_token_of_the_team(fake: FakeSlack, ws: Workspace) -> None:
    second = fake.add_workspace(TEAM, "Acme Corp")
    fake.uninstall(TEAM)
    for token in (ws.bot_token, second.bot_token):
        client = AsyncWebClient(base_url=fake.base_url, token=token)
        assert (await slack_error(client.auth_test()))["error"] == "token_revoked"


# ----------------------------------------------------------------------------- oauth.v2.access


async def test_oauth_code_is_exchanged_once_for_a_new_bot_token(fake: FakeSlack) -> None:
    anon = AsyncWebClient(base_url=fake.base_url)
    code = fake.issue_oauth_code(team_id=TEAM, team_name="Acme Corp", user_id=MEMBER)
    resp = await anon.oauth_v2_access(client_id=fake.client_id, client_secret=fake.client_secret, code=code)
    assert resp["token_type"] == "bot" and resp["access_token"].startswith("xoxb-")
    assert resp["team"] == {"id": TEAM, "name": "Acme Corp"} and resp["authed_user"] == {"id": MEMBER}
    assert resp["enterprise"] is None and resp["is_enterprise_install"] is False
    assert resp["app_id"] == DEFAULT_APP_ID and resp["scope"] == "commands,chat:write,im:write,im:history,users:read"
    bot = AsyncWebClient(base_url=fake.base_url, token=resp["access_token"])
    assert (await bot.auth_test())["user_id"] == resp["bot_user_id"]

    again = anon.oauth_v2_access(client_id=fake.client_id, client_secret=fake.client_secret, code=code)
    assert (await slack_error(again))["error"] == "invalid_code"
    unknown = anon.oauth_v2_access(client_id=fake.client_id, client_secret=fake.client_secret, code="nope")
    assert (await slack_error(unknown))["error"] == "invalid_code"
    fresh = fake.issue_oauth_code(team_id=TEAM, team_name="Acme Corp", user_id=MEMBER)
    wrong = anon.oauth_v2_access(client_id=fake.client_id, client_secret="wrong", code=fresh)
    assert (await slack_error(wrong))["error"] == "bad_client_secret"
    fake.assert_no_violations()


async def test_oauth_v2_access_as_json_is_a_violation(fake: FakeSlack) -> None:
    code = fake.issue_oauth_code(team_id=TEAM, team_name="Acme", user_id=MEMBER)
    resp = httpx.post(
        fake.base_url + "oauth.v2.access",
        json={"code": code, "client_id": fake.client_id, "client_secret": fake.client_secret},
    )
    assert resp.json()["ok"] is False
    assert "accepts only" in fake.violations[0].message


def test_authorize_url_redirects_with_a_code_or_access_denied(fake: FakeSlack) -> None:
    redirect = "https://bot.example.org/slack/oauth_redirect"
    fake.set_installer(team_id=TEAM, team_name="Acme", user_id=MEMBER)
    query = {"client_id": fake.client_id, "scope": "commands,chat:write", "state": "s1", "redirect_uri": redirect}
    resp = httpx.get(fake.authorize_url, params=query)
    assert resp.status_code == 302
    location = urlsplit(resp.headers["location"])
    params = dict(parse_qsl(location.query))
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect and params["state"] == "s1"
    token = httpx.post(
        fake.base_url + "oauth.v2.access",
        data={"code": params["code"], "redirect_uri": redirect},
        auth=(fake.client_id, fake.client_secret),
    ).json()
    assert token["ok"] is True and token["scope"] == "commands,chat:write"

    fake.set_installer(team_id=TEAM, team_name="Acme", user_id=MEMBER, deny=True)
    denied = httpx.get(fake.authorize_url, params=query)
    assert dict(parse_qsl(urlsplit(denied.headers["location"]).query)) == {"error": "access_denied", "state": "s1"}


# ----------------------------------------------------------------------------- DMs and messages


async def test_conversations_open_gives_a_stable_dm_per_team_and_user(fake: FakeSlack, client: AsyncWebClient) -> None:
    first = await client.conversations_open(users=MEMBER)
    second = await client.conversations_open(users=[MEMBER])
    other = await client.conversations_open(users=OTHER)
    channel = first["channel"]["id"]
    assert channel.startswith("D") and second["channel"]["id"] == channel
    assert second["already_open"] is True and "already_open" not in first.data
    assert other["channel"]["id"] != channel
    assert channel == fake.dm_channel(TEAM, MEMBER) == dm_channel_id(TEAM, MEMBER)
    assert (await slack_error(client.conversations_open(users="U0NOBODY01")))["error"] == "user_not_found"
    full = await client.conversations_open(users=MEMBER, return_im=True)
    assert full["channel"]["user"] == MEMBER and full["channel"]["is_im"] is True
    fake.assert_no_violations()


async def test_post_then_update_keeps_one_message_in_place(fake: FakeSlack, client: AsyncWebClient) -> None:
    channel = (await client.conversations_open(users=MEMBER))["channel"]["id"]
    posted = await client.chat_postMessage(channel=channel, text="Weekly sync", blocks=[SECTION])
    assert posted["channel"] == channel and posted["message"]["text"] == "Weekly sync"
    assert abs(float(posted["ts"]) - time.time()) < 60  # the time of posting, as Slack's ts is
    later = await client.chat_postMessage(channel=channel, text="Standup")
    assert posted["ts"] < later["ts"]
    for ts in (posted["ts"], later["ts"]):
        assert re.match(TS_PATTERN, ts)

    scheduled = {"type": "section", "text": {"type": "mrkdwn", "text": "Bot scheduled"}}
    updated = await client.chat_update(channel=channel, ts=posted["ts"], text="Bot scheduled", blocks=[scheduled])
    assert updated["ts"] == posted["ts"] and updated["message"]["blocks"] == [scheduled]

    msgs = fake.messages(channel)
    assert [m.ts for m in msgs] == [posted["ts"], later["ts"]]
    assert msgs[0].text == "Bot scheduled" and msgs[0].blocks == [scheduled] and msgs[0].edits == 1
    assert msgs[0].history[0]["blocks"] == [SECTION]
    assert fake.calls_to("chat.update")[0].params["blocks"] == [scheduled]
    assert fake.calls_to("chat.update")[0].token == client.token
    fake.assert_no_violations()


async def test_update_without_blocks_keeps_the_old_blocks(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=MEMBER, text="a", blocks=[SECTION])
    await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="b")
    (msg,) = fake.messages()
    assert msg.text == "b" and msg.blocks == [SECTION]


async def test_post_to_a_user_id_lands_in_the_app_dm(fake: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.chat_postMessage(channel=MEMBER, text="hello")
    assert resp["channel"] == fake.dm_channel(TEAM, MEMBER)
    assert (await slack_error(client.chat_postMessage(channel="C0GENERAL1", text="x")))["error"] == (
        "channel_not_found"
    )


async def test_update_of_an_unknown_ts_is_message_not_found(fake: FakeSlack, client: AsyncWebClient) -> None:
    channel = (await client.conversations_open(users=MEMBER))["channel"]["id"]
    data = await slack_error(client.chat_update(channel=channel, ts="1700000000.999900", text="x"))
    assert data["error"] == "message_not_found"
    fake.assert_no_violations()


async def test_messages_are_private_to_their_workspace(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=MEMBER, text="a")
    other = fake.add_workspace("T0OTHER001", "Other")
    intruder = AsyncWebClient(base_url=fake.base_url, token=other.bot_token)
    data = await slack_error(intruder.chat_update(channel=posted["channel"], ts=posted["ts"], text="x"))
    assert data["error"] == "channel_not_found"


async def test_missing_required_parameter_is_a_violation(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=MEMBER, text="a")
    data = await slack_error(client.api_call("chat.update", json={"channel": posted["channel"], "text": "b"}))
    assert data["error"] == "invalid_arguments"
    assert [v.message for v in fake.violations] == ["chat.update: missing required parameter `ts`"]


async def test_form_encoded_blocks_are_decoded_like_slack_does(fake: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.api_call(
        "chat.postMessage", data={"channel": MEMBER, "text": "x", "blocks": json.dumps([SECTION])}
    )
    assert resp["message"]["blocks"] == [SECTION]
    assert fake.calls_to("chat.postMessage")[0].content_type == "application/x-www-form-urlencoded"
    bad = client.api_call("chat.postMessage", data={"channel": MEMBER, "text": "x", "blocks": "[{"})
    assert (await slack_error(bad))["error"] == "invalid_blocks_format"


# ----------------------------------------------------------------------------- Block Kit


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "actions", "elements": [button("x" * 76)]}], "cannot exceed 75 characters"),
        ([SECTION] * 51, "51 blocks; a message takes at most 50"),
        ([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}], "unknown block type"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "acessory": {}}], "unknown field"),
        ([{"type": "actions", "elements": [{**button("ok"), "acton_id": "typo"}]}], "unknown field"),
        ([{"type": "section", "text": "a plain string"}], "is not valid here"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "3000"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "150"),
        ({"type": "section"}, "must be a JSON array"),
    ],
)
async def test_block_kit_violations_are_rejected_and_recorded(
    fake: FakeSlack, client: AsyncWebClient, blocks: object, expected: str
) -> None:
    data = await slack_error(client.chat_postMessage(channel=MEMBER, text="fallback", blocks=blocks))
    assert data["error"] == "invalid_blocks"
    assert fake.messages() == []
    assert len(fake.violations) == 1 and expected in fake.violations[0].message
    with pytest.raises(AssertionError, match="Slack contract violations"):
        fake.assert_no_violations()


async def test_realistic_blocks_pass_untouched(fake: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly sync", "emoji": True}},
        {
            "type": "section",
            "block_id": "meeting",
            "text": {"type": "mrkdwn", "text": "<!date^1700000000^{date_short_pretty} {time}|10:00>", "verbatim": True},
            "fields": [{"type": "mrkdwn", "text": "*Platform*\nZoom"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Will join: your rule"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "bot",
            "elements": [
                {**button("Schedule bot"), "style": "primary"},
                {
                    **button("Skip", "skip_bot"),
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Skip?"},
                        "text": {"type": "mrkdwn", "text": "The bot will not join."},
                        "confirm": {"type": "plain_text", "text": "Skip"},
                        "deny": {"type": "plain_text", "text": "Keep"},
                    },
                },
                {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": "https://zoom.us/j/1"},
            ],
        },
    ]
    assert validate_blocks(blocks) == []
    await client.chat_postMessage(channel=MEMBER, text="Weekly sync", blocks=blocks)
    await client.chat_postMessage(channel=MEMBER, text="fifty", blocks=[SECTION] * 50)
    fake.assert_no_violations()


async def test_blocks_need_a_text_fallback(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.warns(UserWarning):
        data = await slack_error(client.chat_postMessage(channel=MEMBER, blocks=[SECTION]))
    assert data["error"] == "no_text" and "without a `text` fallback" in fake.violations[0].message


# ----------------------------------------------------------------------------- other methods


async def test_ephemeral_messages(fake: FakeSlack, client: AsyncWebClient) -> None:
    channel = fake.dm_channel(TEAM, MEMBER)
    resp = await client.chat_postEphemeral(channel=channel, user=MEMBER, text="Only you can see this")
    (eph,) = fake.ephemerals(channel)
    assert eph.message_ts == resp["message_ts"] and eph.user == MEMBER
    wrong = client.chat_postEphemeral(channel=channel, user=OTHER, text="x")
    assert (await slack_error(wrong))["error"] == "user_not_in_channel"


async def test_views_publish_stores_the_home_view(fake: FakeSlack, client: AsyncWebClient) -> None:
    view = {"type": "home", "blocks": [SECTION, {"type": "actions", "elements": [button("Connect")]}]}
    resp = await client.views_publish(user_id=MEMBER, view=view)
    assert resp["view"]["type"] == "home" and resp["view"]["blocks"] == view["blocks"]
    assert fake.home_view(MEMBER) == view and fake.home_view(OTHER) is None
    stale = client.views_publish(user_id=MEMBER, view=view, hash="stale")
    assert (await slack_error(stale))["error"] == "hash_conflict"
    await client.views_publish(user_id=MEMBER, view=view, hash=resp["view"]["hash"])
    fake.assert_no_violations()


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ({"type": "home", "blocks": [SECTION] * 101}, "a home takes at most 100"),
        ({"type": "modal", "blocks": [SECTION]}, "view.type must be 'home'"),
        ({"type": "home", "blocks": [{"type": "actions", "elements": [button("x" * 80)]}]}, "75"),
    ],
)
async def test_views_publish_rejects_bad_views(fake: FakeSlack, client: AsyncWebClient, view, expected) -> None:
    data = await slack_error(client.views_publish(user_id=MEMBER, view=view))
    assert data["error"] == "invalid_arguments" and fake.home_view(MEMBER) is None
    assert expected in fake.violations[0].message


async def test_users_info_gives_timezone_and_names(fake: FakeSlack, client: AsyncWebClient) -> None:
    user = (await client.users_info(user=MEMBER))["user"]
    assert user["tz"] == "Europe/London" and user["real_name"] == "Ada Lovelace"
    assert user["profile"]["display_name"] == "ada" and isinstance(user["tz_offset"], int)
    assert "email" not in user["profile"]  # needs users:read.email, which the app does not ask for
    assert (await client.users_info(user=OTHER))["user"]["profile"]["display_name"] == "Grace H"
    assert (await slack_error(client.users_info(user="U0NOBODY01")))["error"] == "user_not_found"
    fake.assert_no_violations()


async def test_users_info_email_needs_the_email_scope(fake: FakeSlack) -> None:
    workspace = fake.add_workspace(TEAM, "Acme", scopes=["users:read", "users:read.email"])
    fake.add_user(TEAM, MEMBER, name="ada", email="ada@acme.test")
    client = AsyncWebClient(base_url=fake.base_url, token=workspace.bot_token)
    assert (await client.users_info(user=MEMBER))["user"]["profile"]["email"] == "ada@acme.test"


async def test_unimplemented_methods_are_loud(fake: FakeSlack, client: AsyncWebClient) -> None:
    assert (await slack_error(client.chat_delete(channel=MEMBER, ts="1700000000.000100")))["error"] == (
        "unknown_method"
    )
    assert fake.violations[0].kind == "unsupported"


# ----------------------------------------------------------------------------- failures and rate limits


async def test_fail_next_answers_429_with_retry_after_once(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel=MEMBER, text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "7"
    assert info.value.response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel=MEMBER, text="x"))["ok"] is True
    fake.fail_next("users.info", error="fatal_error", status=500)
    assert (await slack_error(client.users_info(user=MEMBER)))["error"] == "fatal_error"


async def test_the_sdk_rate_limit_retry_handler_recovers(fake: FakeSlack, ws: Workspace) -> None:
    client = AsyncWebClient(
        base_url=fake.base_url, token=ws.bot_token, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    )
    fake.fail_next("chat.postMessage", retry_after=0)
    assert (await client.chat_postMessage(channel=MEMBER, text="x"))["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2 and len(fake.messages()) == 1


async def test_slacks_published_limits_are_enforced_per_workspace_and_method(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    for _ in range(100):  # Tier 4: a minute's budget in a burst is tolerated
        await client.users_info(user=MEMBER)
    with pytest.raises(SlackApiError) as info:
        await client.users_info(user=MEMBER)
    assert info.value.response.status_code == 429 and int(info.value.response.headers["Retry-After"]) >= 1
    assert fake.rate_limited == [(TEAM, "users.info")]
    for _ in range(50):  # Tier 3
        await client.conversations_open(users=MEMBER)
    assert (await slack_error(client.conversations_open(users=MEMBER)))["error"] == "ratelimited"


async def test_one_post_a_second_per_channel_after_a_burst(fake: FakeSlack, client: AsyncWebClient) -> None:
    for i in range(20):
        await client.chat_postMessage(channel=MEMBER, text=f"burst {i}")
    with pytest.raises(SlackApiError) as info:
        await client.chat_postMessage(channel=MEMBER, text="one too many")
    assert info.value.response.status_code == 429
    await client.chat_postMessage(channel=OTHER, text="another channel has its own budget")


async def test_limits_can_be_set_per_method_or_switched_off(ws: Workspace) -> None:
    with FakeSlack(published_limits=False) as unlimited:
        unlimited.add_workspace(TEAM, "Acme Corp", bot_token="xoxb-1-acme-bot-token")
        unlimited.add_user(TEAM, MEMBER, name="ada")
        client = AsyncWebClient(base_url=unlimited.base_url, token="xoxb-1-acme-bot-token")
        for _ in range(150):
            await client.users_info(user=MEMBER)
        unlimited.set_rate_limit("users.info", 2)
        with pytest.raises(SlackApiError):
            for _ in range(3):
                await client.users_info(user=MEMBER)
        unlimited.set_rate_limit("users.info", None)
        await client.users_info(user=MEMBER)


# ----------------------------------------------------------------------------- history and metadata

PAYLOAD = {"event_type": "recall_meeting", "event_payload": {"event_id": "evt-1"}}


async def test_history_returns_a_window_newest_first_with_metadata_only_when_asked(
    client: AsyncWebClient, fake: FakeSlack
) -> None:
    channel = (await client.conversations_open(users=MEMBER))["channel"]["id"]
    first = await client.chat_postMessage(channel=channel, text="one", metadata=PAYLOAD)
    second = await client.chat_postMessage(channel=channel, text="two")
    third = await client.chat_postMessage(channel=channel, text="three")
    page = await client.conversations_history(channel=channel)
    assert [m["text"] for m in page["messages"]] == ["three", "two", "one"]
    assert all("metadata" not in m for m in page["messages"]) and page["has_more"] is False
    window = await client.conversations_history(
        channel=channel, oldest=first["ts"], latest=third["ts"], inclusive=True, include_all_metadata=True
    )
    assert [m["ts"] for m in window["messages"]] == [third["ts"], second["ts"], first["ts"]]
    assert window["messages"][-1]["metadata"] == PAYLOAD
    exclusive = await client.conversations_history(channel=channel, oldest=first["ts"], latest=third["ts"])
    assert [m["text"] for m in exclusive["messages"]] == ["two"]
    fake.assert_no_violations()


async def test_history_pages_with_a_cursor(client: AsyncWebClient, fake: FakeSlack) -> None:
    channel = (await client.conversations_open(users=MEMBER))["channel"]["id"]
    for i in range(5):
        await client.chat_postMessage(channel=channel, text=f"m{i}")
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = await client.conversations_history(channel=channel, limit=2, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        if not page["has_more"]:
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert seen == ["m4", "m3", "m2", "m1", "m0"]
    assert (await slack_error(client.conversations_history(channel=channel, cursor="bm90LWEtY3Vyc29y")))[
        "error"
    ] == "invalid_cursor"


async def test_history_needs_im_history_and_a_channel_of_the_workspace(fake: FakeSlack) -> None:
    fake.add_workspace(TEAM, "Acme Corp", bot_token="xoxb-2-narrow", scopes=("chat:write", "im:write"))
    fake.add_user(TEAM, MEMBER, name="ada")
    narrow = AsyncWebClient(base_url=fake.base_url, token="xoxb-2-narrow")
    channel = (await narrow.conversations_open(users=MEMBER))["channel"]["id"]
    assert (await slack_error(narrow.conversations_history(channel=channel)))["error"] == "missing_scope"
    fake.add_workspace(TEAM, "Acme Corp", bot_token="xoxb-3-full")
    full = AsyncWebClient(base_url=fake.base_url, token="xoxb-3-full")
    assert (await slack_error(full.conversations_history(channel="D0NOTOURS01")))["error"] == "channel_not_found"


async def test_bad_metadata_is_refused_and_changes_nothing(client: AsyncWebClient, fake: FakeSlack) -> None:
    bad = {"event_type": "has space", "event_payload": {}}
    assert (await slack_error(client.chat_postMessage(channel=MEMBER, text="x", metadata=bad)))["error"] == (
        "invalid_metadata_format"
    )
    assert fake.messages() == []


async def test_update_can_replace_metadata(client: AsyncWebClient, fake: FakeSlack) -> None:
    posted = await client.chat_postMessage(channel=MEMBER, text="x", metadata=PAYLOAD)
    newer = {"event_type": "recall_meeting", "event_payload": {"event_id": "evt-2"}}
    await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="y", metadata=newer)
    assert fake.message(posted["channel"], posted["ts"]).metadata == newer
    await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="z")
    assert fake.message(posted["channel"], posted["ts"]).metadata == newer  # omitted: kept


async def test_non_marketplace_history_is_one_call_a_minute_and_fifteen_messages(ws: Workspace) -> None:
    with FakeSlack(history_limits=NON_MARKETPLACE_HISTORY) as twin:
        twin.add_workspace(TEAM, "Acme Corp", bot_token="xoxb-1-acme-bot-token")
        twin.add_user(TEAM, MEMBER, name="ada")
        client = AsyncWebClient(base_url=twin.base_url, token="xoxb-1-acme-bot-token")
        for i in range(20):
            await client.chat_postMessage(channel=MEMBER, text=f"m{i}")
        page = await client.conversations_history(channel=twin.dm_channel(TEAM, MEMBER), limit=200)
        assert len(page["messages"]) == 15 and page["has_more"] is True
        with pytest.raises(SlackApiError) as info:
            await client.conversations_history(channel=twin.dm_channel(TEAM, MEMBER))
        assert info.value.response.status_code == 429 and int(info.value.response.headers["Retry-After"]) > 1


async def test_a_lost_reply_still_carries_out_the_call(client: AsyncWebClient, fake: FakeSlack) -> None:
    fake.lose_next_reply("chat.postMessage")
    with pytest.raises(aiohttp.ClientError):  # the connection closes without a reply
        await AsyncWebClient(base_url=fake.base_url, token=client.token, retry_handlers=[]).chat_postMessage(
            channel=MEMBER, text="did it?"
        )
    assert [m.text for m in fake.messages()] == ["did it?"]


def test_reset_calls_keeps_state(fake: FakeSlack, ws: Workspace) -> None:
    httpx.post(fake.base_url + "chat.postMessage", data={"token": ws.bot_token, "channel": MEMBER, "text": "x"})
    assert len(fake.calls) == 1
    fake.reset_calls()
    assert fake.calls == [] and len(fake.messages()) == 1


# ----------------------------------------------------------------------------- response_url


async def test_response_url_records_posts(fake: FakeSlack) -> None:
    url = fake.response_url("click-1")
    hook = AsyncWebhookClient(url)
    resp = await hook.send(text="Scheduled", blocks=[SECTION], replace_original=True)
    assert resp.status_code == 200
    await hook.send(text="Only you", response_type="ephemeral")
    await hook.send(delete_original=True)
    posts = fake.response_posts("click-1")
    assert [p.replace_original for p in posts] == [True, False, False]
    assert posts[0].blocks == [SECTION] and posts[0].text == "Scheduled"
    assert posts[1].response_type == "ephemeral" and posts[2].delete_original
    fake.assert_no_violations()


async def test_response_url_checks_blocks_and_use_count(fake: FakeSlack) -> None:
    hook = AsyncWebhookClient(fake.response_url("r"))
    bad = await hook.send(text="x", blocks=[{"type": "actions", "elements": [button("y" * 76)]}])
    assert bad.status_code == 400 and fake.response_posts("r") == []
    assert "75" in fake.violations[0].message
    for _ in range(5):
        assert (await hook.send(text="ok")).status_code == 200
    assert (await hook.send(text="sixth")).status_code == 404
    assert (await AsyncWebhookClient(fake.url + "response/never-issued").send(text="x")).status_code == 404


# ----------------------------------------------------------------------------- signing and request builders


def test_slack_sdk_reproduces_slacks_documented_signature_example() -> None:
    # https://docs.slack.dev/authentication/verifying-requests-from-slack (worked example)
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    verifier = SignatureVerifier(secret)
    assert verifier.generate_signature(timestamp="1531420618", body=body) == expected
    headers = sign_slack_request(secret, body.encode(), timestamp=1531420618)
    assert headers == {"X-Slack-Request-Timestamp": "1531420618", "X-Slack-Signature": expected}


def test_sign_slack_request_defaults_to_now_and_verifies() -> None:
    body = b"payload=%7B%7D"
    headers = sign_slack_request("s3cret", body)
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)


def test_slash_command_body_has_slacks_fields() -> None:
    body = slash_command_body(text="connect", team_id=TEAM, user_id=MEMBER, response_url="https://r.example/1")
    fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert fields["command"] == "/recall" and fields["text"] == "connect"
    assert fields["team_id"] == TEAM and fields["user_id"] == MEMBER
    assert fields["channel_id"] == dm_channel_id(TEAM, MEMBER) and fields["api_app_id"] == DEFAULT_APP_ID
    assert {"trigger_id", "response_url", "team_domain", "user_name", "channel_name"} <= fields.keys()


def test_block_actions_body_is_a_url_quoted_payload() -> None:
    message = {"type": "message", "ts": "1700000000.000300", "text": "Weekly sync"}
    body = block_actions_body(
        team_id=TEAM, user_id=MEMBER, action_id="schedule_bot", value="42", response_url="https://r/1", message=message
    )
    assert body.startswith(b"payload=%7B")
    payload = json.loads(parse_qs(body.decode())["payload"][0])
    assert payload["type"] == "block_actions" and payload["user"] == {
        "id": MEMBER,
        "username": "member",
        "name": "member",
        "team_id": TEAM,
    }
    (action,) = payload["actions"]
    assert action["action_id"] == "schedule_bot" and action["value"] == "42" and action["type"] == "button"
    assert payload["container"]["message_ts"] == "1700000000.000300" and payload["message"] == message
    assert payload["channel"]["id"] == dm_channel_id(TEAM, MEMBER) and payload["response_url"] == "https://r/1"
    home = json.loads(
        parse_qs(
            block_actions_body(
                team_id=TEAM, user_id=MEMBER, action_id="a", value="v", view={"id": "V0HOME0001"}
            ).decode()
        )["payload"][0]
    )
    assert home["container"] == {"type": "view", "view_id": "V0HOME0001"} and "response_url" not in home
    with pytest.raises(ValueError, match="response_url"):
        block_actions_body(team_id=TEAM, user_id=MEMBER, action_id="a", value="v")


def test_event_body_is_an_event_callback() -> None:
    envelope = json.loads(event_body(team_id=TEAM, event=app_uninstalled_event()))
    assert envelope["type"] == "event_callback" and envelope["team_id"] == TEAM
    assert envelope["event"]["type"] == "app_uninstalled" and envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["team_id"] == TEAM


async def test_bolt_understands_the_builders_and_talks_to_the_twin(fake: FakeSlack, ws: Workspace) -> None:
    """Bolt, an independent consumer, parses every builder's body and drives the twin end to end."""
    secret = "test-signing-secret"
    app = AsyncApp(
        signing_secret=secret,
        client=AsyncWebClient(base_url=fake.base_url, token=ws.bot_token),
        process_before_response=True,
    )
    seen: dict[str, object] = {}

    @app.command("/recall")
    async def recall(ack, command, respond) -> None:
        await ack()
        seen["command"] = command["text"]
        await respond(text=f"You said {command['text']}")

    @app.action("schedule_bot")
    async def schedule(ack, body, client) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], text="Scheduled", blocks=[SECTION]
        )

    @app.event("app_home_opened")
    async def home(event, client) -> None:
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [SECTION]})

    @app.event("tokens_revoked")
    async def revoked(event) -> None:
        seen["revoked"] = event["tokens"]["bot"]

    async def send(body: bytes, content_type: str) -> int:
        headers = {**sign_slack_request(secret, body), "Content-Type": content_type}
        response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(), headers=headers))
        return response.status

    form = "application/x-www-form-urlencoded"
    cmd = slash_command_body(text="status", team_id=TEAM, user_id=MEMBER, response_url=fake.response_url("cmd"))
    assert await send(cmd, form) == 200
    assert seen["command"] == "status" and fake.response_posts("cmd")[0].text == "You said status"

    posted = await app.client.chat_postMessage(channel=MEMBER, text="Weekly sync")
    msg = fake.message(posted["channel"], posted["ts"]).to_slack()
    click = block_actions_body(
        team_id=TEAM,
        user_id=MEMBER,
        action_id="schedule_bot",
        value="42",
        response_url=fake.response_url("click"),
        message=msg,
    )
    assert await send(click, form) == 200
    assert fake.message(posted["channel"], posted["ts"]).text == "Scheduled"

    opened = event_body(team_id=TEAM, event=app_home_opened_event(team_id=TEAM, user_id=MEMBER))
    assert await send(opened, "application/json") == 200
    assert fake.home_view(MEMBER) == {"type": "home", "blocks": [SECTION]}

    gone = event_body(team_id=TEAM, event=tokens_revoked_event(bot_user_ids=[ws.bot_user_id]))
    assert await send(gone, "application/json") == 200
    assert seen["revoked"] == [ws.bot_user_id]

    forged = {**sign_slack_request("wrong-secret", cmd), "Content-Type": form}
    assert (await app.async_dispatch(AsyncBoltRequest(body=cmd.decode(), headers=forged))).status == 401
    assert fake.calls_to("auth.test")  # Bolt authorised each request against the twin
    fake.assert_no_violations()


def test_contract_can_be_built_from_a_given_spec() -> None:
    spec = {"paths": {"/x.y": {"post": {"parameters": [], "responses": {}}}}, "definitions": {}}
    contract = SlackWebApiContract(spec)
    assert contract.validate_request("x.y", {}) == [] and contract.validate_response("x.y", {"ok": True}) == []
    assert contract.validate_request("nope", {}) == ["nope: not declared in the Slack Web API spec"]
