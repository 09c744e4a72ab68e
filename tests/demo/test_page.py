"""The demo page's own HTML (the calendar panel, the DM pane): every piece of user text escaped, in text and in
attributes; the consent page's account filter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from slackbot.demo import page
from slackbot.demo.controller import DemoController
from slackbot.demo.twins.google import _only_account
from slackbot.demo.world import MEMBERS, TEAM_ID, TEAM_NAME
from tests.twins.fake_recall import FakeRecall
from tests.twins.fake_slack import FakeSlack

NOW = datetime(2026, 11, 30, 9, 10, tzinfo=UTC)
ADA = MEMBERS[0]
MARKUP = '<script>alert(1)</script> "quoted" <!channel> &amp;'


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    tags.close()
    return tags


@pytest.fixture
def controller() -> Iterator[tuple[DemoController, FakeRecall]]:
    with FakeSlack() as slack, FakeRecall(auto_connect=True, clock=lambda: NOW) as recall:
        slack.add_workspace(TEAM_ID, TEAM_NAME, bot_token="xoxb-1-2-demo")
        demo = DemoController(
            slack=slack,
            recall=recall,
            app_url="http://127.0.0.1:9",
            signing_secret="s",
            webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            clock=lambda: NOW,
            _http=httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200))),
        )
        yield demo, recall


def test_the_calendar_panel_shows_a_markup_title_as_text(controller: Any) -> None:
    demo, recall = controller
    calendar = recall.add_calendar(oauth_email=ADA.email)
    demo.adopt_new_calendars()
    recall.add_event(calendar["id"], title=MARKUP, start_time=NOW + timedelta(hours=2))
    html = page.calendar_html(demo, ADA)
    tags = parse(html)
    assert "script" not in [tag for tag, _ in tags.tags]
    assert MARKUP in "".join(tags.text)
    rename = [attrs for tag, attrs in tags.tags if tag == "button" and attrs.get("data-op") == "rename"]
    assert MARKUP in [attrs.get("data-title") for attrs in rename]  # the attribute holds it, quotes and all
    assert not any(name.startswith("on") for _, attrs in tags.tags for name in attrs)


def test_replies_only_one_member_sees_are_escaped_too(controller: Any) -> None:
    demo, _ = controller
    demo._remember(ADA, "&lt;script&gt;x&lt;/script&gt; <https://ok.example|fine>", None)
    html = page.messages_html(demo, ADA)
    tags = parse(html)
    assert "script" not in [tag for tag, _ in tags.tags]
    assert "<script>x</script>" in "".join(tags.text)
    assert ("a", {"href": "https://ok.example", "target": "_blank", "rel": "noopener noreferrer"}) in tags.tags
    assert "Only visible to you" in html


def test_the_page_names_the_member_and_their_zone(controller: Any) -> None:
    demo, _ = controller
    html = page.page(demo, MEMBERS[1], "home")
    body = next(attrs for tag, attrs in parse(html).tags if tag == "body")
    assert body == {"data-member": MEMBERS[1].user_id, "data-tab": "home", "data-tz": MEMBERS[1].tz}
    assert "<script>" not in html.replace('<script src="/static/slack.js" defer></script>', "").replace(
        '<script src="/static/demo.js" defer></script>', ""
    )


@pytest.mark.parametrize(
    ("offered", "kept"),
    [("ada@acme.test", ["ada@acme.test"]), ("nobody@acme.test", []), ('a"b@acme.test', ['a"b@acme.test'])],
)
def test_the_consent_page_keeps_only_the_offered_account(offered: str, kept: list[str]) -> None:
    buttons = "".join(
        f'<button class="outline" type="submit" name="sub" value="{value}">{value}</button>'
        for value in ("ada@acme.test", "grace@acme.test", "a&#34;b@acme.test".replace("&#34;", "&quot;"))
    )
    html = f"<form>{buttons}<input name=sub></form>".encode()
    rewritten = _only_account(offered)(html).decode()
    values = [attrs.get("value") for tag, attrs in parse(rewritten).tags if tag == "button"]
    assert values == kept
    assert "<input name=sub>" in rewritten  # typing any account stays possible
