// The only script of the desk's pages: the Bandeja's rows refreshed every 8 seconds (new cases
// appear without reloading). Everything else works without it.
(function () {
  "use strict";
  var body = document.querySelector("tbody[data-live]");
  if (!body || !window.fetch) { return; }
  var url = body.getAttribute("data-live");
  var last = null;
  function refresh() {
    if (document.hidden || body.querySelector("input:checked")) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || html === last) { return; }
        body.innerHTML = html;
        last = html;
      })
      .catch(function () {});
  }
  setInterval(refresh, 8000);
})();
