"""A recording bot in the meeting: its status, why it left or couldn't join, its media, and answers to its buttons.

Recall's status codes and sub-codes are open sets (it adds values without notice), so every function here
answers an unknown value with a neutral sentence that names it, never an exception. Bot names, titles and
sub-codes come from outside: they are escaped here, callers pass them raw.
"""

from __future__ import annotations

from datetime import timedelta

from slackbot.words.common import duration
from slackbot.words.markup import escape, truncate

GET_RECORDING_BUTTON = "Get recording"
GET_TRANSCRIPT_BUTTON = "Get transcript"
REMOVE_BOT_BUTTON = "Remove bot"

# When Recall gave the bot no name (its own default is "Meeting Notetaker"); reads well mid-sentence too.
DEFAULT_BOT = "The bot"
TITLE_LIMIT = 150


def _bot(bot_name: str) -> str:
    return escape(truncate(bot_name.strip(), 100)) or DEFAULT_BOT


def _title(title: str) -> str | None:
    return escape(truncate(title.strip(), TITLE_LIMIT)) or None


def _code(code: str) -> str:
    """A Recall code quoted back in a `code` span: short, escaped, and unable to close the span."""
    return escape(truncate(code.strip(), 80)).replace("`", "'")


# --- The bot status line on the meeting's message -------------------------------------------------------------

_NOT_RECORDING_YET = ":white_circle: *{bot} is in the meeting*, not recording yet"
_LEFT = ":checkered_flag: *{bot} has left the meeting*"

_STATUS_LINES = {
    "joining_call": ":hourglass_flowing_sand: *{bot} is joining*",
    "in_waiting_room": ":door: *{bot} is in the waiting room*: admit it",
    "in_call_not_recording": _NOT_RECORDING_YET,
    "recording_permission_allowed": _NOT_RECORDING_YET,
    "recording_permission_denied": ":no_entry: *Recording refused*: {bot} isn't allowed to record",
    "in_call_recording": ":red_circle: *Recording*",
    "call_ended": _LEFT,
    "recording_done": _LEFT,
    "done": _LEFT,
    "analysis_done": _LEFT,
    "analysis_failed": _LEFT,
    "fatal": ":warning: *{bot} couldn't join*",
    "media_expired": ":wastebasket: *Recording expired*",
}


def _status(code: str) -> str:
    """`joining_call`, and the event name `bot.joining_call` too."""
    return code.strip().removeprefix("bot.")


def status_line(code: str, *, bot_name: str) -> str:
    """One short mrkdwn line for the bot's status on the meeting's message."""
    template = _STATUS_LINES.get(_status(code))
    bot = _bot(bot_name)
    if template is None:
        return f":information_source: *{bot}*: status `{_code(code)}`"
    return template.format(bot=bot)


# --- Why it left, couldn't join or couldn't record, and what to do next ----------------------------------------

_ASK_ADMIN = "ask your Slack admin to check the bot's setup in Recall"
_ONE_OFF = "This is usually a one-off. If it keeps happening, tell your Slack admin."
_CHECK_LINK = "Check the meeting link in the calendar invite (Zoom links need the passcode in them)."
_SIGNED_IN_ONLY = (
    "Ask the organiser to let guests join without signing in, or ask your Slack admin to set up a signed-in bot."
)
_ALLOW_REQUESTS = "Ask the host to allow local recording and to let participants request it in their Zoom settings."
_ADMIT_NEXT_TIME = "Next time, admit it as soon as it asks to join (on Google Meet only the host can admit it)."


def _table(*groups: tuple[tuple[str, ...], str | None]) -> dict[str, str | None]:
    table: dict[str, str | None] = {}
    for codes, text in groups:
        for code in codes:
            assert code not in table, code  # a sub-code listed twice would silently lose its first words
            table[code] = text
    return table


