"""The small HTML pages a member's browser lands on after the connect flow."""

from __future__ import annotations

from html import escape

from slackbot.words import pages as words

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} · {product}</title>
<style>
  body {{ font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif; background: #f6f6f8;
         color: #1d1c1d; margin: 0; display: flex; min-height: 100vh; align-items: center; justify-content: center; }}
  main {{ background: #fff; max-width: 30rem; padding: 2.5rem; border-radius: 12px;
          box-shadow: 0 4px 24px rgba(0,0,0,.08); text-align: center; }}
  .icon {{ font-size: 3rem; }}
  h1 {{ font-size: 1.4rem; margin: .5rem 0 1rem; }}
  p {{ line-height: 1.5; color: #454245; }}
  code {{ background: #f1f1f3; padding: .1rem .3rem; border-radius: 4px; }}
  a.button {{ display: inline-block; margin-top: 1rem; padding: .7rem 1.4rem; border-radius: 8px;
              background: #4a154b; color: #fff; text-decoration: none; font-weight: 600; }}
</style>
</head>
<body>
<main data-outcome="{outcome}">
  <div class="icon" aria-hidden="true">{icon}</div>
  <h1>{title}</h1>
  <p>{detail}</p>
  <a class="button" href="{slack_url}">{back}</a>
</main>
</body>
</html>
"""


# Our pages load nothing but their own inline style, are never framed, and never guessed at by browsers.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _inline_code(text: str) -> str:
    """Escape, then render `backticks` as <code> (the same words serve Slack mrkdwn and HTML)."""
    parts = escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def slack_url(team_id: str | None, app_id: str | None = None) -> str:
    """Deep link back into Slack (the workspace, or the app's DM when the app id is known)."""
    if team_id and app_id:
        return f"https://slack.com/app_redirect?app={app_id}&team={team_id}"
    if team_id:
        return f"slack://open?team={team_id}"
    return "slack://open"


def render(*, ok: bool, title: str, detail: str, back_url: str) -> str:
    return _PAGE.format(
        outcome="success" if ok else "failure",
        icon="✅" if ok else "⚠️",
        title=escape(title),
        detail=_inline_code(detail),
        slack_url=escape(back_url, quote=True),
        product=escape(words.PRODUCT),
        back=escape(words.BACK_TO_SLACK),
    )
