"""Block Kit as HTML for the demo page: every mrkdwn rule, every escape, every block and element, the app's own
messages end to end, and slack.js's date tokens under Node."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slackbot.blocks.connect import ConnectLink, connect_links
from slackbot.blocks.digests import Row, agenda_message
from slackbot.blocks.home import AttentionView, PolicyView, RulesView, home_view
from slackbot.blocks.meeting import meeting_message
from slackbot.demo import blockkit_html
from slackbot.demo.blockkit_html import (
    DATE_FORMATS,
    EMOJI,
    mrkdwn_to_html,
    plain_to_html,
    render_blocks,
    text_object_html,
)
from slackbot.ids import ActionId, BlockId
from slackbot.meetings.decision import MeetingFacts, decide
from slackbot.meetings.rules import Rule, RuleKind

ROOT = Path(__file__).resolve().parents[2]
SLACK_JS = ROOT / "slackbot" / "demo" / "static" / "slack.js"
A = ' target="_blank" rel="noopener noreferrer"'
USERS = {"U1": "Ann", "U2": "<b>Bob & co</b>"}


# The structural checks every rendered page passes.

VOID = {"br", "hr", "img", "input"}
ALLOWED_LINK = ("http:", "https:", "mailto:", "slack:")


class Structure(HTMLParser):
    """Start tags with their attributes, in order; fails on unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:] or 'nothing'}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [a for t, a in self.tags if t == tag and all(k in a and a[k] == v for k, v in wanted.items())]


def parse(html: str) -> Structure:
    """Parse ``html`` and assert it is safe: no script, no event handler, only allowed link and image schemes."""
    assert "<script" not in html.lower()
    parser = Structure()
    parser.feed(html)
    parser.close()
    assert parser.open == [], f"unclosed: {parser.open}"
    for tag, attrs in parser.tags:
        assert tag not in ("script", "style", "iframe", "object", "embed"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), f"<{tag} {name}=...>"
            assert name != "style", "no inline styles"
            if name == "href":
                assert value and value.lower().startswith(ALLOWED_LINK), value
            if name == "src":
                assert value and value.lower().startswith(("http:", "https:")), value
    return parser


def text_of(html: str) -> str:
    return "".join(parse(html).text)


# mrkdwn: exact HTML for every rule.

