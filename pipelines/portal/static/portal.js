// The portal's only script (served by the app; the CSP forbids inline script).
// A submission still in progress polls its status and reloads once it is final, so the unit
// sees "received -> final" without reloading by hand. The decisions list reloads while a
// decision is being recorded.
(function () {
  "use strict";
  var receipt = document.querySelector("[data-poll]");
  if (receipt) {
    var url = receipt.getAttribute("data-poll");
    var label = document.getElementById("status");
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          if (label) {
            label.textContent = s.status_zh;
            label.className = "status s-" + s.status;
          }
          if (s.final) { window.location.reload(); } else { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 500);
  }
  var pending = document.querySelector("[data-reload]");
  if (pending) {
    setTimeout(function () { window.location.reload(); },
               parseInt(pending.getAttribute("data-reload"), 10) || 3000);
  }
}());
