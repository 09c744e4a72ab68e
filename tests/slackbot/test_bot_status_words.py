"""Bot status words: every Recall status and sub-code we know reads as a sentence with a next step; unknown
codes, None and hostile text never raise and never ping anyone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from slackbot.words.bot_status import (
    BAD_MEDIA_LINK,
    BOT_ALREADY_GONE,
    BOT_NOT_STARTED,
    GET_RECORDING_BUTTON,
    GET_TRANSCRIPT_BUTTON,
    MEDIA_EXPIRED,
    MEDIA_NOT_READY,
    NO_TRANSCRIPT,
    NOT_YOUR_RECORDING,
    RECALL_UNAVAILABLE_FOR_MEDIA,
    REMOVE_BOT_BUTTON,
    REMOVE_NOT_YOURS,
    bot_removed,
    no_recording_line,
    recording_expired_line,
    recording_failed_line,
    recording_link,
    recording_ready_line,
    status_line,
    transcript_failed_line,
    transcript_link,
    waiting_room_alert,
    why,
)

BOT = "Acme Notetaker"
HOSTILE = "<!channel> & <https://evil.example|click>"
ESCAPED_HOSTILE = "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"

# The reference's section 1.4 tables (recall-bots.md), plus the rest of Recall's sub-codes page.
NORMAL_ENDS = ["call_ended_by_host", "timeout_exceeded_everyone_left"]
CALL_ENDED = [
    "call_ended_by_platform_idle",
    "call_ended_by_platform_max_length",
    "call_ended_by_platform_waiting_room_timeout",
    "timeout_exceeded_waiting_room",
    "timeout_exceeded_noone_joined",
    "timeout_exceeded_silence_detected",
    "timeout_exceeded_only_bots_detected_using_participant_names",
    "timeout_exceeded_only_bots_detected_using_participant_events",
    "timeout_exceeded_only_bots_in_call",
    "timeout_exceeded_in_call_not_recording",
    "timeout_exceeded_recording_permission_denied",
    "timeout_exceeded_in_call_recording",
    "timeout_exceeded_max_duration",
    "bot_kicked_from_call",
    "bot_kicked_from_waiting_room",
    "bot_received_leave_call",
]
FATAL = [
    "meeting_not_found",
    "meeting_link_invalid",
    "meeting_link_expired",
    "meeting_password_incorrect",
    "meeting_not_started",
    "meeting_ended",
    "meeting_locked",
    "meeting_full",
    "meeting_requires_registration",
    "meeting_requires_sign_in",
    "zoom_sdk_credentials_missing",
    "zoom_sdk_app_not_published",
    "zoom_invalid_signature",
    "zoom_email_required",
    "zoom_registration_required",
    "zoom_captcha_required",
    "zoom_web_disallowed",
    "zoom_join_timeout",
    "zoom_internal_error",
    "zoom_meeting_host_inactive",
    "google_meet_bot_blocked",
    "google_meet_sign_in_missing_login_credentials",
    "google_meet_login_not_available",
    "microsoft_teams_sign_in_credentials_missing",
    "microsoft_teams_sign_in_failed",
    "microsoft_teams_captcha_detected",
    "microsoft_teams_event_not_started_for_external",
    "microsoft_teams_call_dropped",
    "microsoft_teams_breakout_room_unsupported",
    "bot_errored",
    # Beyond the reference's selection, from Recall's sub-codes page.
    "google_meet_internal_error",
    "google_meet_sign_in_failed",
    "google_meet_sign_in_captcha_failed",
    "google_meet_sso_sign_in_failed",
    "google_meet_sign_in_missing_recovery_credentials",
    "google_meet_sso_sign_in_missing_login_credentials",
    "google_meet_sso_sign_in_missing_totp_secret",
    "google_meet_video_error",
    "google_meet_meeting_room_not_ready",
    "google_meet_permission_denied_breakout",
    "zoom_sdk_update_required",
    "zoom_email_blocked_by_admin",
    "zoom_account_blocked",
    "zoom_invalid_join_token",
    "zoom_connection_failed",
    "zoom_error_multiple_device_join",
    "zoom_meeting_not_accessible",
    "zoom_invalid_webinar_invite",
    "microsoft_teams_internal_error",
    "microsoft_teams_bot_not_invited",
    "microsoft_teams_2fa_required",
    "webex_join_meeting_error",
]
PERMISSION_DENIED = [
    "zoom_local_recording_disabled",
    "zoom_local_recording_request_disabled",
    "zoom_local_recording_request_disabled_by_host",
    "zoom_bot_in_waiting_room",
    "zoom_host_not_present",
    "zoom_local_recording_request_denied_by_host",
    "zoom_local_recording_denied",
    "zoom_local_recording_grant_not_supported",
    "zoom_sdk_key_blocked_by_host_admin",
]
KNOWN = (
    [("call_ended", s) for s in CALL_ENDED]
    + [("fatal", s) for s in FATAL]
    + [("recording_permission_denied", s) for s in PERMISSION_DENIED]
)

# The next step a member needs, for the codes they hit most.
KEY_PHRASES = [
    ("fatal", "meeting_not_found", "check the meeting link in the calendar invite"),
    ("fatal", "meeting_link_invalid", "check the meeting link in the calendar invite"),
    ("fatal", "meeting_link_expired", "check the meeting link in the calendar invite"),
    ("fatal", "meeting_password_incorrect", "zoom links need the passcode"),
    ("fatal", "meeting_requires_sign_in", "let guests join without signing in"),
    ("fatal", "google_meet_sign_in_missing_login_credentials", "signed in to a google account"),
    ("fatal", "microsoft_teams_sign_in_credentials_missing", "microsoft teams meeting only lets signed-in"),
    ("fatal", "google_meet_bot_blocked", "bot name"),
    ("fatal", "zoom_web_disallowed", "end-to-end encryption"),
    ("fatal", "zoom_sdk_app_not_published", "ask your slack admin"),
    ("call_ended", "timeout_exceeded_waiting_room", "admit it as soon as it asks"),
    ("call_ended", "call_ended_by_platform_waiting_room_timeout", "10 minutes on google meet"),
    ("call_ended", "bot_kicked_from_waiting_room", "ask the host to admit it"),
    ("call_ended", "timeout_exceeded_noone_joined", "nobody else joined"),
    ("call_ended", "timeout_exceeded_recording_permission_denied", "allow local recording"),
    ("call_ended", "bot_received_leave_call", "remove bot"),
    ("recording_permission_denied", "zoom_local_recording_disabled", "turn on *local recording*"),
    ("recording_permission_denied", "zoom_local_recording_request_disabled", "permission to record locally"),
    ("recording_permission_denied", "zoom_local_recording_request_denied_by_host", "click *allow*"),
    ("recording_permission_denied", "zoom_host_not_present", "make sure the host joins"),
    ("recording_permission_denied", "zoom_bot_in_waiting_room", "admit it"),
]


def _assert_sentence(text: str | None) -> str:
    assert text is not None
    assert text.strip() == text
    assert text
    assert text.endswith(".")
    for leak in ("{", "}", "None", "<", ">"):
        assert leak not in text
    return text


@pytest.mark.parametrize(("code", "sub_code"), KNOWN, ids=[f"{c}:{s}" for c, s in KNOWN])
def test_every_known_sub_code_has_its_own_words(code: str, sub_code: str) -> None:
    text = _assert_sentence(why(code, sub_code, bot_name=BOT))
    assert sub_code not in text  # specific words, not the generic fallback naming the code
    assert "Recall's reason" not in text
    # Also reached through the event name.
    assert why(f"bot.{code}", sub_code, bot_name=BOT) == text


@pytest.mark.parametrize(("code", "sub_code", "phrase"), KEY_PHRASES, ids=[f"{c}:{s}" for c, s, _ in KEY_PHRASES])
def test_key_codes_say_what_to_do(code: str, sub_code: str, phrase: str) -> None:
    assert phrase in _assert_sentence(why(code, sub_code, bot_name=BOT)).lower()


@pytest.mark.parametrize("sub_code", [*NORMAL_ENDS, None, ""])
def test_a_normal_end_needs_no_explanation(sub_code: str | None) -> None:
    assert why("call_ended", sub_code, bot_name=BOT) is None


@pytest.mark.parametrize(
    "code",
    ["joining_call", "in_waiting_room", "in_call_not_recording", "in_call_recording", "done", "whatever_next"],
)
def test_statuses_without_reasons_explain_nothing(code: str) -> None:
    assert why(code, "call_ended_by_host", bot_name=BOT) is None
    assert why(code, None, bot_name=BOT) is None


def test_fatal_without_a_sub_code_says_it_could_not_join() -> None:
    text = _assert_sentence(why("fatal", None, bot_name=BOT))
    assert f"{BOT} couldn't join" in text
    assert "calendar invite" in text


def test_permission_denied_without_a_sub_code_still_says_what_to_ask() -> None:
    assert "allow local recording" in _assert_sentence(why("recording_permission_denied", None, bot_name=BOT))


@pytest.mark.parametrize("code", ["call_ended", "fatal", "recording_permission_denied"])
def test_an_unknown_sub_code_is_named_and_escaped(code: str) -> None:
    assert "`brand_new_reason`" in _assert_sentence(why(code, "brand_new_reason", bot_name=BOT))
    text = _assert_sentence(why(code, f"`{HOSTILE}", bot_name=BOT))
    assert "&lt;!channel&gt;" in text
    assert text.count("`") == 2  # the sub-code cannot close its code span


@pytest.mark.parametrize(("code", "sub_code"), KNOWN[:3] + KNOWN[-3:] + [("fatal", None)])
def test_bot_names_are_escaped_in_reasons(code: str, sub_code: str | None) -> None:
    text = why(code, sub_code, bot_name=HOSTILE)
    assert text is not None
    assert "<!channel>" not in text


STATUS_LINES = [
    ("joining_call", ":hourglass_flowing_sand: *Acme Notetaker is joining*"),
    ("in_waiting_room", ":door: *Acme Notetaker is in the waiting room*: admit it"),
    ("in_call_not_recording", ":white_circle: *Acme Notetaker is in the meeting*, not recording yet"),
    ("recording_permission_allowed", ":white_circle: *Acme Notetaker is in the meeting*, not recording yet"),
    ("recording_permission_denied", ":no_entry: *Recording refused*: Acme Notetaker isn't allowed to record"),
    ("in_call_recording", ":red_circle: *Recording*"),
    ("call_ended", ":checkered_flag: *Acme Notetaker has left the meeting*"),
    ("done", ":checkered_flag: *Acme Notetaker has left the meeting*"),
    ("fatal", ":warning: *Acme Notetaker couldn't join*"),
    ("bot.joining_call", ":hourglass_flowing_sand: *Acme Notetaker is joining*"),
]


@pytest.mark.parametrize(("code", "line"), STATUS_LINES)
def test_status_lines(code: str, line: str) -> None:
    assert status_line(code, bot_name=BOT) == line


def test_an_unknown_status_is_a_neutral_line() -> None:
    line = status_line("teleporting", bot_name=BOT)
    assert line.startswith(":information_source:")
    assert "`teleporting`" in line
    hostile = status_line(HOSTILE, bot_name=HOSTILE)
    assert "<" not in hostile
    assert ">" not in hostile


def test_status_lines_escape_the_bot_name_and_survive_a_blank_one() -> None:
    assert ESCAPED_HOSTILE in status_line("joining_call", bot_name=HOSTILE)
    assert status_line("joining_call", bot_name="  ") == ":hourglass_flowing_sand: *The bot is joining*"


def test_waiting_room_alert() -> None:
    assert waiting_room_alert("Weekly sync", bot_name=BOT) == (
        ":door: *Acme Notetaker* is waiting in the lobby of *Weekly sync*. Admit it from the meeting so it can record."
    )
    hostile = waiting_room_alert(HOSTILE, bot_name=HOSTILE)
    assert hostile.count(ESCAPED_HOSTILE) == 2
    assert "<" not in hostile
    assert "lobby of your meeting" in waiting_room_alert("", bot_name=BOT)


def test_media_lines() -> None:
    assert recording_ready_line(transcript=False) == ":movie_camera: *Recording ready*"
    assert recording_ready_line(transcript=True) == ":movie_camera: *Recording and transcript ready*"
    assert "*Recording failed*" in _assert_sentence(recording_failed_line(None))
    assert "`audio_lost`" in _assert_sentence(recording_failed_line("audio_lost"))
    assert "&lt;!channel&gt;" in _assert_sentence(recording_failed_line("<!channel>"))
    for line in (transcript_failed_line(), no_recording_line(), recording_expired_line()):
        _assert_sentence(line)
    assert "no longer available" in recording_expired_line()
    assert "nobody admitted" in no_recording_line()


URL = "https://recallai-production-bot-data.s3.amazonaws.com/abc.mp4?X-Amz-Signature=1f&X-Amz-Expires=21600"


def test_recording_link_uses_the_url_verbatim_and_escapes_the_title() -> None:
    text = recording_link(URL, title="Q3 <!channel> review", expires_minutes=360)
    assert text.startswith(f":movie_camera: <{URL}|Download the recording of *Q3 &lt;!channel&gt; review*>")
    assert "6 hours" in text
    assert f"*{GET_RECORDING_BUTTON}* again" in text
    assert "a few hours" in recording_link(URL, title="Q3", expires_minutes=None)
    assert "of this meeting>" in recording_link(URL, title=" ", expires_minutes=None)


def test_transcript_link() -> None:
    text = transcript_link(URL, title="Q3 & Q4", expires_minutes=90)
    assert f"<{URL}|Download the transcript of *Q3 &amp; Q4*>" in text
    assert "1 hour 30 minutes" in text
    assert f"*{GET_TRANSCRIPT_BUTTON}* again" in text


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/|Click me",
        "https://a.example/x><!channel>",
        "https://a.example/<x",
        "https://a.example/a b",
        "https://a.example/a\nb",
        "https://a.example/a\tb",
        "javascript:alert(1)",
        "",
    ],
)
@pytest.mark.parametrize("link", [recording_link, transcript_link])
def test_an_unsafe_url_is_refused(link: Callable[..., str], url: str) -> None:
    assert link(url, title="Q3", expires_minutes=60) == BAD_MEDIA_LINK


def test_click_answers_and_buttons() -> None:
    assert (GET_RECORDING_BUTTON, GET_TRANSCRIPT_BUTTON, REMOVE_BOT_BUTTON) == (
        "Get recording",
        "Get transcript",
        "Remove bot",
    )
    answers = [
        BAD_MEDIA_LINK,
        NOT_YOUR_RECORDING,
        MEDIA_NOT_READY,
        MEDIA_EXPIRED,
        NO_TRANSCRIPT,
        RECALL_UNAVAILABLE_FOR_MEDIA,
        REMOVE_NOT_YOURS,
        BOT_ALREADY_GONE,
        BOT_NOT_STARTED,
        bot_removed(BOT),
    ]
    for answer in answers:
        assert answer.startswith(":")
        _assert_sentence(answer)
    assert "isn't on your calendar" in NOT_YOUR_RECORDING
    assert "try again in a minute" in RECALL_UNAVAILABLE_FOR_MEDIA.lower()
    assert "*Skip*" in BOT_NOT_STARTED
    assert "scheduled" in REMOVE_NOT_YOURS
    assert bot_removed(BOT).startswith(":wave: *Acme Notetaker* is leaving the meeting")
    assert "<!channel>" not in bot_removed(HOSTILE)
