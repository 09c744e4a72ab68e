// The demo page's behaviour: refresh the panes from /state, and turn clicks, commands and calendar changes into
// requests to the demo, which sends them to the app exactly as Slack or Recall would. No framework.
(function () {
  "use strict";
  const body = document.body;
  const member = body.dataset.member;
  // Slack shows times in the member's own time zone (their profile's), whatever the computer's.
  const zone = body.dataset.tz || undefined;
  let tab = body.dataset.tab;
  const panes = ["messages", "home", "calendar"];
  const shown = {};
  panes.forEach((id) => { shown[id] = document.getElementById(id).innerHTML; });

  function showError(message) {
    const el = document.getElementById("error");
    el.textContent = message;
    el.hidden = false;
  }
  function clearError() { document.getElementById("error").hidden = true; }

  async function post(path, data) {
    let answer;
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Demo": "1" },
        body: JSON.stringify(Object.assign({ member: member }, data)),
      });
      answer = await response.json();
    } catch (err) {
      answer = { ok: false, error: "The demo is not answering. Is `recall-slackbot demo` still running?" };
    }
    if (answer.ok) { clearError(); } else { showError(answer.error || "That did not work."); }
    setTimeout(refresh, 150);
    return answer;
  }

  async function refresh() {
    let state;
    try {
      const response = await fetch("/state?member=" + encodeURIComponent(member));
      state = await response.json();
    } catch (err) { return; }
    panes.forEach((id) => {
      if (state[id] === undefined || state[id] === shown[id]) return;
      const el = document.getElementById(id);
      const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      el.innerHTML = state[id];
      shown[id] = state[id];
      if (window.renderSlackDates) window.renderSlackDates(el, zone);
      if (id === "messages" && atBottom) el.scrollTop = el.scrollHeight;
    });
  }

  function where(el) {
    const surface = el.closest("[data-surface]");
    const message = el.closest("[data-ts]");
    return {
      surface: surface ? surface.dataset.surface : "",
      channel: message ? message.dataset.channel : undefined,
      ts: message ? message.dataset.ts : undefined,
    };
  }

  function showTab(name) {
    tab = name;
    document.querySelectorAll(".tab").forEach((a) => a.classList.toggle("active", a.dataset.tab === name));
    document.getElementById("messages").hidden = name !== "messages";
    document.getElementById("composer").hidden = name !== "messages";
    document.getElementById("home").hidden = name !== "home";
    history.replaceState(null, "", "?member=" + encodeURIComponent(member) + "&tab=" + name);
    if (name === "home") post("/home", {});
    if (name === "messages") {
      const el = document.getElementById("messages");
      el.scrollTop = el.scrollHeight;
    }
  }

  document.addEventListener("click", (event) => {
    const tabLink = event.target.closest("a.tab");
    if (tabLink) { event.preventDefault(); showTab(tabLink.dataset.tab); return; }
    const demo = event.target.closest("button[data-demo]");
    if (demo) {
      const d = demo.dataset;
      if (d.demo === "bot") { post("/bot", { event_id: d.eventId, step: d.step }); return; }
      const change = { op: d.op, event_id: d.eventId, minutes: d.minutes };
      if (d.op === "rename") {
        const title = window.prompt("New title", d.title || "");
        if (title === null) return;
        change.title = title;
      }
      post("/calendar", change);
      return;
    }
    const el = event.target.closest("[data-action-id]");
    if (!el || !(el.tagName === "BUTTON" || el.tagName === "A")) return;
    const href = el.tagName === "A" ? el.getAttribute("href") || "" : "";
    // A deep link into Slack itself (the app's Home tab) opens that tab here.
    if (el.tagName === "BUTTON" || href.startsWith("slack://")) event.preventDefault();
    if (href.startsWith("slack://app") && href.includes("tab=home")) showTab("home");
    // A link button opens its URL (the browser does that) and Slack still sends the click to the app.
    post("/action", Object.assign(where(el), {
      type: "button", action_id: el.dataset.actionId, block_id: el.dataset.blockId,
      value: el.dataset.value, text: el.textContent.trim(),
    }));
  });

  document.addEventListener("change", (event) => {
    const el = event.target.closest("[data-action-id]");
    if (!el) return;
    const base = Object.assign(where(el), { action_id: el.dataset.actionId, block_id: el.dataset.blockId });
    const type = el.dataset.type;
    if (type === "static_select" || type === "overflow") {
      const option = el.options[el.selectedIndex];
      post("/action", Object.assign(base, { type: type, selected: option.value, label: option.textContent }));
    } else if (type === "checkboxes") {
      const ticked = Array.from(el.querySelectorAll("input[type=checkbox]:checked")).map((box) => box.value);
      post("/action", Object.assign(base, { type: type, selected: ticked }));
    } else if (type === "timepicker") {
      post("/action", Object.assign(base, { type: type, selected: el.value }));
    }
  });

  document.getElementById("member-switch").addEventListener("change", (event) => {
    window.location.search = "?member=" + encodeURIComponent(event.target.value) + "&tab=" + tab;
  });

  document.getElementById("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = event.target.elements.text;
    const text = input.value;
    input.value = "";
    post("/command", { text: text });
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-demo=add]");
    if (!form) return;
    event.preventDefault();
    post("/calendar", { op: "add", title: form.elements.title.value, in_minutes: form.elements.in_minutes.value });
    form.reset();
  });

  if (window.renderSlackDates) window.renderSlackDates(document.body, zone);
  if (tab === "home") post("/home", {});
  const messages = document.getElementById("messages");
  messages.scrollTop = messages.scrollHeight;
  setInterval(refresh, 800);
})();