# None: a normal end, nothing to explain.
_CALL_ENDED = _table(
    (("call_ended_by_host", "timeout_exceeded_everyone_left"), None),
    (
        ("bot_received_leave_call",),
        "{bot} left because it was asked to from Slack (*Remove bot*, *Skip* or a cancelled meeting).",
    ),
    (("bot_kicked_from_call",), "Someone in the meeting removed {bot}, so the recording stops there."),
    (
        ("bot_kicked_from_waiting_room",),
        "Someone in the meeting turned {bot} away from the waiting room. If you want the meeting recorded, "
        "ask the host to admit it next time.",
    ),
    (
        ("timeout_exceeded_waiting_room",),
        f"Nobody admitted {{bot}} from the waiting room in time, so it gave up. {_ADMIT_NEXT_TIME}",
    ),
    (
        ("call_ended_by_platform_waiting_room_timeout",),
        "Nobody admitted {bot} before the meeting platform's waiting-room limit (10 minutes on Google Meet). "
        f"{_ADMIT_NEXT_TIME}",
    ),
    (
        ("timeout_exceeded_noone_joined",),
        "Nobody else joined the meeting, so {bot} left. If the meeting happened somewhere else, check the link "
        "in the calendar invite.",
    ),
    (
        (
            "timeout_exceeded_only_bots_in_call",
            "timeout_exceeded_only_bots_detected_using_participant_names",
            "timeout_exceeded_only_bots_detected_using_participant_events",
        ),
        "{bot} left because only other bots seemed to be left in the meeting.",
    ),
    (
        ("timeout_exceeded_silence_detected",),
        "{bot} left because the meeting had been silent for a long time, as if only bots were left.",
    ),
    (
        ("call_ended_by_platform_idle",),
        "The meeting platform closed the call because it was idle, so {bot} left.",
    ),
    (
        ("call_ended_by_platform_max_length",),
        "The meeting hit its platform's time limit (40 minutes on a free Zoom account), so the call ended. "
        "A host with a paid account avoids this.",
    ),
    (
        ("timeout_exceeded_in_call_not_recording",),
        "{bot} was in the meeting but never got to record, so it left. On Zoom the host must be in the meeting "
        "and allow recording when it asks.",
    ),
    (
        ("timeout_exceeded_recording_permission_denied",),
        f"{{bot}} wasn't allowed to record, so it left. {_ALLOW_REQUESTS}",
    ),
    (
        ("timeout_exceeded_in_call_recording",),
        "{bot} reached the longest recording it is allowed to make, so it left.",
    ),
    (
        ("timeout_exceeded_max_duration",),
        "{bot} reached Recall's maximum meeting length, so it left.",
    ),
)

