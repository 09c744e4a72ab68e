"""Plays Slack's and the calendar's side for the demo page: every click, command and calendar change becomes the
request the real service would send to the app (signed exactly as Slack or Recall signs it).

It drives the stand-ins (``FakeSlack``, ``FakeRecall``) the tests use, and talks to the app over HTTP only, so
the app runs its unchanged code paths.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from slackbot.demo.twins.recall import FakeRecall, sign_webhook
from slackbot.demo.twins.slack import (
    FakeSlack,
    Message,
    app_home_opened_event,
    block_actions_body,
    event_body,
    sign_slack_request,
    slash_command_body,
)
from slackbot.demo.world import (
    MEMBERS,
    TEAM_ID,
    Member,
    member_by_email,
    member_by_id,
    next_half_hour,
    sample_meetings,
)
from slackbot.ids import ActionId

logger = logging.getLogger(__name__)

# What the calendar panel can play once a bot is on a meeting: (label, Recall status codes in order, then the
# recording's webhooks).
BOT_STEPS: Mapping[str, tuple[str, tuple[str, ...], bool]] = {
    "joining": ("Bot joins", ("joining_call",), False),
    "waiting": ("Waiting room", ("in_waiting_room",), False),
    "recording": ("Admitted, recording", ("in_call_not_recording", "in_call_recording"), False),
    "done": ("Meeting ends", ("call_ended", "done"), True),
}
CALENDAR_OPS = frozenset({"add", "move", "rename", "cancel", "decline"})
MAX_TITLE = 200


class DemoError(Exception):
    """A page request the demo cannot carry out; the message is shown to the person at the page."""


@dataclass
class Said:
    """An ephemeral answer (a slash command's reply or a response_url post) shown to one member."""

    user_id: str
    text: str
    blocks: list[dict[str, Any]] | None
    at: float  # Unix time it was first seen: places it among the DMs


@dataclass
class DemoController:
    slack: FakeSlack
    recall: FakeRecall
    app_url: str
    signing_secret: str
    webhook_secret: str
    clock: Any = field(default=lambda: datetime.now(UTC))
    _said: list[Said] = field(default_factory=list)
    _response_names: dict[str, str] = field(default_factory=dict)  # response_url name -> member
    _posts_seen: dict[tuple[str, int], float] = field(default_factory=dict)  # (name, index) -> first seen
    _calendars: dict[str, str] = field(default_factory=dict)  # Recall calendar id -> member
    _signing_in: str | None = None  # the email of the member who last opened a connect link
    _week_start: datetime | None = None  # the sample week's anchor, shared by everyone who connects
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15, trust_env=False))

    # ---- what the page shows -----------------------------------------------------------------------------------

    def messages(self, member: Member) -> list[Message]:
        return self.slack.messages(self.slack.dm_channel(TEAM_ID, member.user_id))

    def ephemerals(self, member: Member) -> list[Said]:
        """Replies only this member sees: slash command answers, response_url posts and chat.postEphemeral."""
        with self._lock:
            said = [s for s in self._said if s.user_id == member.user_id]
            for name, owner in self._response_names.items():
                if owner != member.user_id:
                    continue
                for index, post in enumerate(self.slack.response_posts(name)):
                    if post.delete_original or post.replace_original:
                        continue
                    at = self._posts_seen.setdefault((name, index), self.clock().timestamp())
                    said.append(Said(owner, post.text or "", post.blocks, at))
        for eph in self.slack.ephemerals():
            if eph.user == member.user_id:
                at = self._posts_seen.setdefault((f"ephemeral:{eph.message_ts}", 0), self.clock().timestamp())
                said.append(Said(member.user_id, eph.text, eph.blocks, at))
        return sorted(said, key=lambda s: s.at)

    def offer(self) -> str | None:
        """The account the stand-in Google's consent page offers: the member who opened the connect link."""
        with self._lock:
            return self._signing_in

    def week_start(self) -> datetime:
        """Where the sample week starts: fixed when the first calendar connects, so colleagues share meetings;
        moved on only once its first meeting is past."""
        with self._lock:
            now = self.clock()
            if self._week_start is None or self._week_start + timedelta(hours=1) <= now:
                self._week_start = next_half_hour(now)
            return self._week_start

    def home(self, member: Member) -> dict[str, Any] | None:
        return self.slack.home_view(member.user_id, TEAM_ID)

    def calendar_of(self, member: Member) -> dict[str, Any] | None:
        with self._lock:
            ids = [cid for cid, uid in self._calendars.items() if uid == member.user_id]
        for calendar_id in reversed(ids):
            if self.recall.has_calendar(calendar_id):
                return self.recall.calendar(calendar_id)
        return None

    def events_of(self, member: Member) -> list[dict[str, Any]]:
        calendar = self.calendar_of(member)
        if calendar is None:
            return []
        events = [e for e in self.recall.events(calendar["id"]) if not e.get("is_deleted")]
        return sorted(events, key=lambda e: e["start_time"])

    def bot_for(self, event_id: str) -> dict[str, Any] | None:
        return self.recall.bot_for_event(event_id)

    # ---- Slack's side --------------------------------------------------------------------------------------------

    def _to_app(self, path: str, body: bytes, content_type: str) -> httpx.Response:
        headers = sign_slack_request(self.signing_secret, body) | {"Content-Type": content_type}
        try:
            return self._http.post(f"{self.app_url}{path}", content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DemoError(f"The app did not answer ({type(exc).__name__}). Is it still running?") from exc

    def _response_url(self, member: Member) -> str:
        name = f"{member.user_id}-{next(self._counter)}"
        with self._lock:
            self._response_names[name] = member.user_id
        return self.slack.response_url(name)

    def command(self, member: Member, text: str) -> None:
        """``/recall <text>`` typed in the app's DM: a signed slash command; its reply shown to the member only."""
        text = text.strip()
        if text.startswith("/recall"):
            text = text.removeprefix("/recall").strip()
        body = slash_command_body(
            text=text,
            team_id=TEAM_ID,
            user_id=member.user_id,
            user_name=member.name,
            response_url=self._response_url(member),
        )
        response = self._to_app("/slack/events", body, "application/x-www-form-urlencoded")
        if response.status_code != 200:
            raise DemoError(f"The app answered {response.status_code} to the command.")
        reply = _json_or_none(response)
        if reply is not None and (reply.get("text") or reply.get("blocks")):
            self._remember(member, reply.get("text") or "", reply.get("blocks"))
        elif response.text.strip() and reply is None:
            self._remember(member, response.text.strip(), None)

    def _remember(self, member: Member, text: str, blocks: list[dict[str, Any]] | None) -> None:
        with self._lock:
            self._said.append(Said(member.user_id, text, blocks, self.clock().timestamp()))

    def open_home(self, member: Member) -> None:
        event = app_home_opened_event(team_id=TEAM_ID, user_id=member.user_id)
        workspace = self.slack.workspace(TEAM_ID)
        body = event_body(team_id=TEAM_ID, event=event, bot_user_id=workspace.bot_user_id)
        self._to_app("/slack/events", body, "application/json")

    def act(self, member: Member, fields: Mapping[str, Any]) -> None:
        """A click (or a select, checkbox or time change) in a DM or the Home tab, as a signed block_actions."""
        action = _action(fields)
        if action["action_id"].startswith(ActionId.OPEN_CONNECT_LINK):
            with self._lock:
                self._signing_in = member.email
        surface = str(fields.get("surface") or "")
        if surface == "home":
            view = self.home(member)
            if view is None:
                raise DemoError("The Home tab has not been published yet.")
            body = block_actions_body(
                team_id=TEAM_ID,
                user_id=member.user_id,
                user_name=member.name,
                action_id=action["action_id"],
                value=str(action.get("value", "")),
                view={"id": "V0DEMOHOME1", "type": "home", **view},
                action=action,
            )
        elif surface == "message":
            channel, ts = str(fields.get("channel") or ""), str(fields.get("ts") or "")
            try:
                message = self.slack.message(channel, ts)
            except KeyError:
                raise DemoError("That message is gone.") from None
            if channel != self.slack.dm_channel(TEAM_ID, member.user_id):
                raise DemoError("That message is not in your DM.")
            body = block_actions_body(
                team_id=TEAM_ID,
                user_id=member.user_id,
                user_name=member.name,
                action_id=action["action_id"],
                value=str(action.get("value", "")),
                channel_id=channel,
                message=message.to_slack(),
                response_url=self._response_url(member),
                action=action,
            )
        else:
            raise DemoError("A click comes from a message or the Home tab.")
        response = self._to_app("/slack/events", body, "application/x-www-form-urlencoded")
        if response.status_code != 200:
            raise DemoError(f"The app answered {response.status_code} to the click.")

    # ---- the calendar's side (Recall's webhooks) -----------------------------------------------------------------

    def _webhook(self, payload: dict[str, Any]) -> None:
        body, headers = sign_webhook(payload, secret=self.webhook_secret)
        try:
            response = self._http.post(
                f"{self.app_url}/recall/webhook", content=body, headers=headers | {"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise DemoError(f"The app did not take Recall's webhook ({type(exc).__name__}).") from exc
        if response.status_code >= 300:
            raise DemoError(f"The app answered {response.status_code} to Recall's webhook.")

    def sync(self, calendar_id: str) -> None:
        self._webhook(self.recall.sync_events_payload(calendar_id))

    def adopt_new_calendars(self) -> int:
        """Calendars the app created since the last look: fill each with the member's week and tell the app, as
        Recall's first sync does. Returns how many were new."""
        new = 0
        for calendar in self.recall.calendars():
            with self._lock:
                if calendar["id"] in self._calendars:
                    continue
                member = member_by_email(calendar.get("oauth_email"))
                if member is None:
                    self._calendars[calendar["id"]] = ""
                    continue
                self._calendars[calendar["id"]] = member.user_id
            new += 1
            if calendar["status"] != "connected":
                self.recall.set_calendar_status(calendar["id"], "connected")
            for meeting in sample_meetings(member, self.week_start()):
                self.recall.add_event(
                    calendar["id"],
                    title=meeting.title,
                    start_time=meeting.start_time,
                    end_time=meeting.end_time,
                    meeting_url=meeting.meeting_url,
                    organizer_email=meeting.organizer_email,
                    attendees=[a for a in meeting.attendees if a != member.email],
                    time_zone=member.tz,
                    made_at=meeting.made_at,
                )
            self._webhook(self.recall.calendar_update_payload(calendar["id"]))
            self.sync(calendar["id"])
        return new

    def change_calendar(self, member: Member, fields: Mapping[str, Any]) -> None:
        """Add, move, rename, cancel or decline a meeting in the member's calendar; then the sync webhook."""
        op = str(fields.get("op") or "")
        if op not in CALENDAR_OPS:
            raise DemoError(f"Unknown calendar change {op!r}.")
        calendar = self.calendar_of(member)
        if calendar is None:
            raise DemoError("Connect a calendar first: type /recall connect.")
        if op == "add":
            title = _title(fields.get("title"))
            minutes = _int(fields.get("in_minutes"), low=1, high=60 * 24 * 14, what="Starts in (minutes)")
            start = self.clock().replace(second=0, microsecond=0) + timedelta(minutes=minutes)
            self.recall.add_event(
                calendar["id"],
                title=title,
                start_time=start,
                end_time=start + timedelta(minutes=30),
                attendees=[m.email for m in MEMBERS if m != member][:1],
                time_zone=member.tz,
            )
        else:
            event_id = str(fields.get("event_id") or "")
            event = next((e for e in self.events_of(member) if e["id"] == event_id), None)
            if event is None:
                raise DemoError("That meeting is no longer in the calendar.")
            if op == "move":
                minutes = _int(fields.get("minutes"), low=-60 * 24, high=60 * 24 * 7, what="Move by (minutes)")
                start = datetime.fromisoformat(event["start_time"]) + timedelta(minutes=minutes)
                end = datetime.fromisoformat(event["end_time"]) + timedelta(minutes=minutes)
                self.recall.update_event(event_id, start_time=start, end_time=end)
            elif op == "rename":
                self.recall.update_event(event_id, title=_title(fields.get("title")))
            elif op == "cancel":
                self.recall.delete_event(event_id)
            else:
                self.recall.update_event(event_id, self_response="declined")
        self.sync(calendar["id"])

    def play_bot(self, member: Member, fields: Mapping[str, Any]) -> None:
        """One step of the bot's life on a meeting of the member's calendar, as Recall's webhooks."""
        step = BOT_STEPS.get(str(fields.get("step") or ""))
        if step is None:
            raise DemoError("Unknown bot step.")
        event_id = str(fields.get("event_id") or "")
        if not any(e["id"] == event_id for e in self.events_of(member)):
            raise DemoError("That meeting is no longer in the calendar.")
        bot = self.bot_for(event_id)
        if bot is None:
            raise DemoError("No bot is scheduled for that meeting: click Schedule bot first.")
        _, codes, finishes = step
        payloads = self.recall.play(bot["id"], *codes)
        if finishes:
            try:
                payloads += self.recall.finish_recording(bot["id"])
            except ValueError:  # no recording running: the bot was never admitted, so there is nothing to save
                logger.info("demo.no_recording_to_finish")
        for payload in payloads:
            self._webhook(payload)

    def close(self) -> None:
        self._http.close()


def _json_or_none(response: httpx.Response) -> dict[str, Any] | None:
    if not response.content or "json" not in response.headers.get("content-type", ""):
        return None
    try:
        value = json.loads(response.content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _title(value: Any) -> str:
    title = str(value or "").strip()
    if not title:
        raise DemoError("Give the meeting a title.")
    if len(title) > MAX_TITLE:
        raise DemoError(f"A title has at most {MAX_TITLE} characters.")
    return title


def _int(value: Any, *, low: int, high: int, what: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise DemoError(f"{what}: a whole number, please.") from None
    if not low <= number <= high:
        raise DemoError(f"{what}: between {low} and {high}.")
    return number


def _action(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``actions[0]`` of a block_actions payload, as Slack reports each element type."""
    action_id = str(fields.get("action_id") or "")
    if not action_id:
        raise DemoError("That element has no action id.")
    kind = str(fields.get("type") or "button")
    action: dict[str, Any] = {
        "type": kind,
        "action_id": action_id,
        "block_id": str(fields.get("block_id") or ""),
        "action_ts": f"{datetime.now(UTC).timestamp():.6f}",
    }
    if kind == "button":
        action["text"] = {"type": "plain_text", "text": str(fields.get("text") or "Button"), "emoji": True}
        if fields.get("value") is not None:
            action["value"] = str(fields["value"])
    elif kind in ("static_select", "overflow"):
        option = {
            "text": {"type": "plain_text", "text": str(fields.get("label") or ""), "emoji": True},
            "value": str(fields.get("selected") or ""),
        }
        action["selected_option"] = option
    elif kind == "checkboxes":
        selected = fields.get("selected") or []
        if not isinstance(selected, list):
            raise DemoError("Checkbox values come as a list.")
        action["selected_options"] = [
            {"text": {"type": "plain_text", "text": str(v), "emoji": True}, "value": str(v)} for v in selected
        ]
    elif kind == "timepicker":
        action["selected_time"] = str(fields.get("selected") or "") or None
    else:
        raise DemoError(f"The demo page cannot send a {kind!r} action.")
    return action


def member_from(fields: Mapping[str, Any]) -> Member:
    member = member_by_id(str(fields.get("member") or ""))
    if member is None:
        raise DemoError("Unknown member.")
    return member
