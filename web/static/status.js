// Follows a validating migration: polls its status.json and updates the
// progress; when validation ends, reloads the page to show the results.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box || !box.getAttribute("data-status-url")) { return; }
  var url = box.getAttribute("data-status-url");
  var progress = document.querySelector("[data-testid=validation-progress]");
  var label = document.querySelector("[data-testid=validation-count]");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        if (progress) { progress.max = s.total || 1; progress.value = s.validated; }
        if (label) { label.textContent = s.validated + "/" + s.total; }
        if (s.status !== "validating") { window.location.reload(); return; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
