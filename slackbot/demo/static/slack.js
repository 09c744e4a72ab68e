/*
 * Slack date tokens for the demo page, rendered in the VIEWER's time zone as Slack's clients do.
 *
 * slackbot/demo/blockkit_html.py turns `<!date^epoch^format|fallback>` into
 *   <time class="slack-date" data-epoch="1714557600" data-format="{date_short_pretty} at {time}">fallback</time>
 * and renderSlackDates(root) replaces each fallback with the format, every token rendered with Intl.DateTimeFormat:
 *   {date_num}            2024-05-01
 *   {date}                May 1st, 2024
 *   {date_short}          May 1, 2024
 *   {date_long}           Wednesday, May 1st, 2024
 *   {date_pretty}         Today / Tomorrow / Yesterday, else {date}
 *   {date_short_pretty}   Today / Tomorrow / Yesterday, else {date_short} (the year left out in the current year)
 *   {date_long_pretty}    Today / Tomorrow / Yesterday, else {date_long}
 *   {day_divider_pretty}  Today / Tomorrow / Yesterday, else {date_long} (the year left out in the current year)
 *   {time}                10:00 AM (or 10:00, per locale)
 *   {time_secs}           10:00:00 AM
 * Any other {token} stays as written. Ordinals ("1st") only for English locales; other locales get Intl's own
 * long date. The element's title (and datetime) become the full local ISO date-time, e.g. 2024-05-01T03:00:00-07:00.
 * A data-epoch that is not an integer leaves the fallback text alone.
 *
 * No framework, no build step, no downloads. Defines window.formatSlackDate, window.slackDateISO and
 * window.renderSlackDates (the page calls renderSlackDates(container) after inserting HTML).
 */