MRKDWN = [
    # plain text and Slack's escapes
    ("hello", "hello"),
    ("", ""),
    ("a &amp; b", "a &amp; b"),
    ("1 &lt; 2 &gt; 0", "1 &lt; 2 &gt; 0"),
    ("&amp;lt;b&amp;gt;", "&amp;lt;b&amp;gt;"),  # a literal "&lt;b&gt;" in the source text
    ("\"quotes\" & 'apostrophes'", "&quot;quotes&quot; &amp; &#x27;apostrophes&#x27;"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("&lt;img src=x onerror=alert(1)&gt;", "&lt;img src=x onerror=alert(1)&gt;"),
    ("nul\x00here", "nul\ufffdhere"),
    # bold, italic, strike
    ("*bold*", "<b>bold</b>"),
    ("_italic_", "<i>italic</i>"),
    ("~strike~", "<s>strike</s>"),
    ("*two words*", "<b>two words</b>"),
    ("*a*", "<b>a</b>"),
    ("say *hi*, then", "say <b>hi</b>, then"),
    ("(*in parens*)", "(<b>in parens</b>)"),
    # nested and adjacent markers
    ("*bold _and italic_*", "<b>bold <i>and italic</i></b>"),
    ("_*both*_", "<i><b>both</b></i>"),
    ("~*_all three_*~", "<s><b><i>all three</i></b></s>"),
    ("*a* *b*", "<b>a</b> <b>b</b>"),
    ("*a*_b_~c~", "<b>a</b><i>b</i><s>c</s>"),
    ("*a*b*", "<b>a*b</b>"),
    # word boundaries
    ("snake_case_name", "snake_case_name"),
    ("call my_func_name()", "call my_func_name()"),
    ("2*3*4", "2*3*4"),
    ("a~b~c", "a~b~c"),
    ("* not bold *", "* not bold *"),
    ("*not bold *", "*not bold *"),
    ("* not bold*", "* not bold*"),
    ("**", "**"),
    ("**double**", "*<b>double</b>*"),
    ("_a_b", "_a_b"),
    ("*unclosed", "*unclosed"),
    ("*no\nbreak*", "*no<br>break*"),
    # code and pre
    ("`code`", "<code>code</code>"),
    ("`*not bold* _nor italic_`", "<code>*not bold* _nor italic_</code>"),
    ("`:x:`", "<code>:x:</code>"),
    ("`a &lt; b`", "<code>a &lt; b</code>"),
    ("run `ls -l` now", "run <code>ls -l</code> now"),
    ("*bold `code` bold*", "<b>bold <code>code</code> bold</b>"),
    ("`<@U1>`", '<code><span class="mention">@Ann</span></code>'),
    ("don`t and won`t", "don`t and won`t"),
    ("```pre *x*\n_y_```", "<pre>pre *x*\n_y_</pre>"),
    ("```\nline\n```", "<pre>line</pre>"),
    ("before\n```x```\nafter", "before<pre>x</pre>after"),
    ("```&lt;b&gt; &amp;```", "<pre>&lt;b&gt; &amp;</pre>"),
    ("```> not a quote```", "<pre>&gt; not a quote</pre>"),
    # quotes and newlines
    ("a\nb", "a<br>b"),
    ("a\r\nb", "a<br>b"),
    ("a\n\nb", "a<br><br>b"),
    ("> quoted", "<blockquote>quoted</blockquote>"),
    (">quoted", "<blockquote>quoted</blockquote>"),
    ("> one\n> two\nthree", "<blockquote>one<br>two</blockquote>three"),
    ("intro\n> *q*", "intro<blockquote><b>q</b></blockquote>"),
    ("> a\n\nb", "<blockquote>a</blockquote><br>b"),
    (">>> all\nof this", "<blockquote>all<br>of this</blockquote>"),
    ("&gt; escaped, not a quote", "&gt; escaped, not a quote"),
    ("a > b", "a &gt; b"),
    # links
    ("<https://example.com>", f'<a href="https://example.com"{A}>https://example.com</a>'),
    ("<https://example.com|the label>", f'<a href="https://example.com"{A}>the label</a>'),
    ("<http://x.test/?a=1&amp;b=2|a &amp; b>", f'<a href="http://x.test/?a=1&amp;b=2"{A}>a &amp; b</a>'),
    (
        '<https://x.test/"onmouseover="alert(1)|x>',
        f'<a href="https://x.test/&quot;onmouseover=&quot;alert(1)"{A}>x</a>',
    ),
    ("<mailto:a@b.test|mail me>", f'<a href="mailto:a@b.test"{A}>mail me</a>'),
    ("<slack://open?team=T1|open>", f'<a href="slack://open?team=T1"{A}>open</a>'),
    ("<HTTPS://X.TEST|caps>", f'<a href="HTTPS://X.TEST"{A}>caps</a>'),
    ("*<https://x.test|bold link>*", f'<b><a href="https://x.test"{A}>bold link</a></b>'),
    ("<https://x.test|:link: here>", f'<a href="https://x.test"{A}>🔗 here</a>'),
    ("<https://x.test/a_b_c|a_b_c>", f'<a href="https://x.test/a_b_c"{A}>a_b_c</a>'),
    ("<javascript:alert(1)|click me>", "click me"),
    ("<javascript:alert(1)>", "&lt;javascript:alert(1)&gt;"),
    ("<JavaScript:alert(1)|x>", "x"),
    ("< javascript:alert(1)|x>", "x"),
    ("<data:text/html;base64,PHNjcmlwdD4=|x>", "x"),
    ("<vbscript:x|y>", "y"),
    ("<example.com|no scheme>", "no scheme"),
    ("&lt;https://evil|click&gt;", "&lt;https://evil|click&gt;"),
    # mentions
    ("<@U1>", '<span class="mention">@Ann</span>'),
    ("<@U2>", '<span class="mention">@&lt;b&gt;Bob &amp; co&lt;/b&gt;</span>'),
    ("<@U404>", '<span class="mention">@U404</span>'),
    ("<@U404|someone>", '<span class="mention">@someone</span>'),
    ("hi <@U1>!", 'hi <span class="mention">@Ann</span>!'),
    ("_<@U1>'s bot_", '<i><span class="mention">@Ann</span>&#x27;s bot</i>'),
    ("<#C1|general>", '<span class="mention">#general</span>'),
    ("<#C1>", '<span class="mention">#C1</span>'),
    ("<!channel>", '<span class="mention">@channel</span>'),
    ("<!here>", '<span class="mention">@here</span>'),
    ("<!everyone>", '<span class="mention">@everyone</span>'),
    ("<!here|here>", '<span class="mention">@here</span>'),
    ("<!subteam^S1|@devs>", '<span class="mention">@devs</span>'),
    ("<!subteam^S1>", '<span class="mention">@S1</span>'),
    ("&lt;!channel&gt;", "&lt;!channel&gt;"),
    ("&lt;@U1&gt;", "&lt;@U1&gt;"),
    ("<!unknown>", "&lt;!unknown&gt;"),
    ("<>", "&lt;&gt;"),
    ("a < b", "a &lt; b"),
    # emoji
    (":white_check_mark: done", "✅ done"),
    (":x::x:", "❌❌"),
    (":warning: *careful*", "⚠️ <b>careful</b>"),
    (":no_such_emoji:", ":no_such_emoji:"),
    (":+1: :-1:", "👍 👎"),
    ("*:tada:*", "<b>🎉</b>"),
    ("12:30:45", "12:30:45"),
    (":heavy_minus_sign:_x_", "➖<i>x</i>"),
]


@pytest.mark.parametrize(("source", "expected"), MRKDWN)
def test_mrkdwn(source: str, expected: str) -> None:
    html = mrkdwn_to_html(source, users=USERS)
    assert html == expected
    parse(html)


DATE = '<time class="slack-date" data-epoch="{epoch}" data-format="{fmt}">{fallback}</time>'

DATES = [
    (
        "<!date^1714557600^{date_short_pretty} at {time}|Wed 01 May 2024 10:00 UTC>",
        DATE.format(epoch="1714557600", fmt="{date_short_pretty} at {time}", fallback="Wed 01 May 2024 10:00 UTC"),
    ),
    (
        "<!date^1714557600^{date_num}^https://example.com/x|2024-05-01>",
        f'<a href="https://example.com/x"{A}>'
        + DATE.format(epoch="1714557600", fmt="{date_num}", fallback="2024-05-01")
        + "</a>",
    ),
    (  # a link Slack would not make: the date alone
        "<!date^1714557600^{date_num}^javascript:alert(1)|2024-05-01>",
        DATE.format(epoch="1714557600", fmt="{date_num}", fallback="2024-05-01"),
    ),
    (  # '|' in the fallback belongs to it; '>' and '<' come escaped
        "<!date^1^{time}|a | b &gt; c &lt;script&gt;>",
        DATE.format(epoch="1", fmt="{time}", fallback="a | b &gt; c &lt;script&gt;"),
    ),
    (
        '<!date^1^"{time}" &amp;|x>',
        DATE.format(epoch="1", fmt="&quot;{time}&quot; &amp;", fallback="x"),
    ),
    (  # no fallback: the UTC time
        "<!date^1714557600^{time}>",
        DATE.format(epoch="1714557600", fmt="{time}", fallback="2024-05-01 10:00 UTC"),
    ),
    (  # not a number: kept as written, the page's script leaves the fallback alone
        '<!date^soon" onload="x^{time}|later>',
        DATE.format(epoch="soon&quot; onload=&quot;x", fmt="{time}", fallback="later"),
    ),
    (
        "*<!date^1^{time}|t>* – <!date^2^{time}|u>",
        "<b>"
        + DATE.format(epoch="1", fmt="{time}", fallback="t")
        + "</b> – "
        + DATE.format(epoch="2", fmt="{time}", fallback="u"),
    ),
    ("&lt;!date^1^{time}|t&gt;", "&lt;!date^1^{time}|t&gt;"),
]


@pytest.mark.parametrize(("source", "expected"), DATES)
def test_date_tokens(source: str, expected: str) -> None:
    html = mrkdwn_to_html(source)
    assert html == expected
    parse(html)


@pytest.mark.parametrize(
    ("source", "visible"),
    [
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("*&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;*", "<script>alert(1)</script> <!channel>"),
        ("&lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt;", "<!here> <!everyone> <@U123>"),
        ("&lt;https://evil|click&gt;", "<https://evil|click>"),
        ("&amp;lt;already escaped&amp;gt;", "&lt;already escaped&gt;"),
        ("<javascript:alert(1)|click>", "click"),
        ("<https://x.test|&lt;img src=x onerror=alert(1)&gt;>", "<img src=x onerror=alert(1)>"),
    ],
)
def test_hostile_text_is_visible_text(source: str, visible: str) -> None:
    """What the app escapes shows as the member typed it, and the HTML has no element it did not mean."""
    html = mrkdwn_to_html(source)
    assert text_of(html) == visible
    assert {tag for tag, _ in parse(html).tags} <= {"b", "a"}
    assert "mention" not in html


PIECES = [
    "*", "_", "~", "`", "```", ">", "&gt;", "&lt;", "&amp;", "<", "|", "^", ":", "\n", " ", "a", "b1",
    "<@U1>", "<!channel>", "&lt;!here&gt;", "<https://x.test|l>", "<javascript:alert(1)|j>", "javascript:",
    "<!date^1^{time}|f>", ":x:", ":wave:", '"', "'", "onerror=", "<script>", "&lt;script&gt;",
]  # fmt: skip


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_any_mrkdwn_gives_safe_balanced_html(pieces: list[str]) -> None:
    html = mrkdwn_to_html("".join(pieces), users=USERS)
    page = parse(html)
    assert {tag for tag, _ in page.tags} <= {"b", "i", "s", "code", "pre", "blockquote", "br", "a", "span", "time"}
    assert mrkdwn_to_html("".join(pieces), users=USERS) == html


def test_real_and_escaped_special_mentions_differ() -> None:
    assert mrkdwn_to_html("<!channel>") == '<span class="mention">@channel</span>'
    assert mrkdwn_to_html("&lt;!channel&gt;") == "&lt;!channel&gt;"


# plain_text and text objects.


@pytest.mark.parametrize(
    ("text", "emoji", "expected"),
    [
        ("Schedule bot", True, "Schedule bot"),
        ("<b>&amp;</b>", True, "&lt;b&gt;&amp;amp;&lt;/b&gt;"),
        ("*not bold* _nor italic_", True, "*not bold* _nor italic_"),
        ("<!channel> <@U1>", True, "&lt;!channel&gt; &lt;@U1&gt;"),
        (":wave: hi", True, "👋 hi"),
        (":wave: hi", False, ":wave: hi"),
        (":unknown:", True, ":unknown:"),
        ("a\nb", True, "a\nb"),
    ],
)
def test_plain_to_html(text: str, emoji: bool, expected: str) -> None:
    assert plain_to_html(text, emoji=emoji) == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"type": "mrkdwn", "text": "*hi* <@U1>"}, '<b>hi</b> <span class="mention">@Ann</span>'),
        ({"type": "plain_text", "text": "*hi* <@U1>"}, "*hi* &lt;@U1&gt;"),
        ({"type": "plain_text", "text": ":x:", "emoji": False}, ":x:"),
        ({"type": "plain_text", "text": ":x:", "emoji": True}, "❌"),
        ({"type": "plain_text", "text": ":x:"}, "❌"),
        ({"type": "mrkdwn", "text": ":x:", "verbatim": True}, "❌"),
        ({"type": "other", "text": "<i>"}, "&lt;i&gt;"),
        ({"type": "mrkdwn"}, ""),
    ],
)
def test_text_object_html(obj: dict[str, Any], expected: str) -> None:
    assert text_object_html(obj, USERS) == expected


