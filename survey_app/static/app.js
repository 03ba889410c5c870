// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    // One click, one submission: a second click while the first is on its way does nothing.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.submitting === "1") { event.preventDefault(); return; }
        form.dataset.submitting = "1";
        var chosen = event.submitter;
        if (chosen && chosen.name) {
          var carry = document.createElement("input");
          carry.type = "hidden"; carry.name = chosen.name; carry.value = chosen.value;
          form.appendChild(carry);
        }
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      });
    });
  });
})();
