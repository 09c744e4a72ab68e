"""The demo page: plain server-rendered HTML (the Slack parts from the exact Block Kit the app sent) and the
fragments the page's script refreshes. Every piece of text is escaped; Slack content goes through
``blockkit_html``, which escapes as Slack renders (a meeting titled ``<script>`` shows as text)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from slackbot.demo.blockkit_html import mrkdwn_to_html, render_blocks
from slackbot.demo.controller import BOT_STEPS, DemoController
from slackbot.demo.world import APP_NAME, MEMBERS, TEAM_NAME, Member

USERS: Mapping[str, str] = {m.user_id: m.real_name for m in MEMBERS}
TABS = ("messages", "home")


def _when(epoch: float, fmt: str = "{time}") -> str:
    """A time the page's script shows in the viewer's zone (a Slack date token, as Slack's clients do)."""
    fallback = datetime.fromtimestamp(epoch).strftime("%H:%M")
    return f'<time class="slack-date" data-epoch="{int(epoch)}" data-format="{escape(fmt)}">{escape(fallback)}</time>'


def _slack_content(text: str, blocks: list[dict[str, Any]] | None) -> str:
    if blocks:
        return render_blocks(blocks, users=USERS)
    return f'<div class="mrkdwn">{mrkdwn_to_html(text, users=USERS)}</div>'


def messages_html(controller: DemoController, member: Member) -> str:
    """The member's DM with the app: the app's messages as they stand now, and the replies only they see."""
    entries: list[tuple[float, str]] = []
    for message in controller.messages(member):
        edited = ' <span class="edited">(edited)</span>' if message.edits else ""
        entries.append(
            (
                float(message.ts),
                f'<article class="msg" data-surface="message" data-channel="{escape(message.channel)}" '
                f'data-ts="{escape(message.ts)}">'
                f'<header><span class="avatar">R</span><b>{escape(APP_NAME)}</b> <span class="tag">APP</span> '
                f"{_when(float(message.ts))}{edited}</header>"
                f"{_slack_content(message.text, message.blocks)}</article>",
            )
        )
    for said in controller.ephemerals(member):
        entries.append(
            (
                said.at,
                '<article class="msg ephemeral" data-surface="ephemeral">'
                f'<header><span class="avatar">R</span><b>{escape(APP_NAME)}</b> <span class="tag">APP</span> '
                f'{_when(said.at)} <span class="only-you">Only visible to you</span></header>'
                f"{_slack_content(said.text, said.blocks)}</article>",
            )
        )
    if not entries:
        return (
            '<p class="empty">No messages yet. Type <code>/recall connect</code> below to connect a calendar, '
            "or <code>/recall help</code>.</p>"
        )
    return "".join(html for _, html in sorted(entries, key=lambda entry: entry[0]))


def home_html(controller: DemoController, member: Member) -> str:
    view = controller.home(member)
    if view is None:
        return '<p class="empty">The app has not published a Home tab for you yet.</p>'
    return f'<div data-surface="home">{render_blocks(view.get("blocks") or [], users=USERS)}</div>'


def _event_when(event: Mapping[str, Any], tz: ZoneInfo) -> str:
    start = datetime.fromisoformat(event["start_time"]).astimezone(tz)
    end = datetime.fromisoformat(event["end_time"]).astimezone(tz)
    return f"{start:%a %d %b %H:%M}–{end:%H:%M}"


def _button(label: str, fields: Mapping[str, str], *, kind: str = "calendar", style: str = "") -> str:
    data = "".join(f' data-{escape(k)}="{escape(v)}"' for k, v in fields.items())
    css = f"mini {style}".strip()
    return f'<button type="button" class="{css}" data-demo="{kind}"{data}>{escape(label)}</button>'


def calendar_html(controller: DemoController, member: Member) -> str:
    """The stand-in calendar: what Recall sees of the member's calendar, and the changes a person would make."""
    calendar = controller.calendar_of(member)
    if calendar is None:
        return (
            '<p class="empty">No calendar connected. Type <code>/recall connect</code> in the DM and follow the '
            "link: the stand-in Google sign-in fills this calendar with a sample week.</p>"
        )
    tz = ZoneInfo(member.tz)
    rows = []
    for event in controller.events_of(member):
        event_id = str(event["id"])
        declined = _self_declined(event)
        link = event.get("meeting_url") or ""
        bot = controller.bot_for(event_id)
        actions = [
            _button("+30 min", {"op": "move", "event-id": event_id, "minutes": "30"}),
            _button("−30 min", {"op": "move", "event-id": event_id, "minutes": "-30"}),
            _button("Rename", {"op": "rename", "event-id": event_id, "title": _title(event)}),
            _button("Decline", {"op": "decline", "event-id": event_id}),
            _button("Cancel", {"op": "cancel", "event-id": event_id}, style="danger"),
        ]
        bot_row = ""
        if bot is not None:
            steps = "".join(
                _button(label, {"step": step, "event-id": event_id}, kind="bot")
                for step, (label, _, _) in BOT_STEPS.items()
            )
            bot_row = f'<div class="bot-row"><span class="bot-label">Play the bot (Recall):</span>{steps}</div>'
        rows.append(
            f'<li class="event{" declined" if declined else ""}" data-event-id="{escape(event_id)}">'
            f'<div class="event-title">{escape(_title(event))}</div>'
            f'<div class="event-when">{escape(_event_when(event, tz))} · '
            f"{escape(link) if link else 'no video link'}{' · declined' if declined else ''}</div>"
            f'<div class="event-actions">{"".join(actions)}</div>{bot_row}</li>'
        )
    add = (
        '<form class="add-event" data-demo="add">'
        '<input name="title" placeholder="New meeting title" maxlength="200" required>'
        '<label>in <input name="in_minutes" type="number" value="60" min="1" max="20160"> min</label>'
        '<button type="submit" class="mini">Add meeting</button></form>'
    )
    status = escape(str(calendar.get("status") or ""))
    email = escape(str(calendar.get("oauth_email") or ""))
    return (
        f'<p class="cal-status">Google Calendar · {email} · {status}</p>'
        f'<ul class="events">{"".join(rows) or "<li class=empty>No meetings.</li>"}</ul>{add}'
    )


def _title(event: Mapping[str, Any]) -> str:
    raw = event.get("raw") or {}
    return str(raw.get("summary") or raw.get("subject") or "(no title)")


def _self_declined(event: Mapping[str, Any]) -> bool:
    raw = event.get("raw") or {}
    for attendee in raw.get("attendees") or []:
        if isinstance(attendee, Mapping) and attendee.get("self") and attendee.get("responseStatus") == "declined":
            return True
    return False


def state(controller: DemoController, member: Member) -> dict[str, str]:
    return {
        "messages": messages_html(controller, member),
        "home": home_html(controller, member),
        "calendar": calendar_html(controller, member),
    }


def _member_options(current: Member) -> Iterable[str]:
    for m in MEMBERS:
        selected = " selected" if m == current else ""
        admin = " (admin)" if m.is_admin else ""
        yield f'<option value="{escape(m.user_id)}"{selected}>{escape(m.real_name)}{admin} · {escape(m.tz)}</option>'


def page(controller: DemoController, member: Member, tab: str) -> str:
    tab = tab if tab in TABS else "messages"
    fragments = state(controller, member)
    home_link = "?" + urlencode({"member": member.user_id, "tab": "home"})
    messages_link = "?" + urlencode({"member": member.user_id, "tab": "messages"})
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(APP_NAME)} · demo workspace</title>
<link rel="stylesheet" href="/static/demo.css">
<script src="/static/slack.js" defer></script>
<script src="/static/demo.js" defer></script>
</head>
<body data-member="{escape(member.user_id)}" data-tab="{escape(tab)}" data-tz="{escape(member.tz)}">
<header class="topbar">
  <span class="workspace">{escape(TEAM_NAME)}</span>
  <label class="switch">Viewing Slack as
    <select id="member-switch" aria-label="Member">{"".join(_member_options(member))}</select>
  </label>
  <span class="note">A local demo: Slack, Recall and Google are stand-ins on this machine.</span>