# Blocks.


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go", **fields}


def option(value: str, text: str, **fields: Any) -> dict[str, Any]:
    return {"value": value, "text": {"type": "plain_text", "text": text}, **fields}


DATA = 'data-action-id="{action}" data-block-id="{block}" data-type="{type}"'

BLOCKS: list[tuple[str, dict[str, Any], str]] = [
    (
        "section text",
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Hi* <@U1>"}},
        '<div class="bk-section"><div class="bk-section-body"><div class="bk-text"><b>Hi</b> '
        '<span class="mention">@Ann</span></div></div></div>',
    ),
    (
        "section fields",
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": "*When*"}, {"type": "plain_text", "text": "Now & then"}],
        },
        '<div class="bk-section"><div class="bk-section-body"><div class="bk-fields"><div class="bk-field"><b>When</b>'
        '</div><div class="bk-field">Now &amp; then</div></div></div></div>',
    ),
    (
        "section accessory",
        {
            "type": "section",
            "block_id": "b1",
            "text": {"type": "plain_text", "text": "Pick"},
            "accessory": button(value="v"),
        },
        '<div class="bk-section"><div class="bk-section-body"><div class="bk-text">Pick</div></div>'
        '<div class="bk-accessory"><button type="button" class="btn" data-action-id="go" data-block-id="b1" '
        'data-type="button" data-value="v">Go</button></div></div>',
    ),
    (
        "context",
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "_small_"},
                {"type": "plain_text", "text": "*plain*"},
                {"type": "image", "image_url": "https://x.test/i.png", "alt_text": 'a "pic"'},
            ],
        },
        '<div class="bk-context"><span class="bk-context-text"><i>small</i></span>'
        '<span class="bk-context-text">*plain*</span>'
        '<img class="bk-context-image" src="https://x.test/i.png" alt="a &quot;pic&quot;"></div>',
    ),
    (
        "header",
        {"type": "header", "text": {"type": "plain_text", "text": "Your <calendars> :spiral_calendar_pad:"}},
        '<div class="bk-header">Your &lt;calendars&gt; 🗓️</div>',
    ),
    ("divider", {"type": "divider"}, '<hr class="bk-divider">'),
    (
        "image block",
        {
            "type": "image",
            "image_url": "https://x.test/a.png?x=1&y=2",
            "alt_text": "chart",
            "title": {"type": "plain_text", "text": "Q<1>"},
        },
        '<figure class="bk-image"><img class="bk-image-img" src="https://x.test/a.png?x=1&amp;y=2" alt="chart">'
        "<figcaption>Q&lt;1&gt;</figcaption></figure>",
    ),
    (
        "image block, unsafe src",
        {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "<chart>"},
        '<figure class="bk-image"><span class="bk-image-img bk-image-missing">&lt;chart&gt;</span></figure>',
    ),
    (
        "actions",
        {"type": "actions", "elements": [button(), button(action_id="two", style="danger")]},
        '<div class="bk-actions"><button type="button" class="btn" data-action-id="go" data-block-id="" '
        'data-type="button">Go</button><button type="button" class="btn btn-danger" data-action-id="two" '
        'data-block-id="" data-type="button">Go</button></div>',
    ),
    (
        "input",
        {
            "type": "input",
            "block_id": "in",
            "label": {"type": "plain_text", "text": "When?"},
            "element": {"type": "timepicker", "action_id": "t", "initial_time": "09:30"},
            "hint": {"type": "plain_text", "text": "Your time"},
        },
        '<div class="bk-input"><div class="bk-input-label">When?</div><input type="time" class="bk-timepicker" '
        'value="09:30" data-action-id="t" data-block-id="in" data-type="timepicker">'
        '<div class="bk-input-hint">Your time</div></div>',
    ),
    (
        "unsupported",
        {"type": "rich_text", "elements": []},
        '<div class="bk-unsupported">unsupported block: rich_text</div>',
    ),
    (
        "unsupported, hostile type",
        {"type": "<script>x</script>"},
        '<div class="bk-unsupported">unsupported block: &lt;script&gt;x&lt;/script&gt;</div>',
    ),
    ("no type", {}, '<div class="bk-unsupported">unsupported block: None</div>'),
]


