// Keeps an order's status current while its saga runs: fetches the status part of
// the page again and swaps it in, until the order is final. Without JavaScript the
// page refreshes itself instead (the <noscript> refresh in its head).
"use strict";
(function () {
  const live = document.getElementById("order-live");
  if (!live) {
    return;
  }
  // Quick at first (most sagas end within a second), then every 2 s, for at most
  // about ten minutes: a page left open does not poll forever.
  const delays = [250, 400, 700, 1000, 2000];
  const maxAttempts = 300;
  let attempt = 0;
  let shown = live.innerHTML;

  function isFinal() {
    const status = document.getElementById("order-status");
    return !status || status.dataset.final === "true";
  }

  async function refresh() {
    if (isFinal() || attempt >= maxAttempts) {
      return;
    }
    attempt += 1;
    try {
      // redirect: "error": a session that expired meanwhile must not swap the
      // sign-in page into this one.
      const reply = await fetch(live.dataset.src, {
        credentials: "same-origin",
        redirect: "error",
        cache: "no-store",
        headers: { Accept: "text/html" },
      });
      if (reply.ok) {
        const html = await reply.text();
        if (html !== shown) {
          live.innerHTML = html;
          shown = html;
        }
      }
    } catch (error) {
      // Offline for a moment, or signed out: the next attempt says.
    }
    setTimeout(refresh, delays[Math.min(attempt, delays.length - 1)]);
  }

  setTimeout(refresh, delays[0]);
})();