</header>
<div class="layout">
  <nav class="sidebar">
    <div class="sidebar-title">Apps</div>
    <div class="app-entry"><span class="avatar">R</span>{escape(APP_NAME)}</div>
  </nav>
  <main class="channel">
    <div class="channel-head">
      <h1><span class="avatar">R</span>{escape(APP_NAME)}</h1>
      <nav class="tabs">
        <a href="{escape(home_link)}" data-tab="home" class="tab{" active" if tab == "home" else ""}">Home</a>
        <a href="{escape(messages_link)}" data-tab="messages"
           class="tab{" active" if tab == "messages" else ""}">Messages</a>
      </nav>
    </div>
    <p id="error" class="error" role="alert" hidden></p>
    <section id="messages" class="pane" aria-label="Messages"{"" if tab == "messages" else " hidden"}>
{fragments["messages"]}
    </section>
    <section id="home" class="pane" aria-label="Home"{"" if tab == "home" else " hidden"}>
{fragments["home"]}
    </section>
    <form id="composer" class="composer"{"" if tab == "messages" else " hidden"}>
      <input name="text" autocomplete="off" placeholder="Message {escape(APP_NAME)} · try /recall help" required>
      <button type="submit">Send</button>
    </form>
  </main>
  <aside class="calendar">
    <h2>{escape(member.first_name)}'s calendar <small>(stand-in for Google Calendar)</small></h2>
    <div id="calendar">
{fragments["calendar"]}
    </div>
  </aside>
</div>
</body>
</html>
"""
