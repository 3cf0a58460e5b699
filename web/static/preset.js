// Nuova Migrazione: shows the guide of the server type chosen in the
// select, and hides the others' (see presetGuide).
(function () {
  "use strict";
  var select = document.getElementById("preset");
  if (!select) { return; }
  function show() {
    var guides = document.querySelectorAll("[data-preset-guide]");
    for (var i = 0; i < guides.length; i++) {
      guides[i].hidden = guides[i].getAttribute("data-preset-guide") !== select.value;
    }
  }
  select.addEventListener("change", show);
  show();
})();
