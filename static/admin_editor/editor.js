// The admin's Markdown editor: a live preview beside each Markdown field, and
// a "copy preview link" button. The change form works the same without it.
(function () {
  "use strict";

  // Article and fix bodies render as articles; FAQ answers as short snippets.
  const FIELDS = [
    { match: /^body$/, mode: "block" },
    { match: /^fixes-\d+-body$/, mode: "block" },
    { match: /^faq-\d+-answer$/, mode: "inline" },
  ];

  function modeFor(name) {
    for (const field of FIELDS) {
      if (field.match.test(name)) return field.mode;
    }
    return null;
  }

  function attach(textarea, url) {
    const mode = modeFor(textarea.name);
    if (!mode || textarea.dataset.previewAttached) return;
    textarea.dataset.previewAttached = "1";

    const split = document.createElement("div");
    split.className = "editor-split";
    const panel = document.createElement("section");
    panel.className = "editor-preview";
    panel.setAttribute("aria-label", "Preview of " + (textarea.labels[0] ? textarea.labels[0].textContent.replace(/:\s*$/, "") : "this field"));
    const title = document.createElement("p");
    title.className = "editor-preview-title";
    title.textContent = "Preview, as the public page shows it";
    const output = document.createElement("div");
    output.id = textarea.id + "-preview";
    output.className = "editor-preview-output";
    panel.append(title, output);
    textarea.parentNode.insertBefore(split, textarea);
    split.append(textarea, panel);

    // Only this field (plus the CSRF token) is posted, not the whole form.
    textarea.setAttribute("hx-post", url);
    textarea.setAttribute("hx-trigger", "input changed delay:300ms, load");
    textarea.setAttribute("hx-target", "#" + output.id);
    textarea.setAttribute("hx-swap", "innerHTML");
    textarea.setAttribute("hx-sync", "this:replace");
    textarea.setAttribute("hx-params", textarea.name + ",field,mode,csrfmiddlewaretoken");
    textarea.setAttribute("hx-vals", JSON.stringify({ field: textarea.name, mode: mode }));
    window.htmx.process(textarea);
  }

  function attachAll(root, url) {
    root.querySelectorAll("textarea").forEach(function (textarea) {
      if (!textarea.name.includes("__prefix__")) attach(textarea, url);
    });
  }

  // A running count under each summary: it becomes the search snippet and the
  // link description, which are cut after about data-shown-chars characters.
  function counter(field) {
    if (field.dataset.counterAttached || field.name.includes("__prefix__")) return;
    field.dataset.counterAttached = "1";
    const shown = Number(field.dataset.shownChars);
    const out = document.createElement("p");
    out.className = "editor-counter";
    out.id = field.id + "-counter";
    out.setAttribute("aria-live", "polite");
    field.setAttribute("aria-describedby", ((field.getAttribute("aria-describedby") || "") + " " + out.id).trim());
    field.insertAdjacentElement("afterend", out);
    function update() {
      const length = Array.from(field.value).length;
      out.textContent = length + " characters" + (length > shown ? ", " + (length - shown) + " past what search results show" : " of about " + shown + " shown in search results");
      out.classList.toggle("editor-counter-over", length > shown);
    }
    field.addEventListener("input", update);
    update();
  }

  function countAll(root) {
    root.querySelectorAll("[data-shown-chars]").forEach(counter);
  }

  function copyLink(link) {
    link.addEventListener("click", function (event) {
      if (!navigator.clipboard) return; // without clipboard access it opens the preview
      event.preventDefault();
      navigator.clipboard.writeText(link.dataset.copy).then(function () {
        link.textContent = "Preview link copied";
      }, function () {
        window.location.href = link.href;
      });
    });
  }

  function start() {
    const config = document.getElementById("editor-config");
    if (config && window.htmx) {
      const url = config.dataset.previewUrl;
      attachAll(document, url);
      // Fixes and FAQ entries added with "Add another" get a preview too.
      document.addEventListener("formset:added", function (event) {
        attachAll(event.target, url);
      });
    }
    countAll(document);
    document.addEventListener("formset:added", function (event) { countAll(event.target); });
    document.querySelectorAll(".editor-copy-link").forEach(copyLink);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