@pytest.mark.parametrize(("block", "expected"), [(b, e) for _, b, e in BLOCKS], ids=[n for n, _, _ in BLOCKS])
def test_block(block: dict[str, Any], expected: str) -> None:
    html = render_blocks([block], users=USERS)
    assert html == expected
    parse(html)


ELEMENTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "button",
        button(value="evt_1"),
        f'<button type="button" class="btn" {DATA.format(action="go", block="blk", type="button")} '
        'data-value="evt_1">Go</button>',
    ),
    (
        "button, primary",
        button(style="primary", value="1"),
        f'<button type="button" class="btn btn-primary" {DATA.format(action="go", block="blk", type="button")} '
        'data-value="1">Go</button>',
    ),
    (
        "button, danger",
        button(style="danger"),
        f'<button type="button" class="btn btn-danger" {DATA.format(action="go", block="blk", type="button")}>'
        "Go</button>",
    ),
    (
        "button, unknown style",
        button(style="fancy"),
        f'<button type="button" class="btn" {DATA.format(action="go", block="blk", type="button")}>Go</button>',
    ),
    (
        "button, empty value is still a value",
        button(value=""),
        f'<button type="button" class="btn" {DATA.format(action="go", block="blk", type="button")} '
        'data-value="">Go</button>',
    ),
    (
        "button, hostile values",
        button(action_id='a"><script>', value="<v&'>", text={"type": "plain_text", "text": "<b>x</b> :x:"}),
        '<button type="button" class="btn" data-action-id="a&quot;&gt;&lt;script&gt;" data-block-id="blk" '
        'data-type="button" data-value="&lt;v&amp;&#x27;&gt;">&lt;b&gt;x&lt;/b&gt; ❌</button>',
    ),
    (
        "url button",
        button(url="https://x.test/connect?a=1&b=2", style="primary"),
        '<a class="btn btn-primary" href="https://x.test/connect?a=1&amp;b=2" target="_blank" '
        f'rel="noopener noreferrer" {DATA.format(action="go", block="blk", type="button")}>Go</a>',
    ),
    (
        "url button, unsafe url",
        button(url="javascript:alert(1)"),
        f'<button type="button" class="btn" {DATA.format(action="go", block="blk", type="button")}>Go</button>',
    ),
    (
        "static_select",
        {
            "type": "static_select",
            "action_id": "rule",
            "options": [option("a", "All"), option("b", "B & <c>")],
            "initial_option": option("b", "B & <c>"),
        },
        f'<select class="bk-select" {DATA.format(action="rule", block="blk", type="static_select")}>'
        '<option value="a">All</option><option value="b" selected>B &amp; &lt;c&gt;</option></select>',
    ),
    (
        "static_select, placeholder and groups",
        {
            "type": "static_select",
            "action_id": "s",
            "placeholder": {"type": "plain_text", "text": "Choose"},
            "option_groups": [{"label": {"type": "plain_text", "text": "G<1>"}, "options": [option("x", "X")]}],
        },
        f'<select class="bk-select" {DATA.format(action="s", block="blk", type="static_select")}>'
        '<option value="" selected disabled>Choose</option><optgroup label="G&lt;1&gt;">'
        '<option value="x">X</option></optgroup></select>',
    ),
    (
        "checkboxes",
        {
            "type": "checkboxes",
            "action_id": "c",
            "options": [
                option("one", "One"),
                {
                    "value": "two",
                    "text": {"type": "mrkdwn", "text": "*Two*"},
                    "description": {"type": "mrkdwn", "text": "_why_"},
                },
            ],
            "initial_options": [option("two", "Two")],
        },
        f'<div class="bk-checkboxes" {DATA.format(action="c", block="blk", type="checkboxes")}>'
        '<label class="bk-checkbox"><input type="checkbox" value="one"><span class="bk-option-text">One</span></label>'
        '<label class="bk-checkbox"><input type="checkbox" value="two" checked><span class="bk-option-text"><b>Two</b>'
        '</span><span class="bk-option-description"><i>why</i></span></label></div>',
    ),
    (
        "radio_buttons",
        {"type": "radio_buttons", "action_id": "r", "options": [option("1", "A")], "initial_option": option("1", "A")},
        f'<div class="bk-radio-buttons" {DATA.format(action="r", block="blk", type="radio_buttons")}>'
        '<label class="bk-radio"><input type="radio" name="blk/r" value="1" checked>'
        '<span class="bk-option-text">A</span></label></div>',
    ),
    (
        "timepicker",
        {
            "type": "timepicker",
            "action_id": "t",
            "initial_time": "08:00",
            "placeholder": {"type": "plain_text", "text": 'Agenda "time"'},
        },
        '<input type="time" class="bk-timepicker" value="08:00" aria-label="Agenda &quot;time&quot;" '
        f"{DATA.format(action='t', block='blk', type='timepicker')}>",
    ),
    (
        "timepicker, no initial time",
        {"type": "timepicker", "action_id": "t"},
        f'<input type="time" class="bk-timepicker" {DATA.format(action="t", block="blk", type="timepicker")}>',
    ),
    (
        "overflow",
        {"type": "overflow", "action_id": "o", "options": [option("del", "Delete")]},
        f'<select class="bk-overflow" {DATA.format(action="o", block="blk", type="overflow")}>'
        '<option value="" selected>⋯</option><option value="del">Delete</option></select>',
    ),
    (
        "datepicker",
        {"type": "datepicker", "action_id": "d", "initial_date": "2024-05-01"},
        '<input type="date" class="bk-datepicker" value="2024-05-01" '
        f"{DATA.format(action='d', block='blk', type='datepicker')}>",
    ),
    (
        "plain_text_input",
        {"type": "plain_text_input", "action_id": "p", "initial_value": 'a"b'},
        '<input type="text" class="bk-text-input" value="a&quot;b" '
        f"{DATA.format(action='p', block='blk', type='plain_text_input')}>",
    ),
    (
        "plain_text_input, multiline",
        {"type": "plain_text_input", "action_id": "p", "multiline": True, "initial_value": "</textarea><b>"},
        f'<textarea class="bk-text-input" {DATA.format(action="p", block="blk", type="plain_text_input")}>'
        "&lt;/textarea&gt;&lt;b&gt;</textarea>",
    ),
    (
        "image",
        {"type": "image", "image_url": "http://x.test/i.png", "alt_text": "i"},
        '<img class="bk-image-element" src="http://x.test/i.png" alt="i">',
    ),
    (
        "image, data url",
        {"type": "image", "image_url": "data:image/png;base64,xx", "alt_text": "i"},
        '<span class="bk-image-element bk-image-missing">i</span>',
    ),
    (
        "unsupported",
        {"type": "users_select", "action_id": "u"},
        '<span class="bk-unsupported">unsupported element: users_select</span>',
    ),
]


