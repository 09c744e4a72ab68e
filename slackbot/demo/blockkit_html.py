"""Slack Block Kit JSON (what the app sends to chat.postMessage and views.publish) as safe HTML for the demo page.

Pure functions, no I/O: the same blocks always give the same HTML. Everything that is text is HTML-escaped, no
inline event handlers and no ``<script>`` are ever produced, links only for http, https, mailto and slack:// URLs,
images only for http and https. Interactive elements carry ``data-action-id``, ``data-block-id``, ``data-type``
(and ``data-value`` for buttons) so the page's JavaScript can send a real ``block_actions`` payload.

mrkdwn, the way this renderer reads it (a simplified model of Slack's, enough for this app's messages):

1. Control sequences are ``<...>`` in the source (Slack sends a literal ``<`` as ``&lt;``): ``<https://x|label>``,
   ``<https://x>``, ``<mailto:...>``, ``<slack://...>`` become links (any other scheme, e.g. ``javascript:``, is
   shown as text); ``<@U123>`` and ``<@U123|name>`` a user mention (name from ``users``, then the label, then the
   id); ``<#C123|name>`` a channel; ``<!channel>``, ``<!here>``, ``<!everyone>`` special mentions;
   ``<!subteam^S123|@team>`` a user group; ``<!date^epoch^format|fallback>`` and ``<!date^epoch^format^link|fallback>``
   a ``<time class="slack-date">`` element that ``static/slack.js`` renders in the viewer's time zone. Any other
   ``<...>`` is shown as the literal text it is.
2. Only ``&amp;``, ``&lt;`` and ``&gt;`` are decoded (Slack's three escapes); everything is then HTML-escaped,
   so ``&lt;!channel&gt;`` or ``&lt;script&gt;`` is visible text, never markup or a ping.
3. ````` ```pre``` ````` (may span lines) becomes ``<pre>`` and ```code``` becomes ``<code>``: no bold, italic,
   strike or emoji inside, but control sequences (mentions, links, dates) still render, as in Slack.
4. A line starting with a bare ``>`` is a quote line (consecutive ones form one ``<blockquote>``); ``>>>`` quotes
   the rest of the text. ``&gt;`` (an escaped ``>``) is text. Other newlines become ``<br>``.
5. ``*bold*``, ``_italic_``, ``~strike~`` and ```code``` count at word boundaries only: the opening marker is at
   the start of a line or after a character that is not a letter or digit, and is followed by a non-space that is
   not the same marker; the closing marker follows a non-space that is not the same marker and is at the end of
   the line or before a character that is not a letter or digit. So ``snake_case_name`` and ``2*3*4`` stay as
   they are, ``*a* _b_`` and ``*bold _and italic_*`` work. Markers do not span lines; the earliest opening marker
   wins and closes at its first valid closing marker.
6. ``:shortcode:`` becomes its Unicode emoji when it is in :data:`EMOJI`; unknown shortcodes stay as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

__all__ = [
    "DATE_FORMATS",
    "EMOJI",
    "LINK_SCHEMES",
    "STYLESHEET",
    "mrkdwn_to_html",
    "plain_to_html",
    "render_block",
    "render_blocks",
    "render_element",
    "safe_url",
    "text_object_html",
]

DATE_FORMATS: frozenset[str] = frozenset(
    {
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
)
"""The Slack date tokens ``static/slack.js`` renders; any other ``{...}`` in a format stays as written."""

LINK_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "slack"})
IMAGE_SCHEMES: frozenset[str] = frozenset({"http", "https"})

_VS16 = "\N{VARIATION SELECTOR-16}"

EMOJI: Mapping[str, str] = MappingProxyType(
    {
        # Every shortcode the app's words and blocks use (a test keeps this list complete).
        "alarm_clock": "\N{ALARM CLOCK}",
        "busts_in_silhouette": "\N{BUSTS IN SILHOUETTE}",
        "checkered_flag": "\N{CHEQUERED FLAG}",
        "door": "\N{DOOR}",
        "envelope_with_arrow": "\N{ENVELOPE WITH DOWNWARDS ARROW ABOVE}",
        "grey_question": "\N{WHITE QUESTION MARK ORNAMENT}",
        "heavy_minus_sign": "\N{HEAVY MINUS SIGN}",
        "hourglass": "\N{HOURGLASS}",
        "hourglass_flowing_sand": "\N{HOURGLASS WITH FLOWING SAND}",
        "information_source": "\N{INFORMATION SOURCE}" + _VS16,
        "leftwards_arrow_with_hook": "\N{LEFTWARDS ARROW WITH HOOK}" + _VS16,
        "link": "\N{LINK SYMBOL}",
        "lock": "\N{LOCK}",
        "movie_camera": "\N{MOVIE CAMERA}",
        "no_entry": "\N{NO ENTRY}",
        "no_entry_sign": "\N{NO ENTRY SIGN}",
        "page_facing_up": "\N{PAGE FACING UP}",
        "red_circle": "\N{LARGE RED CIRCLE}",
        "repeat": "\N{CLOCKWISE RIGHTWARDS AND LEFTWARDS OPEN CIRCLE ARROWS}",
        "spiral_calendar_pad": "\N{SPIRAL CALENDAR PAD}" + _VS16,
        "warning": "\N{WARNING SIGN}" + _VS16,
        "wastebasket": "\N{WASTEBASKET}" + _VS16,
        "wave": "\N{WAVING HAND SIGN}",
        "white_check_mark": "\N{WHITE HEAVY CHECK MARK}",
        "white_circle": "\N{MEDIUM WHITE CIRCLE}",
        "x": "\N{CROSS MARK}",
        # Other common Slack emoji.
        "+1": "\N{THUMBS UP SIGN}",
        "thumbsup": "\N{THUMBS UP SIGN}",
        "-1": "\N{THUMBS DOWN SIGN}",
        "thumbsdown": "\N{THUMBS DOWN SIGN}",
        "100": "\N{HUNDRED POINTS SYMBOL}",
        "arrow_forward": "\N{BLACK RIGHT-POINTING TRIANGLE}" + _VS16,
        "arrow_right": "\N{BLACK RIGHTWARDS ARROW}" + _VS16,
        "arrows_counterclockwise": "\N{ANTICLOCKWISE DOWNWARDS AND UPWARDS OPEN CIRCLE ARROWS}",
        "ballot_box_with_check": "\N{BALLOT BOX WITH CHECK}" + _VS16,
        "bangbang": "\N{DOUBLE EXCLAMATION MARK}" + _VS16,
        "bell": "\N{BELL}",
        "black_circle": "\N{MEDIUM BLACK CIRCLE}",
        "bulb": "\N{ELECTRIC LIGHT BULB}",
        "bust_in_silhouette": "\N{BUST IN SILHOUETTE}",
        "calendar": "\N{TEAR-OFF CALENDAR}",
        "clap": "\N{CLAPPING HANDS SIGN}",
        "clipboard": "\N{CLIPBOARD}",
        "computer": "\N{PERSONAL COMPUTER}",
        "construction": "\N{CONSTRUCTION SIGN}",
        "date": "\N{CALENDAR}",
        "e-mail": "\N{E-MAIL SYMBOL}",
        "email": "\N{E-MAIL SYMBOL}",
        "envelope": "\N{ENVELOPE}" + _VS16,
        "exclamation": "\N{HEAVY EXCLAMATION MARK SYMBOL}",
        "eyes": "\N{EYES}",
        "film_frames": "\N{FILM FRAMES}" + _VS16,
        "fire": "\N{FIRE}",
        "gear": "\N{GEAR}" + _VS16,
        "grey_exclamation": "\N{WHITE EXCLAMATION MARK ORNAMENT}",
        "hammer_and_wrench": "\N{HAMMER AND WRENCH}" + _VS16,
        "headphones": "\N{HEADPHONE}",
        "heart": "\N{HEAVY BLACK HEART}" + _VS16,
        "heavy_check_mark": "\N{HEAVY CHECK MARK}" + _VS16,
        "heavy_exclamation_mark": "\N{HEAVY EXCLAMATION MARK SYMBOL}",
        "heavy_multiplication_x": "\N{HEAVY MULTIPLICATION X}" + _VS16,
        "heavy_plus_sign": "\N{HEAVY PLUS SIGN}",
        "inbox_tray": "\N{INBOX TRAY}",
        "joy": "\N{FACE WITH TEARS OF JOY}",
        "key": "\N{KEY}",
        "large_blue_circle": "\N{LARGE BLUE CIRCLE}",
        "large_green_circle": "\N{LARGE GREEN CIRCLE}",
        "large_orange_circle": "\N{LARGE ORANGE CIRCLE}",
        "large_yellow_circle": "\N{LARGE YELLOW CIRCLE}",
        "mag": "\N{LEFT-POINTING MAGNIFYING GLASS}",
        "memo": "\N{MEMO}",
        "microphone": "\N{MICROPHONE}",
        "mute": "\N{SPEAKER WITH CANCELLATION STROKE}",
        "no_bell": "\N{BELL WITH CANCELLATION STROKE}",
        "octagonal_sign": "\N{OCTAGONAL SIGN}",
        "ok_hand": "\N{OK HAND SIGN}",
        "outbox_tray": "\N{OUTBOX TRAY}",
        "pencil2": "\N{PENCIL}" + _VS16,
        "point_right": "\N{WHITE RIGHT POINTING BACKHAND INDEX}",
        "pray": "\N{PERSON WITH FOLDED HANDS}",
        "pushpin": "\N{PUSHPIN}",
        "question": "\N{BLACK QUESTION MARK ORNAMENT}",
        "raised_hands": "\N{PERSON RAISING BOTH HANDS IN CELEBRATION}",
        "recycle": "\N{BLACK UNIVERSAL RECYCLING SYMBOL}" + _VS16,
        "robot_face": "\N{ROBOT FACE}",
        "rocket": "\N{ROCKET}",
        "scroll": "\N{SCROLL}",
        "shield": "\N{SHIELD}" + _VS16,
        "slightly_smiling_face": "\N{SLIGHTLY SMILING FACE}",
        "smile": "\N{SMILING FACE WITH OPEN MOUTH AND SMILING EYES}",
        "sparkles": "\N{SPARKLES}",
        "speech_balloon": "\N{SPEECH BALLOON}",
        "star": "\N{WHITE MEDIUM STAR}",
        "stopwatch": "\N{STOPWATCH}" + _VS16,
        "tada": "\N{PARTY POPPER}",
        "telephone_receiver": "\N{TELEPHONE RECEIVER}",
        "thinking_face": "\N{THINKING FACE}",
        "video_camera": "\N{VIDEO CAMERA}",
        "zap": "\N{HIGH VOLTAGE SIGN}",
        "zzz": "\N{SLEEPING SYMBOL}",
    }
)
"""Slack emoji shortcode (without colons) -> Unicode, for the shortcodes the app uses and other common ones."""

STYLESHEET = """\
.bk-section, .bk-context, .bk-actions, .bk-header, .bk-image, .bk-input { margin: 4px 0; }
.bk-section { display: flex; gap: 12px; align-items: flex-start; }
.bk-section-body { flex: 1; min-width: 0; }
.bk-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 16px; }
.bk-context { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; font-size: 12px; color: #616061; }
.bk-context-image { width: 16px; height: 16px; border-radius: 3px; }
.bk-actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.bk-header { font-size: 18px; font-weight: 900; }
.bk-divider { border: 0; border-top: 1px solid #ddd; }
.bk-unsupported { font-size: 12px; color: #868686; font-style: italic; }
.bk-image-img { max-width: 100%; border-radius: 6px; }
.bk-input-label { font-weight: 700; margin-bottom: 4px; }
.bk-input-hint, .bk-option-description { font-size: 12px; color: #616061; }
.bk-checkboxes, .bk-radio-buttons { display: flex; flex-direction: column; gap: 2px; }
.bk-option-description { display: block; margin-left: 22px; }
.btn { display: inline-block; padding: 3px 12px; border: 1px solid #ccc; border-radius: 4px; background: #fff;
  color: #1d1c1d; font-weight: 700; text-decoration: none; cursor: pointer; }
.btn-primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.btn-danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
blockquote { margin: 4px 0; padding-left: 10px; border-left: 4px solid #ddd; }
pre { margin: 4px 0; padding: 8px; background: #f8f8f8; border: 1px solid #ddd; border-radius: 4px;
  white-space: pre-wrap; }
code { padding: 0 3px; background: #f8f8f8; border: 1px solid #ddd; border-radius: 3px; color: #e01e5a; }
"""
"""CSS for the classes this module's HTML uses (the page embeds it; Slack-like, nothing more)."""

_NO_USERS: Mapping[str, str] = MappingProxyType({})

# Placeholders stand for already-rendered HTML while the rest of the text is parsed. NUL and the other C0 controls
# (but tab and newline) are replaced in the input first, so a placeholder can never come from the text itself.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x01")
_CONTROL_SEQUENCE = re.compile(r"<([^<>\n]*)>")
_PRE = re.compile(r"\n?```(.+?)```\n?", re.DOTALL)
_EMOJI_CODE = re.compile(r":([a-z0-9_+-]+):")
_SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_DATE = re.compile(r"!date\^([^^|]*)\^([^^|]*)(?:\^([^|]*))?(?:\|(.*))?", re.DOTALL)
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_SPECIAL_MENTIONS = frozenset({"channel", "here", "everyone"})


def _marker(mark: str, body: str = ".+?") -> re.Pattern[str]:
    """An inline marker at word boundaries (rule 5 of the module docstring)."""
    m = re.escape(mark)
    return re.compile(rf"(?<![^\W_]){m}(?=[^\s{m}])({body})(?<=[^\s{m}]){m}(?![^\W_])")


_CODE = _marker("`", "[^`\n]+?")
_INLINE = (("*", "b", _marker("*")), ("_", "i", _marker("_")), ("~", "s", _marker("~")))


def _decode(text: str) -> str:
    """Slack's three escapes, in one pass (``&amp;lt;`` is the text ``&lt;``)."""
    return _SLACK_ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _attr(name: str, value: object) -> str:
    return f' {name}="{_esc(str(value))}"'


def _scheme(url: str) -> str | None:
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else None


def safe_url(url: str, schemes: frozenset[str] = LINK_SCHEMES) -> str | None:
    """``url`` if its scheme is one of ``schemes`` (case-insensitive), else None. No leading space, no tricks:
    the scheme must be the very first thing in the string."""
    return url if _scheme(url) in schemes else None


def _with_emoji(text: str) -> str:
    """Known emoji shortcodes as their character (shortcodes hold no HTML-special character: escape before or
    after, the result is the same)."""
    return _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _emoji_text(text: str) -> str:
    return _with_emoji(_esc(text))


def plain_to_html(text: str, *, emoji: bool = True) -> str:
    """A ``plain_text`` object's text: escaped (plain text has no control sequences and no Slack escapes: it is
    shown as written), emoji shortcodes converted when ``emoji``."""
    text = _CONTROLS.sub("\ufffd", text)
    return _emoji_text(text) if emoji else _esc(text)


class _Parts:
    """Rendered HTML fragments, each standing in the text as a placeholder."""

    def __init__(self) -> None:
        self.html: list[str] = []

    def add(self, fragment: str) -> str:
        self.html.append(fragment)
        return f"\x00{len(self.html) - 1}\x01"

    def expand(self, text: str, render_text: Callable[[str], str]) -> str:
        """``text`` with placeholders expanded and every other run rendered by ``render_text``."""
        out: list[str] = []
        pos = 0
        for match in _PLACEHOLDER.finditer(text):
            out.append(render_text(text[pos : match.start()]))
            out.append(self.html[int(match.group(1))])
            pos = match.end()
        out.append(render_text(text[pos:]))
        return "".join(out)


def _text_run(text: str) -> str:
    return _esc(_decode(text))


def _link(href: str, inner_html: str) -> str:
    return f'<a href="{_esc(href)}" target="_blank" rel="noopener noreferrer">{inner_html}</a>'


def _mention(text: str) -> str:
    return f'<span class="mention">{_esc(text)}</span>'


def _label_html(label: str) -> str:
    return _emoji_text(_decode(label))


def _date_html(match: re.Match[str]) -> str:
    epoch, token_format, link, fallback = match.groups()
    epoch, token_format = _decode(epoch), _decode(token_format)
    if fallback is None:
        try:
            fallback = datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M UTC")
        except (ValueError, OverflowError, OSError):
            fallback = token_format
    else:
        fallback = _decode(fallback)
    time = (
        f'<time class="slack-date"{_attr("data-epoch", epoch)}{_attr("data-format", token_format)}>'
        f"{_esc(fallback)}</time>"
    )
    href = safe_url(_decode(link)) if link else None
    return _link(href, time) if href else time


def _control_html(inner: str, users: Mapping[str, str]) -> str:
    """One ``<...>`` control sequence (without its angle brackets) as HTML."""
    target, _, label = inner.partition("|")
    if target.startswith("@") and len(target) > 1:
        user_id = _decode(target[1:])
        return _mention("@" + (users.get(user_id) or _decode(label) or user_id))
    if target.startswith("#") and len(target) > 1:
        return _mention("#" + (_decode(label) or _decode(target[1:])))
    if target.startswith("!"):
        if match := _DATE.fullmatch(inner):
            return _date_html(match)
        command, _, argument = target[1:].partition("^")
        if command in _SPECIAL_MENTIONS and not argument:
            return _mention("@" + command)
        if command == "subteam" and argument:
            name = _decode(label) or "@" + _decode(argument)
            return _mention(name if name.startswith("@") else "@" + name)
        return _text_run(f"<{inner}>")
    url = _decode(target)
    if url and safe_url(url):
        return _link(url, _label_html(label) if label else _esc(url))
    # Not a link Slack (or this page) would make: the label if there is one, else the text as written.
    return _label_html(label) if label else _text_run(f"<{inner}>")


def _inline(line: str, parts: _Parts) -> str:
    """Bold, italic and strike in one line (placeholders already in it), everything else escaped."""
    out: list[str] = []
    while line:
        best: tuple[re.Match[str], str] | None = None
        for _, tag, pattern in _INLINE:
            match = pattern.search(line)
            if match and (best is None or match.start() < best[0].start()):
                best = (match, tag)
        if best is None:
            out.append(parts.expand(line, _text_run))
            break
        match, tag = best
        out.append(parts.expand(line[: match.start()], _text_run))
        out.append(f"<{tag}>{_inline(match.group(1), parts)}</{tag}>")
        line = line[match.end() :]
    return "".join(out)


def _lines(text: str, parts: _Parts) -> str:
    """Quote lines as blockquotes, the other lines joined with ``<br>``."""
    groups: list[tuple[bool, list[str]]] = []
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(">>>"):
            rest = [line[3:].removeprefix(" "), *lines[index + 1 :]]
            groups.append((True, rest))
            break
        quoted = line.startswith(">")
        content = line[1:].removeprefix(" ") if quoted else line
        if quoted and groups and groups[-1][0]:
            groups[-1][1].append(content)
        else:
            groups.append((quoted, [content]))
    out: list[str] = []
    previous_quote = True  # no <br> before the first line
    for quoted, group in groups:
        rendered = "<br>".join(_inline(line, parts) for line in group)
        if quoted:
            out.append(f"<blockquote>{rendered}</blockquote>")
        else:
            out.append(rendered if previous_quote else "<br>" + rendered)
        previous_quote = quoted
    return "".join(out)


def mrkdwn_to_html(text: str, *, users: Mapping[str, str] = _NO_USERS) -> str:
    """Slack mrkdwn as HTML (the rules are in the module docstring). ``users`` maps user ids to display names."""
    parts = _Parts()
    text = _CONTROLS.sub("\ufffd", text.replace("\r\n", "\n"))
    text = _CONTROL_SEQUENCE.sub(lambda m: parts.add(_control_html(m.group(1), users)), text)

    def pre(match: re.Match[str]) -> str:
        body = match.group(1).strip("\n")
        return parts.add(f"<pre>{parts.expand(body, _text_run)}</pre>")

    def code(match: re.Match[str]) -> str:
        return parts.add(f"<code>{parts.expand(match.group(1), _text_run)}</code>")

    text = _PRE.sub(pre, text)
    text = _CODE.sub(code, text)
    text = _EMOJI_CODE.sub(lambda m: parts.add(EMOJI[m.group(1)]) if m.group(1) in EMOJI else m.group(0), text)
    return _lines(text, parts)


def text_object_html(obj: Mapping[str, Any], users: Mapping[str, str] = _NO_USERS) -> str:
    """A composition text object: ``mrkdwn`` or ``plain_text`` (anything else is shown escaped)."""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn_to_html(text, users=users)
    return plain_to_html(text, emoji=bool(obj.get("emoji", True)))


def _plain_text(obj: Mapping[str, Any] | None) -> str:
    """A text object that Slack shows as plain text (button labels, options, placeholders), unescaped."""
    if not obj:
        return ""
    text = _CONTROLS.sub("\ufffd", str(obj.get("text", "")))
    if obj.get("type") == "mrkdwn":
        return _with_emoji(_decode(text))
    return _with_emoji(text) if obj.get("emoji", True) else text


def _plain(obj: Mapping[str, Any] | None) -> str:
    return _esc(_plain_text(obj))


# Blocks and elements.


def _data(element: Mapping[str, Any], block_id: str) -> str:
    return (
        _attr("data-action-id", element.get("action_id", ""))
        + _attr("data-block-id", block_id)
        + _attr("data-type", element.get("type", ""))
    )


def _option_value(option: Mapping[str, Any]) -> str:
    return str(option.get("value", ""))


def _options_html(options: Sequence[Mapping[str, Any]], selected: str | None) -> str:
    return "".join(
        f"<option{_attr('value', _option_value(o))}{' selected' if _option_value(o) == selected else ''}>"
        f"{_plain(o.get('text'))}</option>"
        for o in options
    )


def _button(element: Mapping[str, Any], block_id: str) -> str:
    style = element.get("style")
    css = {"primary": "btn btn-primary", "danger": "btn btn-danger"}.get(str(style), "btn")
    data = _data(element, block_id)
    if element.get("value") is not None:
        data += _attr("data-value", element["value"])
    label = _plain(element.get("text"))
    href = safe_url(str(element["url"])) if element.get("url") else None
    if href:
        return f'<a class="{css}"{_attr("href", href)} target="_blank" rel="noopener noreferrer"{data}>{label}</a>'
    return f'<button type="button" class="{css}"{data}>{label}</button>'


def _static_select(element: Mapping[str, Any], block_id: str) -> str:
    initial = element.get("initial_option")
    selected = _option_value(initial) if initial else None
    head = ""
    if selected is None:
        placeholder = _plain(element.get("placeholder")) or "Select an item"
        head = f'<option value="" selected disabled>{placeholder}</option>'
    body = _options_html(element.get("options") or [], selected)
    for group in element.get("option_groups") or []:
        label = _attr("label", _plain_text(group.get("label")))
        body += f"<optgroup{label}>{_options_html(group.get('options') or [], selected)}</optgroup>"
    return f'<select class="bk-select"{_data(element, block_id)}>{head}{body}</select>'


def _overflow(element: Mapping[str, Any], block_id: str) -> str:
    first = '<option value="" selected>\N{MIDLINE HORIZONTAL ELLIPSIS}</option>'
    options = _options_html(element.get("options") or [], None)
    return f'<select class="bk-overflow"{_data(element, block_id)}>{first}{options}</select>'


def _choices(element: Mapping[str, Any], block_id: str, users: Mapping[str, str], *, kind: str) -> str:
    """Checkboxes (``initial_options`` checked) or radio buttons (``initial_option`` checked)."""
    if kind == "checkbox":
        checked = {_option_value(o) for o in element.get("initial_options") or []}
    else:
        initial = element.get("initial_option")
        checked = {_option_value(initial)} if initial else set()
    name = _attr("name", f"{block_id}/{element.get('action_id', '')}") if kind == "radio" else ""
    items = []
    for option in element.get("options") or []:
        value = _option_value(option)
        mark = " checked" if value in checked else ""
        text = text_object_html(option.get("text") or {}, users)
        description = option.get("description")
        note = (
            f'<span class="bk-option-description">{text_object_html(description, users)}</span>' if description else ""
        )
        items.append(
            f'<label class="bk-{kind}"><input type="{kind}"{name}{_attr("value", value)}{mark}>'
            f'<span class="bk-option-text">{text}</span>{note}</label>'
        )
    css = "bk-checkboxes" if kind == "checkbox" else "bk-radio-buttons"
    return f'<div class="{css}"{_data(element, block_id)}>{"".join(items)}</div>'


def _timepicker(element: Mapping[str, Any], block_id: str) -> str:
    value = _attr("value", element["initial_time"]) if element.get("initial_time") else ""
    label = _plain_text(element.get("placeholder"))
    aria = _attr("aria-label", label) if label else ""
    return f'<input type="time" class="bk-timepicker"{value}{aria}{_data(element, block_id)}>'


def _datepicker(element: Mapping[str, Any], block_id: str) -> str:
    value = _attr("value", element["initial_date"]) if element.get("initial_date") else ""
    return f'<input type="date" class="bk-datepicker"{value}{_data(element, block_id)}>'


def _text_input(element: Mapping[str, Any], block_id: str) -> str:
    initial = str(element.get("initial_value", ""))
    placeholder = _plain_text(element.get("placeholder"))
    hint = _attr("placeholder", placeholder) if placeholder else ""
    if element.get("multiline"):
        return f'<textarea class="bk-text-input"{hint}{_data(element, block_id)}>{_esc(initial)}</textarea>'
    value = _attr("value", initial) if initial else ""
    return f'<input type="text" class="bk-text-input"{value}{hint}{_data(element, block_id)}>'


def _image(element: Mapping[str, Any], css: str) -> str:
    alt = str(element.get("alt_text", ""))
    src = safe_url(str(element.get("image_url", "")), IMAGE_SCHEMES)
    if src is None:
        return f'<span class="{css} bk-image-missing">{_esc(alt)}</span>'
    return f'<img class="{css}"{_attr("src", src)}{_attr("alt", alt)}>'


def _unsupported(kind: str, what: object) -> str:
    return f'<span class="bk-unsupported">unsupported {kind}: {_esc(str(what))}</span>'


def render_element(element: Mapping[str, Any], *, block_id: str = "", users: Mapping[str, str] = _NO_USERS) -> str:
    """One block element (in an actions, section accessory or input block) as HTML."""
    match element.get("type"):
        case "button":
            return _button(element, block_id)
        case "static_select":
            return _static_select(element, block_id)
        case "overflow":
            return _overflow(element, block_id)
        case "checkboxes":
            return _choices(element, block_id, users, kind="checkbox")
        case "radio_buttons":
            return _choices(element, block_id, users, kind="radio")
        case "timepicker":
            return _timepicker(element, block_id)
        case "datepicker":
            return _datepicker(element, block_id)
        case "plain_text_input":
            return _text_input(element, block_id)
        case "image":
            return _image(element, "bk-image-element")
        case other:
            return _unsupported("element", other)


def _section(block: Mapping[str, Any], block_id: str, users: Mapping[str, str]) -> str:
    body = ""
    if block.get("text"):
        body += f'<div class="bk-text">{text_object_html(block["text"], users)}</div>'
    if block.get("fields"):
        fields = "".join(f'<div class="bk-field">{text_object_html(f, users)}</div>' for f in block["fields"])
        body += f'<div class="bk-fields">{fields}</div>'
    accessory = ""
    if block.get("accessory"):
        element = render_element(block["accessory"], block_id=block_id, users=users)
        accessory = f'<div class="bk-accessory">{element}</div>'
    return f'<div class="bk-section"><div class="bk-section-body">{body}</div>{accessory}</div>'


def _context(block: Mapping[str, Any], users: Mapping[str, str]) -> str:
    items = []
    for element in block.get("elements") or []:
        if element.get("type") == "image":
            items.append(_image(element, "bk-context-image"))
        elif element.get("type") in ("mrkdwn", "plain_text"):
            items.append(f'<span class="bk-context-text">{text_object_html(element, users)}</span>')
        else:
            items.append(_unsupported("element", element.get("type")))
    return f'<div class="bk-context">{"".join(items)}</div>'


def _actions(block: Mapping[str, Any], block_id: str, users: Mapping[str, str]) -> str:
    elements = "".join(render_element(e, block_id=block_id, users=users) for e in block.get("elements") or [])
    return f'<div class="bk-actions">{elements}</div>'


def _image_block(block: Mapping[str, Any]) -> str:
    title = block.get("title")
    caption = f"<figcaption>{_plain(title)}</figcaption>" if title else ""
    return f'<figure class="bk-image">{_image(block, "bk-image-img")}{caption}</figure>'


def _input(block: Mapping[str, Any], block_id: str, users: Mapping[str, str]) -> str:
    label = f'<div class="bk-input-label">{_plain(block.get("label"))}</div>'
    element = render_element(block.get("element") or {}, block_id=block_id, users=users)
    hint = f'<div class="bk-input-hint">{_plain(block["hint"])}</div>' if block.get("hint") else ""
    return f'<div class="bk-input">{label}{element}{hint}</div>'


def render_block(block: Mapping[str, Any], *, users: Mapping[str, str] = _NO_USERS) -> str:
    """One block as HTML; a type this page does not know is a small grey note."""
    block_id = str(block.get("block_id") or "")
    match block.get("type"):
        case "section":
            return _section(block, block_id, users)
        case "context":
            return _context(block, users)
        case "actions":
            return _actions(block, block_id, users)
        case "header":
            return f'<div class="bk-header">{_plain(block.get("text"))}</div>'
        case "divider":
            return '<hr class="bk-divider">'
        case "image":
            return _image_block(block)
        case "input":
            return _input(block, block_id, users)
        case other:
            return f'<div class="bk-unsupported">unsupported block: {_esc(str(other))}</div>'


def render_blocks(blocks: Sequence[Mapping[str, Any]], *, users: Mapping[str, str] = _NO_USERS) -> str:
    """HTML for a message's or a view's blocks, one line per block."""
    return "\n".join(render_block(block, users=users) for block in blocks)
