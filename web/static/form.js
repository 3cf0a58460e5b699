// Moves the focus to the first field a form refused, so a keyboard or
// screen-reader user lands on what to fix; links of an error summary
// (href="#field") focus their field too.
(function () {
  "use strict";
  var bad = document.querySelector("form [aria-invalid=true]");
  if (bad && typeof bad.focus === "function") { bad.focus(); }
  document.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("a[data-focus]") : null;
    if (!a) { return; }
    var f = document.getElementById(a.getAttribute("data-focus"));
    if (f) { e.preventDefault(); f.focus(); }
  });
})();