@pytest.mark.parametrize(("element", "expected"), [(e, x) for _, e, x in ELEMENTS], ids=[n for n, _, _ in ELEMENTS])
def test_element_in_actions_block(element: dict[str, Any], expected: str) -> None:
    html = render_blocks([{"type": "actions", "block_id": "blk", "elements": [element]}])
    assert html == f'<div class="bk-actions">{expected}</div>'
    parse(html)


@pytest.mark.parametrize(
    "element",
    [e for _, e, _ in ELEMENTS if e["type"] not in ("image", "users_select")],
    ids=[n for n, e, _ in ELEMENTS if e["type"] not in ("image", "users_select")],
)
@pytest.mark.parametrize(("block_id", "expected"), [("b&1", "b&1"), (None, ""), ("", "")])
def test_every_interactive_element_carries_its_data(
    element: dict[str, Any], block_id: str | None, expected: str
) -> None:
    block: dict[str, Any] = {"type": "actions", "elements": [element]}
    if block_id is not None:
        block["block_id"] = block_id
    tags = parse(render_blocks([block])).tags
    carriers = [attrs for _, attrs in tags if "data-action-id" in attrs]
    assert len(carriers) == 1
    assert carriers[0]["data-action-id"] == element["action_id"]
    assert carriers[0]["data-block-id"] == expected
    assert carriers[0]["data-type"] == element["type"]
    assert carriers[0].get("data-value") == element.get("value")


