"""Domain errors in words: every connect failure for every provider, and Recall errors on schedule / skip."""

from __future__ import annotations

import json

import pytest

from recall.errors import (
    RecallAPIError,
    RecallAuthError,
    RecallBadRequest,
    RecallConflict,
    RecallError,
    RecallRateLimited,
    RecallResponseError,
    RecallUnavailable,
    api_error_from_response,
)
from slackbot.calendar_oauth.failures import ConnectFailure
from slackbot.calendar_oauth.providers import PROVIDERS
from slackbot.words import Explanation, explain_connect_failure, explain_recall_error, provider_label

PROVIDER_NAMES = ["google", "microsoft"]
ENDED_MESSAGE = "Cannot schedule bot as calendar event has ended."
RECALL_400_BODY = {
    "code": "invalid_request_data",
    "message": "Unable to process request because invalid data was submitted. Check `errors` field for more details.",
    "errors": {"non_field_errors": [ENDED_MESSAGE]},
}


def test_both_providers_are_known() -> None:
    assert set(PROVIDER_NAMES) <= set(PROVIDERS)
    assert provider_label("google") == "Google Calendar"
    assert provider_label("microsoft") == "Microsoft Outlook"
    assert provider_label("yahoo") == "your calendar"


@pytest.mark.parametrize("provider", [*PROVIDER_NAMES, "unknown-provider"])
@pytest.mark.parametrize("failure", list(ConnectFailure), ids=[f.value for f in ConnectFailure])
def test_every_connect_failure_has_words(failure: ConnectFailure, provider: str) -> None:
    """Iterates the enum: a new ConnectFailure member without words fails here (ValueError from the match)."""
    explanation = explain_connect_failure(failure, provider)
    assert isinstance(explanation, Explanation)
    assert explanation.title.strip()
    assert explanation.detail.strip()
    assert explanation.title == explanation.title.strip()
    assert not explanation.title.endswith(".")  # a headline
    assert explanation.detail.rstrip().endswith(".")  # a sentence
    assert isinstance(explanation.retry_with_new_link, bool)
    # Shown as HTML pages and Slack mrkdwn: no markup or placeholders leak.
    for text in (explanation.title, explanation.detail):
        assert "<" not in text
        assert ">" not in text
        assert "{" not in text
        assert "None" not in text


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_connect_failure_titles_are_distinct(provider: str) -> None:
    titles = [explain_connect_failure(f, provider).title for f in ConnectFailure]
    assert len(set(titles)) == len(titles)


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_provider_specific_failures_name_the_provider(provider: str) -> None:
    label = PROVIDERS[provider].label
    for failure in (
        ConnectFailure.PROVIDER_DISABLED,
        ConnectFailure.PROVIDER_UNAVAILABLE,
        ConnectFailure.PROVIDER_ERROR,
        ConnectFailure.TOKEN_EXCHANGE_FAILED,
        ConnectFailure.NO_REFRESH_TOKEN,
    ):
        assert label in explain_connect_failure(failure, provider).title, failure
    for failure in (ConnectFailure.DENIED, ConnectFailure.SCOPE_MISSING, ConnectFailure.NO_EMAIL):
        assert label in explain_connect_failure(failure, provider).detail, failure


def test_only_a_disabled_provider_says_not_to_retry() -> None:
    for failure in ConnectFailure:
        explanation = explain_connect_failure(failure, "google")
        assert explanation.retry_with_new_link is (failure is not ConnectFailure.PROVIDER_DISABLED), failure


def test_specific_connect_wordings() -> None:
    assert "10 minutes" in explain_connect_failure(ConnectFailure.LINK_EXPIRED, "google").detail
    assert "works once" in explain_connect_failure(ConnectFailure.LINK_USED, "google").detail
    assert "tick" in explain_connect_failure(ConnectFailure.SCOPE_MISSING, "google").detail
    assert "Nothing was connected" in explain_connect_failure(ConnectFailure.DENIED, "microsoft").detail


def test_unknown_failure_value_is_rejected() -> None:
    with pytest.raises(ValueError):
        explain_connect_failure("not-a-failure", "google")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------------
# explain_recall_error
# ---------------------------------------------------------------------------------------------------------------------


def test_ended_from_a_real_response_body() -> None:
    error = api_error_from_response(
        status=400,
        body=json.dumps(RECALL_400_BODY).encode(),
        content_type="application/json",
        method="POST",
        path="/api/v2/calendar-events/ev1/bot/",
    )
    assert isinstance(error, RecallBadRequest)
    assert error.non_field_errors == [ENDED_MESSAGE]
    words = explain_recall_error(error)
    assert words.startswith(":checkered_flag:")
    assert "already ended" in words
    assert "Nothing was changed" in words
    assert "errors" not in words  # Recall's generic message isn't shown


