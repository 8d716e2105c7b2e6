// Browser-side checks for a check run, and the support message's copy button.
// The report works without this file: the server's checks and the verdict
// stand alone; with it, the verdict also knows what the visitor's browser sees.
(function () {
  "use strict";

  // base.html loads this file on every page and some pages name it again:
  // run once, or each check would be sent twice.
  if (window.helpcenterChecksLoaded) return;
  window.helpcenterChecksLoaded = true;

  const TIMEOUT_MS = 8000;

  // app.js owns the cookie reader; base.html loads it on every page, and it has
  // run by the time a check posts (a page may name this file earlier in <head>).
  function csrfToken() {
    return window.helpcenterCookie ? window.helpcenterCookie("csrftoken") : "";
  }
  const started = new Set(); // run ids whose browser checks this page already ran

  // A fetch the page's own CSP refuses fails exactly like a dead network. Those
  // must not read as "your browser cannot reach it", so they are marked skipped.
  const refused = new Set();
  document.addEventListener("securitypolicyviolation", function (event) {
    if (event.blockedURI) refused.add(event.blockedURI);
  });

  // Cross-origin answers are opaque to a page: all a browser can learn is
  // whether the request got through, and how long it took.
  async function reach(url) {
    const controller = new AbortController();
    const timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    const begin = performance.now();
    try {
      await fetch(url, { mode: "no-cors", cache: "no-store", credentials: "omit",
                         redirect: "follow", signal: controller.signal });
      return { outcome: "ok", ms: Math.round(performance.now() - begin) };
    } catch (error) {
      const ms = Math.round(performance.now() - begin);
      if (controller.signal.aborted) return { outcome: "timeout", ms: ms };
      // Let a pending securitypolicyviolation event land before deciding.
      await new Promise(function (resolve) { setTimeout(resolve, 0); });
      for (const blocked of refused) {
        if (url.startsWith(blocked) || blocked.startsWith(new URL(url).origin)) {
          return { outcome: "skipped", ms: null };
        }
      }
      return { outcome: "failed", ms: ms };
    } finally {
      clearTimeout(timer);
    }
  }

  async function runBrowserChecks(element) {
    const runId = element.dataset.runId;
    if (!runId || started.has(runId)) return;
    started.add(runId);
    const targets = JSON.parse(element.dataset.browserChecks || "[]");
    const serverNow = Number(element.dataset.serverNow || "0");
    const report = {
      online: navigator.onLine,
      cookies: navigator.cookieEnabled,
      clock_offset_ms: serverNow ? Math.round(serverNow - Date.now()) : null,
      fetches: {},
    };
    const answers = await Promise.all(targets.map(function (t) { return reach(t.url); }));
    targets.forEach(function (t, i) { report.fetches[t.slug] = answers[i]; });
    try {
      // Asked as htmx asks, the server answers with the panel, its verdict now
      // refined by what this browser saw: it replaces the panel in place.
      const response = await fetch(element.dataset.browserPost, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(),
                   "HX-Request": "true" },
        body: JSON.stringify(report),
      });
      const current = document.querySelector('.run-status[data-run-id="' + runId + '"]');
      if (response.status === 200 && current && window.htmx) {
        window.htmx.swap(current, await response.text(), { swapStyle: "outerHTML" });
      }
    } catch (error) {
      // The server's own verdict stands.
    }
  }

  // A run in flight: poll its report on a back-off schedule (the server's
  // data-poll-schedule, in seconds, the last wait repeating). A poll that finds
  // nothing new gets 204 and no swap, and the next one waits longer; a change
  // swaps in a new panel, which keeps counting from where the old one was.
  const pollSteps = new Map(); // run id -> polls made so far
  const pollPending = new WeakSet(); // elements with a poll already timed (scanned twice at load)

  function schedulePoll(element) {
    if (pollPending.has(element)) return;
    const schedule = (element.dataset.pollSchedule || "").split(",").map(Number)
      .filter(function (wait) { return wait > 0; });
    if (!schedule.length || !element.dataset.runId) return;
    const step = pollSteps.get(element.dataset.runId) || 0;
    pollSteps.set(element.dataset.runId, step + 1);
    const wait = schedule[Math.min(step, schedule.length - 1)];
    pollPending.add(element);
    setTimeout(function () {
      pollPending.delete(element);
      if (element.isConnected && window.htmx) window.htmx.trigger(element, "checks:poll");
    }, wait * 1000);
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    const element = event.detail.elt;
    // No swap (204, or a failed request): the same element asks again, later.
    if (element.matches && element.matches("[data-poll-schedule]") && element.isConnected &&
        event.detail.xhr && event.detail.xhr.status !== 200 && event.detail.xhr.status !== 286) {
      schedulePoll(element);
    }
  });

  function scan(root) {
    // Tell the form this page will run browser checks, so the report waits for them.
    root.querySelectorAll("[data-browser-checks-flag]").forEach(function (input) {
      input.value = "1";
    });
    root.querySelectorAll("[data-browser-checks]").forEach(runBrowserChecks);
    root.querySelectorAll("[data-poll-schedule]").forEach(schedulePoll);
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
    if (root.matches && root.matches("[data-browser-checks]")) runBrowserChecks(root);
    if (root.matches && root.matches("[data-poll-schedule]")) schedulePoll(root);
  }

  document.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const field = document.querySelector(button.dataset.copy);
    if (!field) return;
    try {
      await navigator.clipboard.writeText(field.value);
    } catch (error) {
      field.select(); // the visitor can still copy it by hand
      return;
    }
    button.textContent = "Copied";
  });

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });
})();
