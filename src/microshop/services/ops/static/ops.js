// Live updates of the console's panels (instances, sagas, dead letters) over
// server-sent events. Written for microshop, part of it like any of its files; no
// library. Without JavaScript the page still works: reload it to refresh.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var source = new EventSource(live.getAttribute("data-stream"));
  source.addEventListener("panels", function (event) {
    // Keep the keyboard focus where it was when the panels are replaced.
    var focused = document.activeElement;
    var focusedLabel = focused && live.contains(focused) ? focused.getAttribute("aria-label") : null;
    live.innerHTML = event.data;
    if (focusedLabel) {
      var again = live.querySelector('[aria-label="' + CSS.escape(focusedLabel) + '"]');
      if (again) { again.focus(); }
    }
    live.setAttribute("data-updated", String(Date.now()));
  });
})();
