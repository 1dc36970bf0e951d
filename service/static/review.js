// The review page: keyboard shortcuts, decisions, bulk actions and overrides.
// Every text written into the page goes through textContent; never innerHTML.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const tab = document.body.dataset.tab;
  const flash = document.getElementById("flash");
  const help = document.getElementById("help");
  const items = () => Array.from(document.querySelectorAll(".comment"));
  // The page's messages in the moderator's language (service/api/i18n.py), with {name} and {n} to fill in.
  const messages = JSON.parse(document.getElementById("messages").textContent);
  const t = (key, values) => messages[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
  let current = -1;

  function say(message, kind) {
    flash.textContent = message;
    flash.className = "flash " + (kind || "info");
  }

  // The current card is the one keys act on. It is set in one place, select(), whether the card was reached
  // with j/k, clicked, tapped or tabbed into, so a key never acts on another card than the one shown as current.
  function select(el) {
    const list = items();
    const index = list.indexOf(el);
    if (index < 0) return;
    current = index;
    list.forEach((item, i) => item.classList.toggle("current", i === current));
  }

  function focusItem(index) {
    const list = items();
    if (!list.length) return;
    const el = list[Math.max(0, Math.min(index, list.length - 1))];
    select(el);
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
  }

  // j/k move to the next card another moderator is not reviewing (or stay where they are at the end).
  function step(direction) {
    const list = items();
    for (let i = current + direction; i >= 0 && i < list.length; i += direction) {
      if (!list[i].classList.contains("locked")) { focusItem(i); return; }
    }
  }

  async function call(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || response.statusText);
    return data;
  }

  const number = new Intl.NumberFormat(document.documentElement.lang);

  // The counters come from the server after every decision: other moderators decide too.
  async function refreshCounts() {
    if (tab !== "queue") return;
    try {
      const response = await fetch("/v1/review/queue?limit=1", { credentials: "same-origin" });
      if (!response.ok) return;
      const counts = (await response.json()).counts;
      document.querySelectorAll('[data-count="pending"]').forEach((el) => { el.textContent = number.format(counts.pending); });
      const line = document.getElementById("queue-counts");
      if (line) line.textContent = t("counts", { free: number.format(counts.available), leased: number.format(counts.leased) });
    } catch (error) { /* the next decision tries again */ }
  }

  // A decided card leaves the list; in its place, for a while, a note with Undo (the other decision, recorded
  // as a revision in the comment's history and its labels).
  const UNDO_SECONDS = 15;
  function replaceWithNote(el, record, decision) {
    const note = document.createElement("li");
    note.className = "toast";
    note.setAttribute("role", "status");
    const text = document.createElement("span");
    text.textContent = t(decision === "approve" ? "approved" : "rejected", { name: record.comment.name });
    note.append(text);
    const other = decision === "approve" ? "reject" : "approve";
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "undo";
    undo.textContent = t(other === "reject" ? "undo_reject" : "undo_approve", {});
    undo.addEventListener("click", async () => {
      undo.disabled = true;
      try {
        const revised = await call("/v1/comments/" + record.id + "/decision", { decision: other });
        text.textContent = t("changed", { status: messages.statuses[revised.status] || revised.status });
        undo.remove();
        refreshCounts();
      } catch (error) { say(error.message, "error"); undo.disabled = false; }
    });
    note.append(undo);
    const index = items().indexOf(el);
    el.replaceWith(note);
    setTimeout(() => note.remove(), UNDO_SECONDS * 1000);
    return index;
  }

  function decisionUrl(id) {
    return tab === "queue" ? "/v1/review/" + id + "/decision" : "/v1/comments/" + id + "/decision";
  }

  async function decide(el, decision) {
    if (!el) return;
    if (el.classList.contains("locked")) {
      say(t("locked", {}), "error");
      return;
    }
    if (tab.startsWith("rejected") && decision !== "approve") return;
    if (tab.startsWith("approved") && decision !== "reject") return;
    try {
      const record = await call(decisionUrl(el.dataset.id), { decision: decision });
      const index = replaceWithNote(el, record, decision);
      current = -1;
      const rest = items();
      const next = rest.findIndex((card, i) => i >= index && !card.classList.contains("locked"));
      if (next >= 0) focusItem(next); else if (rest.length) focusItem(rest.length - 1);
      refreshCounts();
    } catch (error) {
      say(error.message, "error");
    }
  }

  async function bulk(decision) {
    const chosen = items().filter((el) => el.querySelector(".select").checked);
    if (!chosen.length) { say(t("select_first", {}), "error"); return; }
    let failed = 0;
    if (tab === "queue") {
      try {
        const data = await call("/v1/review/decisions", {
          decisions: chosen.map((el) => ({ id: el.dataset.id, decision: decision })),
        });
        data.results.forEach((result, i) => {
          if (result.ok) chosen[i].remove(); else failed += 1;
        });
      } catch (error) { say(error.message, "error"); return; }
    } else {
      for (const el of chosen) {
        try { await call(decisionUrl(el.dataset.id), { decision: decision }); el.remove(); }
        catch (error) { failed += 1; }
      }
    }
    say(t("done", { n: chosen.length - failed }) + (failed ? ", " + t("refused", { n: failed }) : ""),
        failed ? "error" : "info");
    current = -1;
    focusItem(0);
    refreshCounts();
  }

  async function claim() {
    try {
      const data = await call("/v1/review/claim", { limit: 10 });
      say(t("claimed", { n: data.claimed.length }), "info");
      window.location.reload();
    } catch (error) { say(error.message, "error"); }
  }

  function toggleHelp(show) {
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  document.addEventListener("focusin", (event) => {
    const el = event.target.closest(".comment");
    if (el) select(el);
  });

  document.addEventListener("click", (event) => {
    const card = event.target.closest(".comment");
    if (card && !event.target.closest("a, button, input")) card.focus({ preventScroll: true });
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const el = button.closest(".comment");
    const action = button.dataset.action;
    if (action === "approve" || action === "reject") {
      if (el) { focusItem(items().indexOf(el)); decide(el, action); }
    } else if (action === "bulk-approve") bulk("approve");
    else if (action === "bulk-reject") bulk("reject");
    else if (action === "claim") claim();
    else if (action === "help") toggleHelp();
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.matches("input[type=text], input[type=password], textarea")) return;
    const el = items()[current];
    switch (event.key) {
      case "j": step(1); break;
      case "k": step(-1); break;
      case "a": decide(el, "approve"); break;
      case "r": decide(el, "reject"); break;
      case "x": if (el) { const box = el.querySelector(".select"); if (!box.disabled) box.checked = !box.checked; } break;
      case "c": if (tab === "queue") claim(); break;
      case "?": toggleHelp(); break;
      case "Escape": toggleHelp(false); break;
      default: return;
    }
    event.preventDefault();
  });

  const first = items().findIndex((el) => !el.classList.contains("locked"));
  focusItem(first < 0 ? 0 : first);
  document.body.dataset.ready = "1";  // lets tests and scripts wait until the shortcuts work
})();