_FATAL = _table(
    (("meeting_not_found", "meeting_link_invalid"), f"The meeting link doesn't lead to a meeting. {_CHECK_LINK}"),
    (("meeting_link_expired",), f"The meeting link has expired. {_CHECK_LINK}"),
    (("meeting_password_incorrect",), f"The meeting passcode was wrong. {_CHECK_LINK}"),
    (
        ("zoom_invalid_webinar_invite", "zoom_meeting_not_accessible"),
        f"Zoom wouldn't let {{bot}} into this meeting with its link. {_CHECK_LINK}",
    ),
    (
        ("zoom_invalid_signature",),
        f"Zoom rejected {{bot}}'s join request. {_CHECK_LINK} If the link is right, {_ASK_ADMIN}.",
    ),
    (
        ("webex_join_meeting_error",),
        f"Webex wouldn't let {{bot}} join. Check the meeting link in the calendar invite. If it's right, {_ASK_ADMIN}.",
    ),
    (
        ("meeting_not_started",),
        "The meeting hadn't started when {bot} tried to join. Ask the host to start it on time, or to let "
        "participants join before the host.",
    ),
    (
        ("meeting_ended",),
        "The meeting had already ended when {bot} tried to join. If it moved, update the time in the calendar invite.",
    ),
    (("meeting_locked",), "The host locked the meeting, so {bot} couldn't get in. Ask the host to unlock it."),
    (
        ("meeting_full",),
        "The meeting was full, so {bot} couldn't get in. Ask the host to raise the participant limit.",
    ),
    (
        ("meeting_requires_registration", "zoom_registration_required"),
        "The meeting asks people to register first, which {bot} can't do. Ask the organiser to turn off "
        "registration for this meeting.",
    ),
    (
        ("meeting_requires_sign_in",),
        "Only signed-in users may join this meeting (Zoom's *Only authenticated users can join*), so {bot} "
        f"couldn't get in. {_SIGNED_IN_ONLY}",
    ),
    (
        ("google_meet_sign_in_missing_login_credentials",),
        "This Google Meet only lets people signed in to a Google account join, so {bot} couldn't get in. "
        f"{_SIGNED_IN_ONLY}",
    ),
    (
        ("microsoft_teams_sign_in_credentials_missing",),
        f"This Microsoft Teams meeting only lets signed-in people join, so {{bot}} couldn't get in. {_SIGNED_IN_ONLY}",
    ),
    (
        ("microsoft_teams_captcha_detected",),
        "Microsoft Teams asked {bot} to solve a captcha, which bots can't do. Ask the organiser to let "
        "anonymous guests join without a check, or ask your Slack admin to set up a signed-in bot.",
    ),
    (
        ("microsoft_teams_bot_not_invited",),
        "This Microsoft Teams meeting only admits invited accounts, so {bot} couldn't get in. Ask the organiser "
        "to let people who weren't invited join.",
    ),
    (
        ("microsoft_teams_event_not_started_for_external",),
        "This Microsoft Teams event doesn't let outside guests in before it starts, so {bot} couldn't join. "
        "Ask the organiser to start the event on time, or to let guests in early.",
    ),
    (
        ("zoom_email_required",),
        "Zoom asked {bot} for an email address before joining, which it can't give. Ask the host to turn off "
        "that requirement, or ask your Slack admin to give the bot an email in Recall.",
    ),
    (
        ("zoom_captcha_required",),
        f"Zoom asked {{bot}} to solve a captcha, which bots can't do. {_ONE_OFF}",
    ),
    (
        ("zoom_web_disallowed",),
        "This Zoom meeting uses end-to-end encryption, which keeps bots out. Ask the host to switch it to "
        "enhanced encryption if you want it recorded.",
    ),
    (
        ("zoom_meeting_host_inactive",),
        "The host's Zoom account is disabled or restricted, so bots can't join this meeting. Ask the organiser "
        "to check their Zoom account.",
    ),
    (
        ("zoom_email_blocked_by_admin",),
        "The host's Zoom admin doesn't let {bot}'s account join this meeting. Ask the host to allow it.",
    ),
    (
        (
            "zoom_sdk_credentials_missing",
            "zoom_sdk_app_not_published",
            "zoom_sdk_update_required",
            "zoom_invalid_join_token",
            "zoom_account_blocked",
            "zoom_error_multiple_device_join",
        ),
        f"{{bot}} isn't set up to join this Zoom meeting. Please {_ASK_ADMIN}.",
    ),
    (
        (
            "google_meet_sign_in_failed",
            "google_meet_sign_in_captcha_failed",
            "google_meet_sso_sign_in_failed",
            "google_meet_sign_in_missing_recovery_credentials",
            "google_meet_sso_sign_in_missing_login_credentials",
            "google_meet_sso_sign_in_missing_totp_secret",
        ),
        f"{{bot}} couldn't sign in to Google to join this meeting. Please {_ASK_ADMIN}.",
    ),
    (
        ("google_meet_login_not_available",),
        "Every Google account {bot} signs in with was busy, so it couldn't join. If this happens often, "
        f"{_ASK_ADMIN} (it needs more Google accounts).",
    ),
    (
        ("microsoft_teams_sign_in_failed", "microsoft_teams_2fa_required"),
        f"{{bot}} couldn't sign in to Microsoft Teams to join this meeting. Please {_ASK_ADMIN}.",
    ),
    (
        ("google_meet_bot_blocked",),
        "Google Meet turned {bot} away, often because of words in its name. Ask your Slack admin to try a "
        "different bot name in Recall.",
    ),
    (
        ("google_meet_permission_denied_breakout", "microsoft_teams_breakout_room_unsupported"),
        "{bot} can't follow people into breakout rooms, so it couldn't stay. Keep the part you want recorded in "
        "the main room.",
    ),
    (("bot_errored",), f"{{bot}} ran into an unexpected error, so it couldn't record this meeting. {_ONE_OFF}"),
    (
        (
            "google_meet_internal_error",
            "google_meet_video_error",
            "google_meet_meeting_room_not_ready",
            "zoom_internal_error",
            "zoom_join_timeout",
            "zoom_connection_failed",
            "microsoft_teams_internal_error",
            "microsoft_teams_call_dropped",
        ),
        f"{{bot}} ran into an error on the meeting platform's side, so it couldn't record this meeting. {_ONE_OFF}",
    ),
)