def test_accessory_and_input_elements_get_the_block_id() -> None:
    blocks = [
        {
            "type": "section",
            "block_id": "sec",
            "text": {"type": "mrkdwn", "text": "x"},
            "accessory": {"type": "overflow", "action_id": "o", "options": [option("1", "One")]},
        },
        {
            "type": "input",
            "block_id": "inp",
            "label": {"type": "plain_text", "text": "L"},
            "element": {"type": "checkboxes", "action_id": "c", "options": [option("1", "One")]},
        },
    ]
    page = parse(render_blocks(blocks))
    assert page.find("select", data_action_id="o", data_block_id="sec", data_type="overflow")
    assert page.find("div", data_action_id="c", data_block_id="inp", data_type="checkboxes")


def test_blocks_are_joined_one_per_line_and_deterministic() -> None:
    blocks = [{"type": "divider"}, {"type": "header", "text": {"type": "plain_text", "text": "H"}}]
    html = render_blocks(blocks)
    assert html == '<hr class="bk-divider">\n<div class="bk-header">H</div>'
    assert render_blocks(blocks) == html
    assert render_blocks([]) == ""


# The emoji table and the date tokens stay in step with the app and slack.js.

SPHINX_ROLES = {"func", "class", "meth", "attr", "mod", "data", "const", "exc", "obj"}


def test_every_shortcode_the_app_uses_has_an_emoji() -> None:
    used = set()
    for folder in ("words", "blocks"):
        for path in (ROOT / "slackbot" / folder).rglob("*.py"):
            used |= set(re.findall(r":([a-z0-9_+-]+):", path.read_text(encoding="utf-8")))
    used -= SPHINX_ROLES
    assert used, "no shortcodes found: has the app moved?"
    assert sorted(used - EMOJI.keys()) == []


def test_emoji_are_single_pictographs() -> None:
    for name, char in EMOJI.items():
        assert len(char.removesuffix("\N{VARIATION SELECTOR-16}")) == 1, name
        assert mrkdwn_to_html(f":{name}:") == char


def test_slack_js_knows_every_date_format() -> None:
    script = SLACK_JS.read_text(encoding="utf-8")
    documented = {
        "{date_num}",
        "{date}",
        "{date_short}",
        "{date_long}",
        "{date_pretty}",
        "{date_short_pretty}",
        "{date_long_pretty}",
        "{day_divider_pretty}",
        "{time}",
        "{time_secs}",
    }
    assert documented == DATE_FORMATS
    for token in DATE_FORMATS:
        assert re.search(rf"\b{token.strip('{}')}: \(\) =>", script), token
    assert "fetch(" not in script and "import " not in script and "http" not in script


UNSTYLED = {  # plain containers, or styled by the element's own look
    "bk-text",
    "bk-field",
    "bk-accessory",
    "bk-image-element",
    "bk-image-missing",
    "bk-select",
    "bk-overflow",
    "bk-checkbox",
    "bk-radio",
    "bk-option-text",
    "bk-timepicker",
    "bk-datepicker",
    "bk-text-input",
    "bk-context-text",
    "slack-date",
}


