// The admin's Markdown editor: a live preview beside each Markdown field, and
// a "copy preview link" button. The change form works the same without it.
(function () {
  "use strict";

  // Article and fix bodies render as articles; FAQ answers as short snippets.
  const FIELDS = [
    { match: /^body$/, mode: "block" },
    { match: /^fixes-\d+-body$/, mode: "block" },
    { match: /^faq-\d+-answer$/, mode: "inline" },
    { match: /^answer$/, mode: "inline" },  // one FAQ entry on its own page
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

  // Fixes in the order visitors try them: "Move up" / "Move down" buttons (the
  // keyboard way) and drag and drop reorder the stacked fix forms, then number
  // their order fields 1, 2, 3... so saving keeps what the editor sees.
  function reorderable(group) {
    const status = document.createElement("p");
    status.className = "editor-order-status";
    status.setAttribute("role", "status");
    group.prepend(status);
    let dragged = null;

    function items() {
      return Array.from(group.querySelectorAll(":scope .inline-related:not(.empty-form)"));
    }
    function title(item) {
      const input = item.querySelector("input[name$='-title']");
      return input && input.value ? input.value : "this fix";
    }
    function renumber(moved) {
      items().forEach(function (item, index) {
        const order = item.querySelector("input[name$='-order']");
        if (order) order.value = String(index + 1);
      });
      if (moved) status.textContent = "Moved “" + title(moved) + "” to position " + (items().indexOf(moved) + 1) + " of " + items().length + ". Save to keep the new order.";
    }
    function move(item, step) {
      const list = items();
      const to = list.indexOf(item) + step;
      if (to < 0 || to >= list.length) return;
      if (step < 0) list[to].before(item); else list[to].after(item);
      renumber(item);
    }
    function tools(item) {
      if (item.dataset.reorderAttached) return;
      item.dataset.reorderAttached = "1";
      const bar = document.createElement("div");
      bar.className = "editor-order-tools";
      [["Move up", -1], ["Move down", 1]].forEach(function (spec) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button";
        button.textContent = spec[0];
        button.addEventListener("click", function () {
          move(item, spec[1]);
          button.focus();
        });
        bar.append(button);
      });
      const handle = document.createElement("span");
      handle.className = "editor-drag-handle";
      handle.textContent = "Drag to reorder";
      handle.setAttribute("aria-hidden", "true");  // the buttons are the accessible way
      bar.prepend(handle);
      item.prepend(bar);
      // Dragged by the handle only: text in the fields stays selectable.
      handle.draggable = true;
      handle.addEventListener("dragstart", function (event) {
        dragged = item;
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", title(item));
      });
      item.addEventListener("dragover", function (event) {
        if (dragged && dragged !== item) event.preventDefault();
      });
      item.addEventListener("drop", function (event) {
        if (!dragged || dragged === item) return;
        event.preventDefault();
        const list = items();
        if (list.indexOf(dragged) < list.indexOf(item)) item.after(dragged); else item.before(dragged);
        renumber(dragged);
        dragged = null;
      });
      handle.addEventListener("dragend", function () { dragged = null; });
    }
    items().forEach(tools);
    document.addEventListener("formset:added", function (event) {
      if (group.contains(event.target)) { tools(event.target); renumber(null); }
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
    const fixes = document.getElementById("fixes-group");
    if (fixes) reorderable(fixes);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