_PERMISSION_DENIED = _table(
    (
        ("zoom_local_recording_disabled",),
        "The host has local recording turned off in their Zoom settings, so {bot} couldn't ask to record. "
        "Ask the host to turn on *Local recording* in their Zoom settings.",
    ),
    (
        ("zoom_local_recording_request_disabled",),
        "The host's Zoom settings don't let participants ask to record, so {bot} couldn't. Ask the host to turn "
        "on *Hosts can give meeting participants permission to record locally* in their Zoom settings.",
    ),
    (
        ("zoom_local_recording_request_disabled_by_host",),
        "The host turned off recording requests in this meeting, so {bot} couldn't ask to record. Ask the host "
        "to let participants request recording.",
    ),
    (
        ("zoom_bot_in_waiting_room",),
        "{bot} is still in the waiting room, where it can't ask to record. Admit it into the meeting.",
    ),
    (
        ("zoom_host_not_present",),
        "The host wasn't in the meeting when {bot} asked to record, so nobody could allow it. Make sure the host "
        "joins, signed in to the Zoom account that created the meeting.",
    ),
    (
        ("zoom_local_recording_request_denied_by_host", "zoom_local_recording_denied"),
        "The host said no when {bot} asked to record, or didn't answer in time. If you want the meeting "
        "recorded, ask the host to click *Allow* when Zoom asks.",
    ),
    (
        ("zoom_local_recording_grant_not_supported",),
        "The host joined from a Zoom Room or an app that can't allow recording. Ask the host to join from the "
        "Zoom desktop app.",
    ),
    (
        ("zoom_sdk_key_blocked_by_host_admin",),
        "The host's Zoom admin blocks recording bots like {bot}. Ask the host's Zoom admin to allow it.",
    ),
)

_GENERIC = {
    "call_ended": "{bot} left the meeting (Recall's reason: `{sub_code}`).",
    "fatal": "{bot} couldn't join the meeting (Recall's reason: `{sub_code}`). If it happens again, tell your "
    "Slack admin.",
    "recording_permission_denied": "{bot} wasn't allowed to record (Recall's reason: `{sub_code}`). " + _ALLOW_REQUESTS,
}

_NO_SUB_CODE = {
    "call_ended": None,
    "fatal": f"{{bot}} couldn't join the meeting. {_CHECK_LINK} If it looks right, tell your Slack admin.",
    "recording_permission_denied": f"The host's Zoom settings blocked recording. {_ALLOW_REQUESTS}",
}

_REASONS = {"call_ended": _CALL_ENDED, "fatal": _FATAL, "recording_permission_denied": _PERMISSION_DENIED}


def why(code: str, sub_code: str | None, *, bot_name: str) -> str | None:
    """The reason, in plain words, and what to do next; None when there is nothing to explain.

    Only `call_ended`, `fatal` and `recording_permission_denied` carry reasons; a normal end (the host ended
    the call, everyone left) has none.
    """
    status = _status(code)
    table = _REASONS.get(status)
    if table is None:
        return None
    bot = _bot(bot_name)
    if not sub_code or not sub_code.strip():
        text = _NO_SUB_CODE[status]
        return text.format(bot=bot) if text else None
    key = sub_code.strip()
    if key in table:
        text = table[key]
        return text.format(bot=bot) if text else None
    return _GENERIC[status].format(bot=bot, sub_code=_code(key))


# --- Direct messages and lines about the media -----------------------------------------------------------------


def waiting_room_alert(title: str, *, bot_name: str) -> str:
    """The DM when the bot waits to be admitted; ``title`` and ``bot_name`` are raw."""
    where = _title(title)
    meeting = f"*{where}*" if where else "your meeting"
    return (
        f":door: *{_bot(bot_name)}* is waiting in the lobby of {meeting}. Admit it from the meeting so it can record."
    )


def recording_ready_line(*, transcript: bool) -> str:
    return ":movie_camera: *Recording and transcript ready*" if transcript else ":movie_camera: *Recording ready*"


def recording_failed_line(sub_code: str | None) -> str:
    reason = f" (Recall's reason: `{_code(sub_code)}`)" if sub_code and sub_code.strip() else ""
    return f":warning: *Recording failed*: Recall couldn't save the recording of this meeting{reason}."


def transcript_failed_line() -> str:
    return ":warning: *Transcript failed*: Recall couldn't make a transcript of this meeting."


def no_recording_line() -> str:
    return (
        ":heavy_minus_sign: *No recording*: the bot left without recording anything (for example, nobody admitted it)."
    )


def recording_expired_line() -> str:
    return ":wastebasket: *Recording expired*: Recall has deleted it, so it's no longer available."


# --- Answers to the Get recording / Get transcript / Remove bot buttons (ephemeral) -------------------------------

