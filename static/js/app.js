// Small progressive enhancements. The pages work without this file.
(function () {
  "use strict";

  function cookie(name) {
    const prefix = name + "=";
    for (const part of document.cookie.split(";")) {
      const item = part.trim();
      if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
    }
    return "";
  }
  // The one cookie reader: checks.js reads the CSRF token through it too.
  window.helpcenterCookie = cookie;

  // Article pages carry no CSRF token (they are cached and shared); the
  // uncached panel fragment sets the cookie, and every htmx request sends it.
  // Several fragments load at once on a first visit, each setting a fresh
  // cookie; a form fragment's hidden token may then belong to an older one.
  // Django checks a posted field before the header, so the field gets the
  // cookie's current token too.
  document.addEventListener("htmx:configRequest", function (event) {
    const token = cookie("csrftoken");
    if (!token) return;
    event.detail.headers["X-CSRFToken"] = token;
    // (htmx 2 hands over a FormData proxy: read and write by name, no "in".)
    if (event.detail.parameters && event.detail.parameters["csrfmiddlewaretoken"]) {
      event.detail.parameters["csrfmiddlewaretoken"] = token;
    }
  });

  // htmx leaves 4xx answers unswapped; fragments that explain them in words
  // (a 429 "try again later", a 400 "choose yes or no") opt in with data-swap-errors
  // on the element that sends the request. The event's own elt is the swap target,
  // which for the run form is the panel around it, so ask the sender.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const status = event.detail.xhr.status;
    const sender = event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt;
    if (status >= 400 && status < 500 && sender && sender.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Copy-link buttons. Without JavaScript (or without clipboard access, which
  // browsers only grant to secure pages) they stay plain links to the anchor.
  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    // A fresh text node after clearing makes screen readers repeat the message.
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function copyButton(link) {
    const hash = link.getAttribute("href");
    const button = document.createElement("button");
    button.type = "button";
    button.className = link.className + " copy-link";
    button.textContent = link.classList.contains("headerlink") ? "#" : "Copy link";
    let label = link.dataset.label;
    if (!label) {
      const heading = link.closest("h2, h3, h4");
      const name = heading ? heading.textContent.replace(/#\s*$/, "").trim() : "";
      label = "Copy link to " + (name ? "\u201c" + name + "\u201d" : "this section");
    }
    button.setAttribute("aria-label", label);
    button.addEventListener("click", function () {
      const url = new URL(hash, window.location.href).href;
      navigator.clipboard.writeText(url).then(
        function () {
          history.replaceState(null, "", hash);
          announce("Link copied");
        },
        function () { window.location.hash = hash; }
      );
    });
    link.replaceWith(button);
  }

  function enhanceCopyLinks() {
    if (!navigator.clipboard || !window.isSecureContext) return;
    document.querySelectorAll("a.copy-link, .prose a.headerlink").forEach(copyButton);
  }

  // Each fix's Markdown is rendered on its own, so two fixes on one page can
  // carry the same tab ids and radio-group name; then one fix's tabs would
  // switch another's. Give every tab set on the page its own names.
  function separateTabSets() {
    document.querySelectorAll(".tabbed-set").forEach(function (set, i) {
      const inputs = set.querySelectorAll(":scope > input[type=radio]");
      const labels = set.querySelectorAll(":scope > .tabbed-labels > label");
      inputs.forEach(function (input, j) {
        input.id = "tabs-" + i + "-" + j;
        input.name = "tabs-" + i;
        if (labels[j]) labels[j].htmlFor = input.id;
      });
      if (inputs.length && !set.querySelector(":scope > input:checked")) inputs[0].checked = true;
    });
  }

  // The contents: open beside the text where the screen is wide (CSS places it),
  // folded on phones; the section being read is marked with aria-current.
  function followContents() {
    const toc = document.querySelector("details[data-toc]");
    if (!toc) return;
    const wide = window.matchMedia("(min-width: 64rem)");
    const fit = function () { if (wide.matches) toc.open = true; };
    fit();
    wide.addEventListener("change", fit);
    const links = Array.from(toc.querySelectorAll('a[href^="#"]'));
    const sections = links
      .map(function (link) { return [link, document.getElementById(decodeURIComponent(link.hash.slice(1)))]; })
      .filter(function (pair) { return pair[1]; });
    let scheduled = false;
    function mark() {
      scheduled = false;
      let current = null;
      for (const [link, section] of sections) {
        if (section.getBoundingClientRect().top <= 96) current = link;
      }
      for (const [link] of sections) {
        if (link === current) link.setAttribute("aria-current", "location");
        else link.removeAttribute("aria-current");
      }
    }
    window.addEventListener("scroll", function () {
      if (!scheduled) { scheduled = true; window.requestAnimationFrame(mark); }
    }, { passive: true });
    mark();
  }

  function enhance() {
    separateTabSets();
    enhanceCopyLinks();
    followContents();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
