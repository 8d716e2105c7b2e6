// The admin's Markdown editor: a live preview beside each Markdown field, and
// a "copy preview link" button. The change form works the same without it.
(function () {
  "use strict";

  // gettext, ngettext and interpolate come from the admin's JavaScript catalogue
  // (admin:jsi18n), which Django's change form loads before this script.
  const gettext = window.gettext;
  const ngettext = window.ngettext;
  const interpolate = window.interpolate;
  function format(text, values) { return interpolate(text, values, true); }
  function fieldName(textarea) {
    return textarea.labels[0] ? textarea.labels[0].textContent.replace(/:\s*$/, "") : null;
  }

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
    panel.setAttribute("aria-label", format(gettext("Preview of %(field)s"), { field: fieldName(textarea) || gettext("this field") }));
    const title = document.createElement("p");
    title.className = "editor-preview-title";
    title.textContent = gettext("Preview, as the public page shows it");
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
      out.textContent = length > shown
        ? format(ngettext("%(length)s character, %(over)s past what search results show", "%(length)s characters, %(over)s past what search results show", length), { length: length, over: length - shown })
        : format(ngettext("%(length)s character of about %(shown)s shown in search results", "%(length)s characters of about %(shown)s shown in search results", length), { length: length, shown: shown });
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
        link.textContent = gettext("Preview link copied");
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
      return input && input.value ? input.value : gettext("this fix");
    }
    function renumber(moved) {
      items().forEach(function (item, index) {
        const order = item.querySelector("input[name$='-order']");
        if (order) order.value = String(index + 1);
      });
      if (moved) status.textContent = format(gettext("Moved “%(title)s” to position %(position)s of %(count)s. Save to keep the new order."), { title: title(moved), position: items().indexOf(moved) + 1, count: items().length });
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
      [[gettext("Move up"), -1], [gettext("Move down"), 1]].forEach(function (spec) {
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
      handle.textContent = gettext("Drag to reorder");
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


  // --- The toolbar: headings, browser tabs, boxes, links and images without syntax ---
  // Each button opens a small dialog of plain fields and writes the Markdown for
  // the editor; the textarea stays the source, so the form works without this.

  const BROWSERS = ["Chrome", "Firefox", "Safari", "Edge"];
  // Ids the article page uses itself; helpcenter/editing.py RESERVED_IDS.
  const RESERVED_IDS = ["main", "fixes", "faq", "related", "toc-heading", "other-fixes"];
  const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || "");

  // The same ids as helpcenter/markdown.py heading_id_for.
  function headingId(text, taken) {
    let base = text.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60).replace(/-+$/, "");
    if (!base) base = "section";
    if (base.startsWith("fix-") || base.startsWith("faq-")) base = "section-" + base;
    let candidate = base;
    for (let n = 2; taken.has(candidate); n++) candidate = base + "-" + n;
    return candidate;
  }

  function takenIds(textarea) {
    const taken = new Set(RESERVED_IDS);
    const pattern = /\{:?[^{}\n]*?#([a-z0-9][a-z0-9-]*)[^{}\n]*\}/g;
    let match;
    while ((match = pattern.exec(textarea.value)) !== null) taken.add(match[1]);
    return taken;
  }

  // Text the editor typed, as Markdown that shows it as typed inside [...] or "...".
  function bracketed(text) { return text.replace(/([\\\[\]])/g, "\\$1"); }
  function quoted(text) { return text.replace(/"/g, "\u201d").replace(/\s+/g, " ").trim(); }
  function indented(text) {
    return text.replace(/\r\n?/g, "\n").trim().split("\n").map(function (line) {
      return line.trim() ? "    " + line : "";
    }).join("\n");
  }

  // Where the caret was when a button or shortcut opened a dialog: a modal
  // dialog's closing moves focus around, and Chromium may put the caret of a
  // re-focused textarea at its start.
  const caretAtOpen = new WeakMap();

  // Puts a block on lines of its own (blank lines around it) at the caret, or
  // inline text in place of the selection, then lets the live preview know.
  function insert(textarea, text, block) {
    const saved = caretAtOpen.get(textarea) || [textarea.selectionStart, textarea.selectionEnd];
    const start = Math.min(saved[0], textarea.value.length);
    const end = Math.min(saved[1], textarea.value.length);
    const value = textarea.value;
    let piece = text;
    if (block) {
      const before = value.slice(0, start);
      const after = value.slice(end);
      const lead = before === "" ? "" : before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
      const tail = after.startsWith("\n\n") ? "" : after.startsWith("\n") ? "\n" : "\n\n";
      piece = lead + text + tail;
    }
    textarea.focus();
    textarea.setRangeText(piece, start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  let dialogCount = 0;

  // A modal dialog of labelled fields; resolves with their values, or null.
  function ask(title, fields, submitLabel, onOpen) {
    return new Promise(function (resolve) {
      dialogCount += 1;
      const prefix = "editor-dialog-" + dialogCount;
      const dialog = document.createElement("dialog");
      dialog.className = "editor-dialog";
      dialog.setAttribute("aria-labelledby", prefix + "-heading");
      const form = document.createElement("form");
      form.method = "dialog";
      const heading = document.createElement("h2");
      heading.id = prefix + "-heading";
      heading.textContent = title;
      form.append(heading);
      const inputs = {};
      fields.forEach(function (spec) {
        const row = document.createElement("div");
        row.className = "editor-dialog-row";
        if (spec.element) { row.append(spec.element); form.append(row); return; }
        const id = prefix + "-field-" + spec.name;
        const label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = spec.label;
        let input;
        if (spec.type === "textarea") {
          input = document.createElement("textarea");
          input.rows = spec.rows || 3;
        } else if (spec.type === "select") {
          input = document.createElement("select");
          spec.options.forEach(function (option) {
            const item = document.createElement("option");
            item.value = option[0];
            item.textContent = option[1];
            input.append(item);
          });
        } else {
          input = document.createElement("input");
          input.type = spec.type || "text";
          if (spec.accept) input.accept = spec.accept;
        }
        input.id = id;
        input.name = spec.name;
        if (spec.value) input.value = spec.value;
        if (spec.required) input.required = true;
        row.append(label, input);
        if (spec.help) {
          const help = document.createElement("p");
          help.className = "editor-dialog-help";
          help.id = id + "-help";
          help.textContent = spec.help;
          input.setAttribute("aria-describedby", help.id);
          row.append(help);
        }
        inputs[spec.name] = input;
        form.append(row);
      });
      const error = document.createElement("p");
      error.className = "editor-dialog-error";
      error.setAttribute("role", "alert");
      const buttons = document.createElement("div");
      buttons.className = "editor-dialog-buttons";
      const ok = document.createElement("button");
      ok.type = "submit";
      ok.className = "button default";
      ok.textContent = submitLabel;
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "button";
      cancel.textContent = gettext("Cancel");
      buttons.append(ok, cancel);
      form.append(error, buttons);
      dialog.append(form);
      document.body.append(dialog);

      let answered = false;
      function finish(values) {
        if (answered) return;
        answered = true;
        dialog.close();
        dialog.remove();
        resolve(values);
      }
      const controls = {
        inputs: inputs,
        error: function (message) { error.textContent = message; },
        busy: function (on) { ok.disabled = on; },
        finish: finish,
        validate: null,
      };
      cancel.addEventListener("click", function () { finish(null); });
      dialog.addEventListener("cancel", function () { finish(null); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        const values = {};
        Object.keys(inputs).forEach(function (name) {
          values[name] = inputs[name].type === "file" ? inputs[name].files[0] : inputs[name].value;
        });
        if (controls.validate) {
          controls.validate(values);  // finishes by itself (an upload) or shows an error
        } else {
          finish(values);
        }
      });
      dialog.showModal();
      if (onOpen) onOpen(controls);
    });
  }

  const ACTIONS = [
    {
      key: "h", label: gettext("Heading"), run: function (textarea) {
        ask(gettext("Add a heading"), [
          { name: "text", label: gettext("Heading text"), required: true },
          { name: "level", label: gettext("Level"), type: "select", options: [["2", gettext("Section")], ["3", gettext("Subsection")]] },
          { name: "id", label: gettext("Link to it as"), type: "text", help: gettext("The end of a link that jumps to this heading. Made from the text; kept when you reword the heading later.") },
        ], gettext("Add heading"), function (dialog) {
          const taken = takenIds(textarea);
          const id = dialog.inputs.id;
          id.readOnly = true;
          const selected = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd).trim();
          if (selected && !selected.includes("\n")) dialog.inputs.text.value = selected;
          function update() { id.value = "#" + headingId(dialog.inputs.text.value, taken); }
          dialog.inputs.text.addEventListener("input", update);
          update();
        }).then(function (values) {
          if (!values || !values.text.trim()) return;
          const text = values.text.replace(/\s+/g, " ").trim();
          const hashes = values.level === "3" ? "###" : "##";
          insert(textarea, hashes + " " + text + " {#" + headingId(text, takenIds(textarea)) + "}", true);
        });
      },
    },
    {
      key: "t", label: gettext("Browser tabs"), run: function (textarea) {
        ask(gettext("Add steps per browser"), BROWSERS.map(function (browser) {
          return { name: browser, label: format(gettext("Steps in %(browser)s"), { browser: browser }), type: "textarea", rows: 3 };
        }).concat([{ element: note(gettext("Readers pick their browser's tab. A browser left empty gets no tab.")) }]),
        gettext("Add tabs")).then(function (values) {
          if (!values) return;
          const tabs = BROWSERS.filter(function (browser) { return values[browser].trim(); })
            .map(function (browser) { return '=== "' + browser + '"\n\n' + indented(values[browser]); });
          if (tabs.length) insert(textarea, tabs.join("\n\n"), true);
        });
      },
    },
    {
      key: "b", label: gettext("Tip or warning"), run: function (textarea) {
        ask(gettext("Add a tip or warning box"), [
          { name: "kind", label: gettext("Kind"), type: "select", options: [["tip", gettext("Tip")], ["warning", gettext("Warning")], ["note", gettext("Note")]] },
          { name: "title", label: gettext("Title (optional)") },
          { name: "text", label: gettext("Text"), type: "textarea", rows: 4, required: true },
        ], gettext("Add box")).then(function (values) {
          if (!values || !values.text.trim()) return;
          const title = quoted(values.title);
          insert(textarea, "!!! " + values.kind + (title ? ' "' + title + '"' : "") + "\n\n" + indented(values.text), true);
        });
      },
    },
    {
      key: "d", label: gettext("Collapsible"), run: function (textarea) {
        ask(gettext("Add a collapsible block"), [
          { name: "title", label: gettext("What readers click to open it"), required: true },
          { name: "text", label: gettext("Text inside"), type: "textarea", rows: 4, required: true },
        ], gettext("Add block")).then(function (values) {
          if (!values || !values.text.trim()) return;
          insert(textarea, '??? note "' + quoted(values.title) + '"\n\n' + indented(values.text), true);
        });
      },
    },
    { key: "k", label: gettext("Link"), run: function (textarea, config) { askLink(textarea, config.linkUrl); } },
    { key: "i", label: gettext("Image"), run: function (textarea, config) { askImage(textarea, config.uploadUrl); } },
  ];

  function note(text) {
    const p = document.createElement("p");
    p.className = "editor-dialog-help";
    p.textContent = text;
    return p;
  }

  // A search result as the editor reads it: whole sentences, so a translation may
  // order the parts its own way.
  function choiceLabel(item) {
    if (item.kind === "fix") {
      return item.public ? gettext("Fix: %(title)s (in %(article)s)") : gettext("Fix: %(title)s (in %(article)s) — not published yet");
    }
    return item.public ? gettext("Article: %(title)s") : gettext("Article: %(title)s — not published yet");
  }

  function askLink(textarea, url) {
    const results = document.createElement("fieldset");
    results.className = "editor-link-results";
    const legend = document.createElement("legend");
    legend.textContent = gettext("Link to");
    const list = document.createElement("div");
    const status = document.createElement("p");
    status.className = "editor-dialog-help";
    status.setAttribute("role", "status");
    results.append(legend, status, list);
    const selected = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd).replace(/\s+/g, " ").trim();
    ask(gettext("Link to an article or fix"), [
      { name: "q", label: gettext("Search articles and fixes"), type: "search" },
      { element: results },
      { name: "text", label: gettext("Link text (optional: the title)"), value: selected },
    ], gettext("Add link"), function (dialog) {
      let latest = 0;
      let found = [];
      function search() {
        const number = ++latest;
        fetch(url + "?q=" + encodeURIComponent(dialog.inputs.q.value), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            if (number !== latest) return;
            found = data.results;
            list.replaceChildren();
            status.textContent = found.length ? format(ngettext("%(count)s found", "%(count)s found", found.length), { count: found.length }) : gettext("Nothing found: try other words.");
            found.forEach(function (item, index) {
              const id = "editor-link-choice-" + index;
              const row = document.createElement("div");
              const radio = document.createElement("input");
              radio.type = "radio";
              radio.name = "editor-link-choice";
              radio.id = id;
              radio.value = String(index);
              const label = document.createElement("label");
              label.htmlFor = id;
              label.textContent = format(choiceLabel(item), { title: item.title, article: item.article });
              row.append(radio, label);
              list.append(row);
            });
          }, function () { status.textContent = gettext("The search did not answer; try again."); });
      }
      let timer = null;
      dialog.inputs.q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 200); });
      // Enter in the search box searches rather than submitting the dialog.
      dialog.inputs.q.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); search(); }
      });
      search();
      dialog.validate = function (values) {
        const choice = list.querySelector("input:checked");
        if (!choice) { dialog.error(gettext("Pick an article or fix from the list.")); return; }
        const item = found[Number(choice.value)];
        dialog.finish({ text: values.text.replace(/\s+/g, " ").trim() || item.title, url: item.url });
      };
    }).then(function (values) {
      if (values) insert(textarea, "[" + bracketed(values.text) + "](" + values.url + ")", false);
    });
  }

  function askImage(textarea, url) {
    ask(gettext("Add an image"), [
      { name: "image", label: gettext("Image file (PNG, JPEG, WebP or GIF)"), type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", required: true },
      { name: "alt", label: gettext("What it shows (for readers who cannot see it)"), required: true, help: gettext("For example: Chrome's Clear browsing data window, with Cookies ticked.") },
    ], gettext("Upload and add"), function (dialog) {
      dialog.validate = function (values) {
        if (!values.image) { dialog.error(gettext("Choose an image file.")); return; }
        const alt = values.alt.replace(/\s+/g, " ").trim();
        if (!alt) { dialog.error(gettext("Describe the image for readers who cannot see it.")); return; }
        const body = new FormData();
        body.append("image", values.image);
        body.append("alt", alt);
        const token = document.querySelector("input[name=csrfmiddlewaretoken]");
        dialog.busy(true);
        dialog.error(gettext("Uploading…"));
        fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": token ? token.value : "" } })
          .then(function (response) {
            return response.json().catch(function () { return { error: format(gettext("The upload failed (%(status)s)."), { status: response.status }) }; });
          })
          .then(function (data) {
            dialog.busy(false);
            if (data.error) { dialog.error(data.error); return; }
            dialog.finish({ alt: alt, url: data.url });
          }, function () {
            dialog.busy(false);
            dialog.error(gettext("The upload did not reach the server; try again."));
          });
      };
    }).then(function (values) {
      if (values) insert(textarea, "![" + bracketed(values.alt) + "](" + values.url + ")", true);
    });
  }

  function runAction(action, textarea, config) {
    caretAtOpen.set(textarea, [textarea.selectionStart, textarea.selectionEnd]);
    action.run(textarea, config);
  }

  function shortcut(key) { return (IS_MAC ? "Meta" : "Control") + "+Alt+" + key.toUpperCase(); }

  function toolbar(textarea, config) {
    if (textarea.dataset.toolbarAttached || modeFor(textarea.name) !== "block") return;
    textarea.dataset.toolbarAttached = "1";
    const bar = document.createElement("div");
    bar.className = "editor-toolbar";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", format(gettext("Insert into %(field)s"), { field: fieldName(textarea) || gettext("the text") }));
    ACTIONS.forEach(function (action) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button editor-tool";
      button.textContent = action.label;
      button.dataset.action = action.key;
      button.setAttribute("aria-keyshortcuts", shortcut(action.key));
      button.title = action.label + " (" + shortcut(action.key).replace("Control", "Ctrl").replace("Meta", "Cmd") + ")";
      button.addEventListener("click", function () { runAction(action, textarea, config); });
      bar.append(button);
    });
    textarea.before(bar);
    textarea.addEventListener("keydown", function (event) {
      if (!event.altKey || !(IS_MAC ? event.metaKey : event.ctrlKey) || event.getModifierState("AltGraph")) return;
      // event.code: Alt changes event.key on some layouts (Alt+H is ˙ on a Mac).
      const key = (event.code || "").replace(/^Key/, "").toLowerCase();
      const action = ACTIONS.find(function (item) { return item.key === key; });
      if (!action) return;
      event.preventDefault();
      runAction(action, textarea, config);
    });
  }

  function toolbarsAll(root, config) {
    root.querySelectorAll("textarea").forEach(function (textarea) {
      if (!textarea.name.includes("__prefix__")) toolbar(textarea, config);
    });
  }

  function start() {
    const config = document.getElementById("editor-config");
    if (config && config.dataset.uploadUrl) {
      const urls = { uploadUrl: config.dataset.uploadUrl, linkUrl: config.dataset.linkUrl };
      toolbarsAll(document, urls);
      document.addEventListener("formset:added", function (event) { toolbarsAll(event.target, urls); });
    }
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
