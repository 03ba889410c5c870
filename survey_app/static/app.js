// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
      // A link to a field shows its whole question (legend, hint, error), not the bare input.
      summary.querySelectorAll("a[href^='#']").forEach(function (link) {
        link.addEventListener("click", function (event) {
          var field = document.getElementById(link.getAttribute("href").slice(1));
          if (!field) { return; }
          event.preventDefault();
          var question = field.closest(".question") || field;
          var top = question.getBoundingClientRect().top + window.pageYOffset - 16;
          window.scrollTo(0, Math.max(0, top));
          field.focus({ preventScroll: true });
        });
      });
    }
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