def test_stylesheet_covers_the_classes_used() -> None:
    blocks = [b for _, b, _ in BLOCKS] + [{"type": "actions", "elements": [e for _, e, _ in ELEMENTS]}]
    html = render_blocks(blocks) + mrkdwn_to_html("<@U1> <!date^1^{time}|t>")
    classes = {name for _, attrs in parse(html).tags for name in (attrs.get("class") or "").split()}
    assert {"btn", "btn-primary", "btn-danger", "bk-fields", "bk-unsupported", "mention"} <= classes
    styled = set(re.findall(r"\.([\w-]+)", blockkit_html.STYLESHEET))
    assert sorted(classes - styled - UNSTYLED) == []


# The app's own messages, end to end.

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
EVENT_ID = "3f1b2c4d-0000-4000-8000-00000000abcd"
HOSTILE = "<script>alert(1)</script> <!channel>"


def facts(**overrides: Any) -> MeetingFacts:
    base: dict[str, Any] = {
        "title": "Quarterly planning",
        "start_time": START,
        "end_time": START + timedelta(minutes=30),
        "meeting_url": "https://zoom.us/j/123",
        "meeting_platform": "zoom",
        "organizer": "ceo@example.com",
        "is_deleted": False,
        "self_response": "accepted",
        "series_id": None,
    }
    base.update(overrides)
    return MeetingFacts(**base)


def test_meeting_message_end_to_end() -> None:
    meeting = facts(title=HOSTILE, organizer="<@U1> & friends")
    message = meeting_message(meeting, decide(meeting, choice=None, covered_by=(), now=NOW), event_id=EVENT_ID)
    html = render_blocks(message.blocks, users=USERS)
    page = parse(html)
    text = "".join(page.text)

    assert HOSTILE in text  # the title, as text
    assert "<@U1> & friends" in text
    assert "<b>&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;</b>" in html
    assert 'class="mention"' not in html
    assert page.find("time", **{"class": "slack-date"}, data_epoch=str(int(START.timestamp())))
    dates = [attrs for tag, attrs in page.tags if tag == "time"]
    assert [d["data-format"] for d in dates] == ["{date_short_pretty} at {time}", "{time}"]
    assert all(fmt in DATE_FORMATS for d in dates for fmt in re.findall(r"\{\w+\}", d["data-format"] or ""))

    schedule = page.find("button", data_action_id=ActionId.SCHEDULE_BOT.value)
    assert schedule == [
        {
            "type": "button",
            "class": "btn btn-primary",
            "data-action-id": "schedule_bot",
            "data-block-id": BlockId.MEETING_ACTIONS.value,
            "data-type": "button",
            "data-value": EVENT_ID,
        }
    ]
    skip = page.find("button", data_action_id=ActionId.SKIP_BOT.value)
    assert skip and skip[0]["class"] == "btn" and skip[0]["data-value"] == EVENT_ID
    assert "bk-unsupported" not in html
    assert "❔" in text  # :grey_question: Bot not scheduled


def test_agenda_connect_and_home_end_to_end() -> None:
    """Everything the app's builders use renders: selects, checkboxes, a timepicker, URL buttons, headers."""
    meeting = facts(title="Standup_daily_sync *now*", series_id="s1")
    row = Row("evt_1", meeting, decide(meeting, choice=None, covered_by=(), now=NOW))
    agenda = agenda_message(day=date(2024, 5, 1), rows=[row])
    connect = connect_links([ConnectLink("google", "Google", "https://accounts.google.test/o?x=1&y=2")])
    home = home_view(
        connections=[],
        available=[("google", "Google"), ("microsoft", "Microsoft")],
        connected_providers={"google"},
        rules=RulesView(own=Rule(RuleKind.ALL), workspace=None, keywords=("1:1",)),
        admin=PolicyView(
            rule=None,
            keywords=(),
            domains=("example.com",),
            enforce_external=True,
            bot_name="Notetaker",
            bot_name_is_default=True,
        ),
        attention=AttentionView(notify="each", agenda_minute=9 * 60, remind=True),
        upcoming=[(date(2024, 5, 1), [row])],
    )
    for blocks in (agenda.blocks, connect.blocks, home["blocks"]):
        html = render_blocks(blocks)
        assert "bk-unsupported" not in html
        parse(html)

    html = render_blocks(agenda.blocks)
    assert "<b>Standup_daily_sync *now</b>*" in html  # underscores inside words stay; the inner * never closes
    page = parse(render_blocks(connect.blocks))
    [link] = page.find("a", data_type="button")
    assert link["href"] == "https://accounts.google.test/o?x=1&y=2"
    assert link["data-action-id"] == f"{ActionId.OPEN_CONNECT_LINK}:google"
    assert link["data-block-id"] == BlockId.CONNECT_BUTTONS.value
    assert link["class"] == "btn btn-primary"

    page = parse(render_blocks(home["blocks"]))
    assert page.find("select", data_action_id=ActionId.HOME_RULE.value, data_block_id=BlockId.HOME_RULE.value)
    assert page.find("option", value=RuleKind.ALL.value, selected=None)
    assert page.find("option", value="external", selected=None)  # the admin's enforcement select
    assert page.find("div", data_action_id=ActionId.HOME_ATTENTION.value, data_type="checkboxes")
    assert len(page.find("input", type="checkbox")) == 3  # accepted only; agenda and reminders
    assert [box["value"] for box in page.find("input", type="checkbox", checked=None)] == ["agenda", "remind"]
    assert page.find("input", type="time", value="09:00", data_action_id=ActionId.HOME_AGENDA_TIME.value)
    assert page.find("button", data_action_id=f"{ActionId.HOME_CONNECT}:google", data_value="google")


