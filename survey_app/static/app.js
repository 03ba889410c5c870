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
    // Switching language on a page of answers sends what was typed (kept, not checked), so the
    // page comes back in the other language as it was; without this file the link just opens
    // the page in the other language with the answers saved before.
    var answers = document.querySelector("form.page-form");
    if (answers) {
      document.querySelectorAll(".languages a[hreflang]").forEach(function (link) {
        link.addEventListener("click", function (event) {
          if (answers.dataset.submitting === "1") { event.preventDefault(); return; }
          event.preventDefault();
          answers.dataset.submitting = "1";
          var carry = document.createElement("input");
          carry.type = "hidden"; carry.name = "action";
          carry.value = "language:" + link.getAttribute("hreflang");
          answers.appendChild(carry);
          answers.submit();
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