@pytest.mark.parametrize(
    "error",
    [
        RecallBadRequest(
            status=400, code="invalid_request_data", message="", errors={"non_field_errors": [ENDED_MESSAGE]}
        ),
        RecallBadRequest(status=400, message=ENDED_MESSAGE),
        RecallAPIError(status=400, message="x", errors=[ENDED_MESSAGE]),
        RecallBadRequest(status=400, message="x", errors={"non_field_errors": [ENDED_MESSAGE.upper()]}),
    ],
    ids=["errors-dict", "message", "errors-list", "uppercase"],
)
def test_ended_in_any_shape(error: RecallAPIError) -> None:
    assert "already ended" in explain_recall_error(error)


def test_too_soon_507() -> None:
    error = api_error_from_response(status=507, body=b"", content_type=None)
    assert isinstance(error, RecallUnavailable)
    words = explain_recall_error(error)
    assert words.startswith(":hourglass:")
    assert "starts too soon" in words
    assert "Nothing was changed" in words
    assert "try again in a minute" in words.lower()


@pytest.mark.parametrize(
    "error",
    [
        RecallUnavailable(status=503, message="Service Unavailable"),
        RecallUnavailable(status=500),
        RecallUnavailable(status=502, message="<html>bad gateway</html>"),
        RecallUnavailable(status=None, message="connection refused"),
        RecallRateLimited(status=429, retry_after=3.0),
        RecallConflict(status=409),
        RecallAuthError(status=401, message="Invalid API key"),
        RecallResponseError("next URL points elsewhere"),
        RecallError("anything"),
    ],
    ids=["503", "500", "502", "network", "429", "409", "401", "bad-response", "root"],
)
def test_unavailable_and_everything_else(error: RecallError) -> None:
    words = explain_recall_error(error)
    assert words == (
        ":warning: Recall isn't answering right now, so nothing was changed. Please try again in a few minutes."
    )
    assert "Invalid API key" not in words  # operator problems are not the member's words


def test_503_from_response() -> None:
    error = api_error_from_response(status=503, body=b"unavailable", content_type="text/plain")
    assert "isn't answering" in explain_recall_error(error)


def test_generic_400_quotes_recalls_message() -> None:
    error = RecallBadRequest(status=400, code="invalid_meeting_url", message="Meeting URL is not supported.")
    words = explain_recall_error(error)
    assert words == (
        ":warning: Recall didn't accept that for this meeting (Meeting URL is not supported.). Nothing was changed."
    )


def test_generic_400_without_message() -> None:
    words = explain_recall_error(RecallBadRequest(status=400))
    assert words == ":warning: Recall didn't accept that for this meeting. Nothing was changed."
    assert "()" not in words


@pytest.mark.parametrize(
    "error",
    [
        RecallBadRequest(status=400, message="x"),
        RecallUnavailable(status=507),
        RecallUnavailable(status=503),
        RecallBadRequest(status=400, errors={"non_field_errors": [ENDED_MESSAGE]}),
    ],
)
def test_every_answer_says_nothing_changed(error: RecallAPIError) -> None:
    assert "nothing was changed" in explain_recall_error(error).lower()


# ---------------------------------------------------------------------------------------------------------------------
# Known gaps (production bugs, kept visible)
# ---------------------------------------------------------------------------------------------------------------------


def test_generic_400_shows_the_real_reason_not_recalls_envelope() -> None:
    body = {**RECALL_400_BODY, "errors": {"non_field_errors": ["Meeting URL is not supported."]}}
    error = api_error_from_response(status=400, body=json.dumps(body).encode(), content_type="application/json")
    words = explain_recall_error(error)
    assert "Meeting URL is not supported." in words
    assert "errors` field" not in words


def test_not_enough_time_400_is_explained_as_too_soon() -> None:
    body = {"code": "update_bot_failed", "message": "Not enough time to launch new bot"}
    error = api_error_from_response(status=400, body=json.dumps(body).encode(), content_type="application/json")
    assert "starts too soon" in explain_recall_error(error)


def test_the_home_admin_details_say_whether_the_consent_notice_is_on() -> None:
    from slackbot.words.policy import home_admin_details

    on = home_admin_details(keywords=(), domains=(), bot_name="B", bot_name_is_default=True)
    off = home_admin_details(keywords=(), domains=(), bot_name="B", bot_name_is_default=True, consent_enabled=False)
    assert "Consent notice in the meeting chat: *on*" in on
    assert "Consent notice in the meeting chat: *off*" in off
    assert "consent" in on.split("Change these with")[1]


@pytest.mark.parametrize(
    ("keywords", "whose", "line"),
    [
        ((), "Your", "Your excluded keywords: none."),
        (("standup", "1:1 <x>"), "Your", "Your excluded keywords: *standup*, *1:1 &lt;x&gt;*."),
        (("hr",), "Workspace-wide", "Workspace-wide excluded keywords: *hr*."),
    ],
)
def test_keyword_lists_name_whose_they_are_once(keywords: tuple[str, ...], whose: str, line: str) -> None:
    from slackbot.words.policy import keywords_list

    assert keywords_list(keywords, whose=whose) == line