# slack.js under Node, DOM-free.

NODE = shutil.which("node")

HARNESS = """
globalThis.window = globalThis;
require(%(path)s);
const cases = %(cases)s;
const out = cases.map(([epoch, format, now, zone, locale]) => formatSlackDate(epoch, format, now, zone, locale));
const iso = %(iso)s.map(([epoch, zone]) => slackDateISO(epoch, zone));
function element(epoch, text) {
  const attrs = {"data-epoch": epoch, "data-format": "{date_num}"};
  return {
    textContent: text,
    attrs,
    getAttribute: (name) => (name in attrs ? attrs[name] : null),
    setAttribute: (name, value) => { attrs[name] = String(value); },
  };
}
const nodes = [element("1714557600", "fallback 1"), element("soon", "fallback 2"), element("", "fallback 3")];
const rendered = renderSlackDates({querySelectorAll: (selector) => (selector === "time.slack-date" ? nodes : [])});
process.stdout.write(JSON.stringify({
  out, iso, rendered, texts: nodes.map((n) => n.textContent), titles: nodes.map((n) => n.attrs.title || null),
  invalid: formatSlackDate(Number("x"), "{time}"),
}));
"""

EPOCH = 1714536000  # 2024-05-01 04:00 UTC = 2024-04-30 21:00 in Los Angeles
NOW_MS = int(NOW.timestamp() * 1000)  # 2024-05-01 08:00 UTC = 01:00 in Los Angeles

NODE_CASES = [
    (EPOCH, "{date_num}", NOW_MS, "UTC", "en-US", "2024-05-01"),
    (EPOCH, "{date_num}", NOW_MS, "America/Los_Angeles", "en-US", "2024-04-30"),
    (EPOCH, "{date_short_pretty} at {time}", NOW_MS, "UTC", "en-US", "Today at 4:00 AM"),
    (EPOCH, "{date_short_pretty} at {time}", NOW_MS, "America/Los_Angeles", "en-US", "Yesterday at 9:00 PM"),
    (EPOCH + 86400, "{date_pretty}", NOW_MS, "UTC", "en-US", "Tomorrow"),
    (EPOCH, "{date_long}", NOW_MS, "UTC", "en-US", "Wednesday, May 1st, 2024"),
    (EPOCH, "{date_long}", NOW_MS, "America/Los_Angeles", "en-US", "Tuesday, April 30th, 2024"),
    (EPOCH, "{date}", NOW_MS, "UTC", "en-US", "May 1st, 2024"),
    (EPOCH, "{date_short}", NOW_MS, "UTC", "en-US", "May 1, 2024"),
    (EPOCH + 10 * 86400, "{date_short_pretty}", NOW_MS, "UTC", "en-US", "May 11"),
    (EPOCH - 366 * 86400, "{date_short_pretty}", NOW_MS, "UTC", "en-US", "May 1, 2023"),
    (EPOCH + 2 * 86400, "{date_long_pretty}", NOW_MS, "UTC", "en-US", "Friday, May 3rd, 2024"),
    (EPOCH + 21 * 86400, "{day_divider_pretty}", NOW_MS, "UTC", "en-US", "Wednesday, May 22nd"),
    (EPOCH + 11 * 86400, "{date}", NOW_MS, "UTC", "en-US", "May 12th, 2024"),
    (EPOCH + 42, "{time_secs}", NOW_MS, "UTC", "en-US", "4:00:42 AM"),
    (EPOCH, "{time}", NOW_MS, "UTC", "en-GB", "04:00"),
    (EPOCH + 42, "{time_secs}", NOW_MS, "America/Los_Angeles", "de-DE", "21:00:42"),
    (EPOCH, "{date_long}", NOW_MS, "UTC", "de-DE", "Mittwoch, 1. Mai 2024"),
    (EPOCH, "{date_pretty}", NOW_MS, "UTC", "de-DE", "Heute"),
    (EPOCH, "at {time} {unknown} {date_num}", NOW_MS, "UTC", "en-US", "at 4:00 AM {unknown} 2024-05-01"),
]


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_slack_js_date_tokens_under_node() -> None:
    assert NODE is not None
    script = HARNESS % {
        "path": json.dumps(str(SLACK_JS)),
        "cases": json.dumps([case[:5] for case in NODE_CASES]),
        "iso": json.dumps([[EPOCH, "UTC"], [EPOCH, "America/Los_Angeles"], [EPOCH, "Asia/Kolkata"]]),
    }
    env = {**os.environ, "TZ": "UTC"}  # the viewer's zone, for renderSlackDates
    result = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=60, check=True, env=env)
    got = json.loads(result.stdout)
    assert got["out"] == [case[5] for case in NODE_CASES]
    assert got["iso"] == ["2024-05-01T04:00:00+00:00", "2024-04-30T21:00:00-07:00", "2024-05-01T09:30:00+05:30"]
    assert got["rendered"] == 1
    assert got["texts"][1:] == ["fallback 2", "fallback 3"]  # not a number: the fallback stays
    assert got["texts"][0] == "2024-05-01"
    assert got["titles"] == ["2024-05-01T10:00:00+00:00", None, None]
    assert got["invalid"] is None