(function () {
  "use strict";

  const DAY_MS = 86400000;

  // Calendar fields of an instant in a time zone, as numbers (en-US so the digits are always ASCII).
  function fields(date, timeZone) {
    const formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    const out = {};
    for (const part of formatter.formatToParts(date)) {
      if (part.type !== "literal") out[part.type] = Number(part.value);
    }
    if (out.hour === 24) out.hour = 0;
    return out;
  }

  function pad(number, width) {
    return String(Math.abs(number)).padStart(width, "0");
  }

  function spaces(text) {
    // Newer ICU puts a narrow no-break space before AM/PM; Slack shows a plain space.
    return text.replace(/[\u202f\u00a0]/g, " ");
  }

  function isEnglish(locale) {
    return new Intl.DateTimeFormat(locale).resolvedOptions().locale.toLowerCase().startsWith("en");
  }

  function ordinal(day) {
    const tens = day % 100;
    if (tens >= 11 && tens <= 13) return day + "th";
    return day + ({ 1: "st", 2: "nd", 3: "rd" }[day % 10] || "th");
  }

  function part(date, timeZone, locale, options) {
    return new Intl.DateTimeFormat(locale, Object.assign({ timeZone: timeZone }, options)).format(date);
  }

  // "Wednesday, May 1st, 2024" and its shorter forms; Intl's own wording outside English.
  function longDate(date, f, timeZone, locale, options) {
    const month = options.short ? "short" : "long";
    if (!isEnglish(locale)) {
      const intl = { month: month, day: "numeric" };
      if (options.weekday) intl.weekday = "long";
      if (options.year) intl.year = "numeric";
      return spaces(part(date, timeZone, locale, intl));
    }
    let text = part(date, timeZone, locale, { month: month }) + " " + (options.short ? f.day : ordinal(f.day));
    if (options.weekday) text = part(date, timeZone, locale, { weekday: "long" }) + ", " + text;
    if (options.year) text += ", " + f.year;
    return text;
  }

  // "Today", "Tomorrow" or "Yesterday" (in the locale's words), or null.
  function relativeDay(f, nowFields, locale) {
    const days =
      (Date.UTC(f.year, f.month - 1, f.day) - Date.UTC(nowFields.year, nowFields.month - 1, nowFields.day)) / DAY_MS;
    if (days < -1 || days > 1) return null;
    const word = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(days, "day");
    return word.charAt(0).toUpperCase() + word.slice(1);
  }

  /**
   * The Slack date format with every token rendered.
   * epochSeconds: the token's epoch; format: e.g. "{date_short_pretty} at {time}"; now: a Date or epoch
   * milliseconds (default: now); timeZone: an IANA zone (default: the viewer's); locale (default: the viewer's).
   * Returns null when epochSeconds is not a finite number.
   */
  function formatSlackDate(epochSeconds, format, now, timeZone, locale) {
    if (typeof epochSeconds !== "number" || !Number.isFinite(epochSeconds)) return null;
    const date = new Date(Math.floor(epochSeconds) * 1000);
    const nowDate = now === undefined || now === null ? new Date() : new Date(now);
    const f = fields(date, timeZone);
    const nowFields = fields(nowDate, timeZone);
    const thisYear = f.year === nowFields.year;
    const relative = () => relativeDay(f, nowFields, locale);
    const long = (options) => longDate(date, f, timeZone, locale, options);
    const time = (seconds) => {
      // 24-hour locales write 09:05, 12-hour ones 9:05 AM.
      const cycle = new Intl.DateTimeFormat(locale, { hour: "numeric" }).resolvedOptions().hourCycle;
      const hour = cycle === "h23" || cycle === "h24" ? "2-digit" : "numeric";
      const options = { hour: hour, minute: "2-digit" };
      if (seconds) options.second = "2-digit";
      return spaces(part(date, timeZone, locale, options));
    };
    const tokens = {
      date_num: () => (f.year < 0 ? "-" : "") + pad(f.year, 4) + "-" + pad(f.month, 2) + "-" + pad(f.day, 2),
      date: () => long({ year: true }),
      date_short: () => long({ short: true, year: true }),
      date_long: () => long({ weekday: true, year: true }),
      date_pretty: () => relative() || long({ year: true }),
      date_short_pretty: () => relative() || long({ short: true, year: !thisYear }),
      date_long_pretty: () => relative() || long({ weekday: true, year: true }),
      day_divider_pretty: () => relative() || long({ weekday: true, year: !thisYear }),
      time: () => time(false),
      time_secs: () => time(true),
    };
    return String(format).replace(/\{([a-z_]+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(tokens, name) ? tokens[name]() : whole,
    );
  }

  /** The instant as a local ISO 8601 date-time with its offset in timeZone, e.g. "2024-04-30T21:00:00-07:00". */
  function slackDateISO(epochSeconds, timeZone) {
    const ms = Math.floor(epochSeconds) * 1000;
    const f = fields(new Date(ms), timeZone);
    const offset = Math.round((Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - ms) / 60000);
    const sign = offset < 0 ? "-" : "+";
    return (
      pad(f.year, 4) + "-" + pad(f.month, 2) + "-" + pad(f.day, 2) +
      "T" + pad(f.hour, 2) + ":" + pad(f.minute, 2) + ":" + pad(f.second, 2) +
      sign + pad(Math.floor(Math.abs(offset) / 60), 2) + ":" + pad(Math.abs(offset) % 60, 2)
    );
  }

  /** Render every time.slack-date under root (default: document) in timeZone (default: the browser's; Slack
   * uses the member's own zone); returns how many were rendered. */
  function renderSlackDates(root, timeZone) {
    const scope = root || document;
    const nodes = scope.querySelectorAll("time.slack-date");
    const now = Date.now();
    let rendered = 0;
    for (const node of Array.from(nodes)) {
      const raw = (node.getAttribute("data-epoch") || "").trim();
      if (!/^-?\d+$/.test(raw)) continue; // not a number: keep the fallback text
      const epoch = Number(raw);
      try {
        const text = formatSlackDate(epoch, node.getAttribute("data-format") || "", now, timeZone);
        if (text === null) continue;
        const iso = slackDateISO(epoch, timeZone);
        node.textContent = text;
        node.setAttribute("title", iso);
        node.setAttribute("datetime", iso);
        rendered += 1;
      } catch {
        // An epoch out of Date's range: the fallback text stays.
      }
    }
    return rendered;
  }

  window.formatSlackDate = formatSlackDate;
  window.slackDateISO = slackDateISO;
  window.renderSlackDates = renderSlackDates;
})();
