// Follows a migration that is validating, scheduled or running: polls its
// status.json and updates the validation progress, the runs' statuses and
// the per-mailbox progress table; when the migration's status (or the run
// it follows) changes, reloads the page to show the new state.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box || !box.getAttribute("data-status-url")) { return; }
  var url = box.getAttribute("data-status-url");
  var initial = box.getAttribute("data-migration-status") || "";
  var shownRun = parseInt(box.getAttribute("data-progress-run") || "0", 10);
  var progress = document.querySelector("[data-testid=validation-progress]");
  var label = document.querySelector("[data-testid=validation-count]");

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function bar(done, total) {
    var cell = el("td");
    var p = el("progress", { max: String(Math.max(total, 1)) });
    p.value = done;
    cell.appendChild(p);
    cell.appendChild(document.createTextNode(" "));
    cell.appendChild(el("span", { "data-testid": "progress-count" }, done + "/" + total));
    return cell;
  }

  function statusClass(s) {
    if (s === "failed") { return "line-failed"; }
    if (s === "pending" || s === "") { return "muted"; }
    return "status-" + s;
  }

  function updateRuns(runs) {
    (runs || []).forEach(function (r) {
      var row = document.querySelector("[data-testid=run-row][data-run='" + r.run_no + "']");
      if (!row) { return; }
      var st = row.querySelector("[data-testid=run-status]");
      if (st) { st.textContent = r.label; }
    });
  }

  function updateProgress(s) {
    var table = document.querySelector("[data-testid=progress]");
    if (!table || !s.mailboxes) { return; }
    var body = table.querySelector("tbody");
    var rows = document.createDocumentFragment();
    s.mailboxes.forEach(function (m) {
      var tr = el("tr", { "data-testid": "progress-row", "data-status": m.status });
      tr.appendChild(el("td", { "data-testid": "progress-local" }, m.local_user));
      var st = el("td", { "data-testid": "progress-status", "class": statusClass(m.status) }, m.label);
      if (m.error) {
        st.appendChild(el("br"));
        st.appendChild(el("span", { "class": "line-failed", "data-testid": "progress-error" }, m.error));
      }
      tr.appendChild(st);
      tr.appendChild(bar(m.done, m.total));
      tr.appendChild(el("td", { "class": "num", "data-testid": "progress-bytes" }, m.bytes_text));
      tr.appendChild(el("td", { "data-testid": "progress-folder" }, m.current_folder));
      rows.appendChild(tr);
    });
    while (body.firstChild) { body.removeChild(body.firstChild); }
    body.appendChild(rows);
    if (s.totals) {
      var foot = table.querySelector("[data-testid=progress-total]");
      if (foot) {
        var count = foot.querySelector("[data-testid=progress-count]");
        var p = foot.querySelector("progress");
        var bytes = foot.querySelector("[data-testid=progress-bytes]");
        if (count) { count.textContent = s.totals.done + "/" + s.totals.total; }
        if (p) { p.max = Math.max(s.totals.total, 1); p.value = s.totals.done; }
        if (bytes) { bytes.textContent = s.totals.bytes_text; }
      }
      var summary = document.querySelector("[data-testid=progress-summary]");
      if (summary) { summary.textContent = s.totals.text; }
    }
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
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        if (progress) { progress.max = s.total || 1; progress.value = s.validated; }
        if (label) { label.textContent = s.validated + "/" + s.total; }
        updateRuns(s.runs);
        updateProgress(s);
        if (s.status !== initial || (s.current_run || 0) !== shownRun) { window.location.reload(); return; }
        window.setTimeout(poll, s.status === "scheduled" ? untilNextRun(s.runs) : 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
