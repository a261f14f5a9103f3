// Keeps the sending progress page up to date without reloading it. Progressive enhancement:
// without this file the page has a "Refresh the figures" link. The summary sentence is a
// polite live region, so a screen reader hears each change when it is free.
(function () {
  "use strict";
  var box = document.getElementById("send-progress");
  if (!box || !box.dataset.progressUrl) { return; }
  var url = box.dataset.progressUrl;

  function pick(data, path) {
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? value : value[key];
    }, data);
  }

  function show(data) {
    box.querySelectorAll("[data-progress]").forEach(function (element) {
      var path = element.getAttribute("data-progress");
      var value = pick(data, path);
      if (path === "held_up") {
        element.hidden = !value;
      } else if (value !== undefined && value !== null && element.textContent !== String(value)) {
        element.textContent = String(value);
      }
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) { show(data); }
        if (!data || !data.done) { window.setTimeout(poll, 5000); }
      })
      .catch(function () { window.setTimeout(poll, 15000); });
  }

  window.setTimeout(poll, 5000);
})();
