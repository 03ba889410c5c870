// The monitoring dashboard refreshes its figures in place; without this file it is a plain page.
(function () {
  "use strict";

  function openDetails(element) {
    var open = [];
    element.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
    return open;
  }

  function replace(element, html) {
    var open = openDetails(element);
    var focused = document.activeElement;
    var focusedId = focused && element.contains(focused) ? focused.id : "";
    element.innerHTML = html;
    open.forEach(function (id) {
      var details = document.getElementById(id);
      if (details) { details.open = true; }
    });
    if (focusedId) {
      var again = document.getElementById(focusedId);
      if (again) { again.focus(); }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-monitor-data]");
    if (!root || !window.fetch) { return; }
    var url = root.getAttribute("data-monitor-data");
    var seconds = parseInt(root.getAttribute("data-refresh-seconds"), 10) || 15;
    var status = document.getElementById("monitor-refresh-status");
    var paused = false;
    var timer = null;

    var button = document.createElement("button");
    button.type = "button";
    button.className = "link-button";
    button.setAttribute("aria-pressed", "false");
    button.textContent = root.getAttribute("data-pause-label");
    button.addEventListener("click", function () {
      paused = !paused;
      button.setAttribute("aria-pressed", paused ? "true" : "false");
      button.textContent = root.getAttribute(paused ? "data-resume-label" : "data-pause-label");
      if (!paused) { refresh(); }
    });
    if (status && status.parentNode) { status.parentNode.insertBefore(button, status); }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, seconds * 1000);
    }

    function refresh() {
      if (paused || document.hidden) { schedule(); return; }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || type.indexOf("application/json") === -1) {
            throw new Error("no figures");
          }
          return response.json();
        })
        .then(function (figures) {
          Object.keys(figures.html || {}).forEach(function (id) {
            var element = document.getElementById(id);
            if (element) { replace(element, figures.html[id]); }
          });
          if (status) { status.textContent = ""; }
          schedule();
        })
        .catch(function () {
          if (status) { status.textContent = root.getAttribute("data-failed-label"); }
          schedule();
        });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !paused) { refresh(); }
    });
    schedule();
  });
})();