BAD_MEDIA_LINK = ":warning: Recall sent a download link I can't share safely. Please try again in a minute."
NOT_YOUR_RECORDING = (
    ":no_entry: That recording belongs to a meeting that isn't on your calendar, so I can't share it with you."
)
MEDIA_NOT_READY = ":hourglass_flowing_sand: Recall is still processing this meeting. Try again in a few minutes."
MEDIA_EXPIRED = (
    ":wastebasket: Recall has deleted this meeting's recording (recordings are kept for a limited time), "
    "so it's no longer available."
)
NO_TRANSCRIPT = ":page_facing_up: This meeting has no transcript: transcription was off, or it failed."
RECALL_UNAVAILABLE_FOR_MEDIA = (
    ":warning: Recall isn't answering right now, so I couldn't get a download link. Please try again in a minute."
)
RECALL_UNAVAILABLE_FOR_REMOVE = (
    ":warning: Recall isn't answering right now, so the bot is still in the meeting. Please try again in a minute."
)
MEDIA_DM_FAILED = (
    ":warning: I couldn't send you the download link just now (Slack didn't take the message). Please try again "
    "in a minute."
)
NO_RECORDING = ":information_source: No bot recorded this meeting, so there's no recording to get."
CHOICE_CLOSED = (
    ":information_source: The bot has already set off for this meeting, so scheduling it can't change any "
    "more. Nothing was changed. While it's in the call, *Remove bot* makes it leave."
)
REMOVE_NOT_YOURS = ":no_entry: Only the member who scheduled this bot can remove it. Nothing was changed."
BOT_ALREADY_GONE = ":information_source: The bot has already left this meeting, so there's nothing to remove."
BOT_NOT_STARTED = (
    ":information_source: The bot isn't in the meeting yet, so there's nothing to remove. "
    "To stop it joining, use *Skip* instead."
)


def _safe_url(url: str) -> bool:
    """Only an absolute http(s) URL that cannot break out of `<url|label>`."""
    if not url.lower().startswith(("https://", "http://")):
        return False
    return not any(c in "|<>" or c.isspace() or not c.isprintable() for c in url)


def _lifetime(expires_minutes: int | None) -> str:
    if expires_minutes is None or expires_minutes <= 0:
        return "a few hours"
    return duration(timedelta(minutes=expires_minutes))


def _media_link(url: str, *, what: str, emoji: str, title: str, expires_minutes: int | None, button: str) -> str:
    if not _safe_url(url):
        return BAD_MEDIA_LINK
    where = _title(title)
    label = f"Download the {what} of *{where}*" if where else f"Download the {what} of this meeting"
    return (
        f"{emoji} <{url}|{label}>. The link works for {_lifetime(expires_minutes)}: "
        f"click *{button}* again for a fresh one."
    )


def recording_link(url: str, *, title: str, expires_minutes: int | None) -> str:
    """The answer to *Get recording*: a short-lived link; ``title`` is raw, ``url`` is checked, never escaped."""
    return _media_link(
        url,
        what="recording",
        emoji=":movie_camera:",
        title=title,
        expires_minutes=expires_minutes,
        button=GET_RECORDING_BUTTON,
    )


def transcript_link(url: str, *, title: str, expires_minutes: int | None) -> str:
    """The answer to *Get transcript*, like :func:`recording_link`."""
    return _media_link(
        url,
        what="transcript",
        emoji=":page_facing_up:",
        title=title,
        expires_minutes=expires_minutes,
        button=GET_TRANSCRIPT_BUTTON,
    )


def bot_removed(bot_name: str) -> str:
    return f":wave: *{_bot(bot_name)}* is leaving the meeting. Anything it recorded so far is kept."


_PLAIN_STATES = {
    "joining_call": "bot joining",
    "in_waiting_room": "bot waiting to be admitted",
    "in_call_not_recording": "bot in the meeting, not recording yet",
    "recording_permission_allowed": "bot in the meeting, not recording yet",
    "recording_permission_denied": "recording refused",
    "in_call_recording": "recording",
    "call_ended": "bot left the meeting",
    "done": "bot left the meeting",
    "fatal": "bot couldn't join",
}


def plain_state(code: str, *, recording_ready: bool) -> str:
    """The message's plain-text fallback (notifications, screen readers)."""
    if recording_ready:
        return "recording ready"
    return _PLAIN_STATES.get(_status(code), "bot status updated")
