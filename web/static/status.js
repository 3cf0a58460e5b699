// Follows a migration that is validating, scheduled, between its runs or
// running: polls its status.json and patches the page in place (never a
// reload, so the scroll position and the focus stay where they are).
// Numbers (validation count, each mailbox's progress) are written into
// their cells; when the migration's state changes, the page is fetched
// again and only its [data-swap] region is replaced. The polite live
// region announces changes of state only, never the numbers.
(function () {
  "use strict";
  var live = document.querySelector("[data-testid=live]");

  function box() { return document.querySelector("[data-swap=migration]"); }
  function attr(name) { var b = box(); return b ? (b.getAttribute(name) || "") : ""; }

  function announce(text) {
    if (!live || !text) { return; }
    // A change of text is what a screen reader announces.
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function setText(root, testid, text) {
    var e = root.querySelector("[data-testid=" + testid + "]");
    if (e && e.textContent !== text) { e.textContent = text || ""; }
  }

  function setBar(cell, done, total) {
    var p = cell && cell.querySelector("progress");
    if (!p) { return; }
    p.max = Math.max(total, 1);
    p.value = done;
  }

  function patchLine(row, m) {
    var before = row.getAttribute("data-status");
    if (before !== m.status) {
      row.setAttribute("data-status", m.status);
      var st = row.querySelector("[data-testid=progress-status]");
      if (st) { st.className = statusClass(m.status); }
      if (before) { announce(m.local_user + ": " + m.label); }
    }
    row.setAttribute("data-done", String(m.done));
    row.setAttribute("data-total", String(m.total));
    setText(row, "progress-status-label", m.label);
    setText(row, "progress-error", m.error);
    setText(row, "progress-count", m.count_text);
    setText(row, "progress-detail", m.detail_text);
    setText(row, "progress-rate", m.rate_text);
    setText(row, "progress-folder", m.current_folder);
    setBar(row, m.done, m.total);
  }

  function statusClass(s) {
    if (s === "failed") { return "line-failed"; }
    if (s === "pending" || s === "") { return "muted"; }
    return "status-" + s;
  }

  function patchProgress(s) {
    var table = document.querySelector("[data-testid=progress]");
    if (!table || !s.mailboxes) { return; }
    s.mailboxes.forEach(function (m) {
      var row = table.querySelector("[data-testid=progress-row][data-line='" + m.line_no + "']");
      if (row) { patchLine(row, m); }
    });
    if (s.totals) {
      var foot = table.querySelector("[data-testid=progress-total]");
      if (foot) {
        foot.setAttribute("data-done", String(s.totals.done));
        foot.setAttribute("data-total", String(s.totals.total));
        setText(foot, "progress-count", s.totals.count_text);
        setText(foot, "progress-detail", s.totals.detail_text);
        setText(foot, "progress-rate", s.totals.rate_text);
        setBar(foot, s.totals.done, s.totals.total);
      }
      setText(document, "progress-summary", s.totals.text);
    }
  }

  function patchValidation(s) {
    var p = document.querySelector("[data-testid=validation-progress]");
    if (p) { p.max = s.total || 1; p.value = s.validated; }
    setText(document, "validation-count", s.validated + "/" + s.total);
    setText(document, "status-progress", s.validated + "/" + s.total);
  }

  // The focused element, found again in the new region by id or data-testid.
  function focusKey() {
    var a = document.activeElement;
    var b = box();
    if (!a || !b || !b.contains(a)) { return null; }
    if (a.id) { return "#" + a.id; }
    var t = a.getAttribute("data-testid");
    return t ? "[data-testid='" + t + "']" : null;
  }

  // Fetches the page again and replaces its state region.
  function swap(s) {
    return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-swap=migration]");
        var old = box();
        if (!fresh || !old) { return; }
        var key = focusKey();
        old.parentNode.replaceChild(document.importNode(fresh, true), old);
        // A one-time note of the earlier state ("we are checking every
        // line") is out of date now.
        var flash = document.querySelector("[data-testid=flash][role=status]");
        if (flash) { flash.parentNode.removeChild(flash); }
        if (key) {
          var f = document.querySelector(key);
          if (f && typeof f.focus === "function") { f.focus({ preventScroll: true }); }
        }
        announce(s.detail ? s.label + " · " + s.detail : s.label);
      });
  }

  // A scheduled migration is only waiting for its next run: look every 30
  // seconds, and every 2 once the run is due within that.
  function untilNextRun(runs) {
    var wait = 30000;
    (runs || []).forEach(function (r) {
      if (r.status !== "scheduled" || !r.scheduled_at) { return; }
      var ms = Date.parse(r.scheduled_at) - Date.now();
      if (!isNaN(ms)) { wait = Math.min(wait, Math.max(ms, 2000)); }
    });
    return wait;
  }

  function poll() {
    var url = attr("data-status-url");
    if (!url) { return; } // the migration has ended: nothing more to follow
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        patchValidation(s);
        var changed = s.status !== attr("data-migration-status") ||
          String(s.current_run || 0) !== (attr("data-progress-run") || "0");
        if (!changed) { patchProgress(s); }
        return (changed ? swap(s) : Promise.resolve()).then(function () {
          var slow = s.status === "scheduled" || s.status === "between_runs";
          window.setTimeout(poll, slow ? untilNextRun(s.runs) : 2000);
        });
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  if (attr("data-status-url")) { window.setTimeout(poll, 1500); }
})();
