/* The block preview: draws the block card and its form from manifest.json and the schemas, as a
 * visual builder does, validates in the browser, runs tools through /api/run and lists what
 * arrives. Everything on the page comes from /api/contract and /api/session: no field, label or
 * limit is written here. The token is never put in the page, a URL or the console: a token the
 * server holds is shown as a fixed marker; a token typed here goes only into the POST body.
 */
(function () {
  "use strict";

  const S = window.GreenApiSchema;
  const state = {
    manifest: null,
    schemas: null,
    session: null,
    showAdvanced: false,
    fields: [], // {sub, wrap, read(), errorEls: Map(path -> element)}
    notifAfter: 0,
    notifCount: 0,
    running: false,
    trigger: null, // the manifest's trigger definition
    triggerState: null, // /api/trigger: listening, webhookUrl, filters, counters
    triggerAfter: 0,
    triggerCount: 0,
    triggerError: null, // what the server refused in the last filter change
  };

  /* ------------------------------------------------------------------ small helpers */

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function domId(text) { return "f-" + String(text).replace(/[^A-Za-z0-9_-]/g, "-"); }

  function humanize(name) {
    const words = String(name).replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function codePoints(text) { let n = 0; for (const _ of text) n += 1; return n; }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Error(url + " answered " + response.status);
    return response.json();
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
    const data = await response.json().catch(() => null);
    if (data === null) throw new Error(url + " answered " + response.status);
    return data;
  }

  /* ------------------------------------------------------------------ the contract */

  function operationField() { return state.manifest.operation.id; }
  function currentTool() { return document.getElementById(domId(operationField())).value; }
  function toolItem(id) { return state.manifest.tools.items.find((t) => t.id === id); }
  function inputSchema(id) { return state.schemas[toolItem(id).inputSchema]; }

  function conditionMet(sub) {
    const cond = sub.condition;
    if (!cond) return true;
    const input = document.getElementById(domId(cond.field));
    const value = input ? input.value : undefined;
    const wanted = Array.isArray(cond.value) ? cond.value : [cond.value];
    const hit = wanted.includes(value);
    return cond.not ? !hit : hit;
  }

  /* ------------------------------------------------------------------ the card */

  function renderCard() {
    const m = state.manifest;
    document.title = m.name + " · block preview";
    const icon = h("div", { class: "block-icon", "aria-hidden": "true" });
    icon.style.background = m.bgColor;
    if (m.icon && m.icon.type === "svg") icon.innerHTML = m.icon.svg; // the package's own manifest
    const card = document.getElementById("block");
    card.style.setProperty("--block-color", m.bgColor);
    card.dataset.blockType = m.type;
    card.replaceChildren(
      h("header", { class: "block-head" },
        icon,
        h("div", { class: "block-title" },
          h("div", { class: "block-name-row" },
            h("h1", { id: "block-name", text: m.name }),
            h("span", { class: "block-category", text: m.category })),
          h("p", { id: "block-description", class: "block-desc", text: m.description }))),
      h("form", { id: "block-form", class: "block-body", novalidate: true, autocomplete: "off", onsubmit: onRun }),
      h("section", { class: "block-outputs", "aria-labelledby": "outputs-title" },
        h("h2", { id: "outputs-title", text: "Outputs" }),
        h("ul", { id: "outputs-list" })),
      h("footer", { class: "block-foot" },
        m.docsLink ? h("a", { href: m.docsLink, target: "_blank", rel: "noopener noreferrer", text: "Docs ↗" }) : null,
        h("button", { id: "run", type: "submit", form: "block-form", class: "run" }, h("span", { class: "run-icon", "aria-hidden": "true", text: "▶" }), "Run")),
    );
    renderForm(document.getElementById("block-form"));
  }

  function renderForm(form) {
    state.fields = [];
    const basic = h("div", { class: "fields" });
    const advanced = h("div", { class: "fields advanced", id: "advanced-fields" });
    for (const sub of state.manifest.subBlocks) {
      const field = renderField(sub);
      state.fields.push(field);
      (sub.mode === "advanced" ? advanced : basic).append(field.wrap);
    }
    const toggle = h("button", { type: "button", id: "advanced-toggle", class: "advanced-toggle", "aria-expanded": "false", onclick: () => setAdvanced(!state.showAdvanced) });
    form.replaceChildren(
      h("div", { id: "form-errors", class: "form-errors", role: "alert", hidden: true }),
      basic, toggle, advanced);
    applyConditions();
  }

  function setAdvanced(on) {
    state.showAdvanced = on;
    applyConditions();
  }

  function renderField(sub) {
    const id = domId(sub.id);
    const param = sub.param || sub.id;
    const wrap = h("div", {
      class: "field", dataset: { subBlock: sub.id, param, control: sub.control, mode: sub.mode || "basic" },
    });
    const label = h("label", { for: id, class: "field-label" },
      h("span", { class: "label-text", text: sub.label }),
      sub.required ? h("span", { class: "required", title: "required", "aria-label": "required", text: "*" }) : null,
      sub.mode === "advanced" ? h("span", { class: "tag", text: "advanced" }) : null);
    const error = h("p", { class: "field-error", id: id + "-error", dataset: { path: param }, hidden: true });
    const field = { sub, wrap, param, errorEls: new Map([[param, error]]), read: () => undefined };
    let control;
    switch (sub.control) {
      case "dropdown":
        control = h("select", { id, name: sub.id, onchange: onOperationChange },
          sub.options.map((o) => h("option", { value: o.id, text: o.label })));
        control.value = sub.default || sub.options[0].id;
        break;
      case "long-input":
        control = h("textarea", { id, name: param, rows: 3, placeholder: sub.placeholder || null, spellcheck: "true" });
        field.read = () => (control.value === "" ? undefined : control.value);
        break;
      case "number":
        control = h("input", { id, name: param, type: "number", inputmode: "numeric", placeholder: sub.placeholder || null, min: sub.minimum, max: sub.maximum, step: 1 });
        field.read = () => (control.validity.badInput ? NaN : control.value === "" ? undefined : Number(control.value));
        break;
      case "switch": {
        const box = h("input", { id, name: param, type: "checkbox", role: "switch" });
        box.checked = sub.default === true;
        control = h("span", { class: "switch" }, box, h("span", { class: "slider", "aria-hidden": "true" }));
        field.read = () => box.checked;
        break;
      }
      case "password":
        control = h("input", { id, name: param, type: "password", autocomplete: "new-password", spellcheck: "false", placeholder: sub.placeholder || null });
        field.read = () => (control.value === "" ? undefined : control.value);
        break;
      case "buttons-editor":
        control = renderButtonsEditor(sub, field);
        break;
      default: // short-input, and anything a builder would draw as a text box
        control = h("input", { id, name: param, type: "text", autocomplete: "off", spellcheck: "false", placeholder: sub.placeholder || null });
        field.read = () => (control.value === "" ? undefined : control.value);
    }
    if (control.id === id) control.setAttribute("aria-describedby", id + "-error " + id + "-desc");
    const meta = h("div", { class: "field-meta" },
      sub.description ? h("p", { class: "field-desc", id: id + "-desc", text: sub.description, title: "click to expand", onclick: (e) => e.currentTarget.classList.toggle("open") }) : null);
    if (typeof sub.maxLength === "number" && (control.tagName === "INPUT" || control.tagName === "TEXTAREA")) {
      const counter = h("span", { class: "counter", "aria-live": "off" });
      const update = () => {
        const n = codePoints(control.value);
        counter.textContent = n + " / " + sub.maxLength;
        counter.classList.toggle("over", n > sub.maxLength);
      };
      control.addEventListener("input", update);
      update();
      if (sub.control !== "password") meta.append(counter);
    }
    wrap.append(label, control, error, meta);
    if (sub.credential) decorateCredential(sub, wrap, control);
    return field;
  }

  function decorateCredential(sub, wrap, control) {
    const bound = state.session.bound || {};
    const param = sub.param || sub.id;
    if (param === "apiTokenInstance" && bound.apiTokenInstance) {
      control.value = state.session.tokenMarker; // a fixed marker: "the token the server holds"
      control.dataset.bound = "true";
      control.addEventListener("focus", () => control.select());
      control.addEventListener("input", () => { control.dataset.bound = String(control.value === state.session.tokenMarker); });
      wrap.querySelector(".field-label").append(h("span", { class: "tag bound", title: "the preview server holds this token; it never reaches the page", text: "held by the server" }));
    } else if (param === "idInstance" && bound.idInstance) {
      control.value = bound.idInstance;
      wrap.querySelector(".field-label").append(h("span", { class: "tag bound", text: "bound" }));
    }
  }

  /* The buttons editor: rows of {buttonText, type, ...}; which extra field a type needs is read
   * from the item schema's if/then rules, placeholders from the schema's examples. */
  function renderButtonsEditor(sub, field) {
    const param = sub.param || sub.id;
    const arraySchema = inputSchema(toolIdOf(sub)).properties[param] || {};
    const itemSchema = arraySchema.items || { properties: {} };
    const itemFields = sub.itemFields || [];
    const enumField = itemFields.find((f) => Array.isArray(f.enum));
    const kinds = enumField ? enumField.enum : [];
    const byKind = {};
    for (const rule of itemSchema.allOf || []) {
      const kind = rule.if && rule.if.properties && rule.if.properties[enumField ? enumField.id : ""];
      if (kind && "const" in kind && rule.then && rule.then.required) byKind[kind.const] = rule.then.required;
    }
    const claimed = new Set(Object.values(byKind).flat());
    const always = new Set(itemSchema.required || []);
    if (enumField) always.add(enumField.id);
    const defaultKind = kinds.find((k) => !(k in byKind)) || kinds[0];
    byKind[defaultKind] = itemFields.map((f) => f.id).filter((f) => !claimed.has(f) && !always.has(f));
    const examples = {};
    for (const ex of inputSchema(toolIdOf(sub)).examples || []) {
      for (const b of ex[param] || []) for (const [k, v] of Object.entries(b)) if (!(k in examples)) examples[k] = v;
    }
    const maxItems = sub.maxItems || arraySchema.maxItems || 3;
    const minItems = sub.minItems || arraySchema.minItems || 0;
    const textField = itemFields.find((f) => always.has(f.id) && f.id !== (enumField && enumField.id));

    const list = h("ol", { class: "btn-rows" });
    const count = h("span", { class: "btn-count" });
    const add = h("button", { type: "button", class: "add-button", onclick: () => { addRow(); } }, "+ Add button");
    const hint = h("p", { class: "hint" },
      "Up to " + maxItems + " buttons" + (textField && textField.maxLength ? " · " + humanize(textField.id).toLowerCase() + " up to " + textField.maxLength + " characters" : "") + " · reply buttons or action buttons, not both");
    const editor = h("div", { class: "buttons-editor", id: domId(sub.id), role: "group", "aria-label": sub.label },
      list, h("div", { class: "btn-foot" }, add, count), hint);

    function refresh() {
      const rows = [...list.children];
      rows.forEach((row, i) => {
        row.dataset.index = String(i);
        row.querySelector(".btn-num").textContent = "Button " + (i + 1);
        row.querySelector(".remove").setAttribute("aria-label", "Remove button " + (i + 1));
        row.querySelector(".remove").disabled = rows.length <= Math.max(1, minItems);
        for (const err of row.querySelectorAll("[data-item-error]")) err.dataset.path = param + "[" + i + "]" + (err.dataset.itemError ? "." + err.dataset.itemError : "");
      });
      count.textContent = rows.length + " / " + maxItems;
      add.disabled = rows.length >= maxItems;
      field.errorEls = new Map([[param, field.errorEls.get(param)]]);
      for (const el of editor.querySelectorAll("[data-path]")) field.errorEls.set(el.dataset.path, el);
    }

    function addRow() {
      if (list.children.length >= maxItems) return;
      const inputs = {};
      const row = h("li", { class: "btn-row" });
      const grid = h("div", { class: "btn-grid" });
      const ordered = itemFields.filter((f) => always.has(f.id)).concat(itemFields.filter((f) => !always.has(f.id)));
      for (const f of ordered) {
        const prop = (itemSchema.properties || {})[f.id] || {};
        const required = always.has(f.id) || claimed.has(f.id);
        let input;
        if (Array.isArray(f.enum)) {
          input = h("select", { dataset: { item: f.id } }, f.enum.map((v) => h("option", { value: v, text: v })));
          input.value = defaultKind;
          input.addEventListener("change", () => showKind());
        } else {
          input = h("input", { type: "text", dataset: { item: f.id }, spellcheck: "false", placeholder: examples[f.id] !== undefined ? String(examples[f.id]) : null, title: prop.description || null });
        }
        inputs[f.id] = input;
        const cell = h("label", { class: always.has(f.id) ? "btn-cell" : "btn-cell wide", dataset: { itemField: f.id } },
          h("span", { class: "btn-label" }, humanize(f.label || f.id), required && f.id !== (enumField && enumField.id) ? h("span", { class: "required", "aria-label": "required", text: "*" }) : null),
          input,
          h("span", { class: "field-error", dataset: { itemError: f.id }, hidden: true }));
        if (typeof f.maxLength === "number" && input.tagName === "INPUT" && f.id === (textField && textField.id)) {
          const counter = h("span", { class: "counter" });
          const update = () => { const n = codePoints(input.value); counter.textContent = n + " / " + f.maxLength; counter.classList.toggle("over", n > f.maxLength); };
          input.addEventListener("input", update);
          update();
          cell.append(counter);
        }
        grid.append(cell);
      }
      function showKind() {
        const kind = enumField ? inputs[enumField.id].value : defaultKind;
        for (const cell of grid.children) {
          const id = cell.dataset.itemField;
          cell.hidden = !(always.has(id) || (byKind[kind] || []).includes(id));
        }
      }
      row.append(
        h("div", { class: "btn-row-head" },
          h("span", { class: "btn-num" }),
          h("button", { type: "button", class: "remove", text: "×", onclick: () => { row.remove(); refresh(); } })),
        grid,
        h("p", { class: "field-error", dataset: { itemError: "" }, hidden: true }));
      row.read = () => {
        const kind = enumField ? inputs[enumField.id].value : defaultKind;
        const out = {};
        for (const f of itemFields) {
          if (enumField && f.id === enumField.id) { if (kind !== defaultKind) out[f.id] = kind; continue; }
          const visible = always.has(f.id) || (byKind[kind] || []).includes(f.id);
          const value = inputs[f.id].value;
          if (visible && value !== "") out[f.id] = value;
        }
        return out;
      };
      list.append(row);
      showKind();
      refresh();
      const first = inputs[textField ? textField.id : itemFields[0].id];
      if (first && document.activeElement && editor.contains(document.activeElement)) first.focus();
    }

    for (let i = 0; i < Math.max(1, minItems); i += 1) addRow();
    field.read = () => [...list.children].map((row) => row.read());
    return editor;
  }

  function toolIdOf(sub) {
    const cond = sub.condition;
    const ids = cond ? (Array.isArray(cond.value) ? cond.value : [cond.value]) : [];
    return ids.find((id) => toolItem(id)) || state.manifest.tools.items[0].id;
  }

  function applyConditions() {
    let advancedCount = 0;
    for (const field of state.fields) {
      const met = conditionMet(field.sub);
      const advanced = field.sub.mode === "advanced";
      if (met && advanced) advancedCount += 1;
      field.wrap.hidden = !met || (advanced && !state.showAdvanced);
      field.wrap.dataset.active = String(met);
    }
    const toggle = document.getElementById("advanced-toggle");
    toggle.hidden = advancedCount === 0;
    toggle.setAttribute("aria-expanded", String(state.showAdvanced));
    toggle.textContent = (state.showAdvanced ? "Hide advanced fields" : "Show advanced fields") + " (" + advancedCount + ")";
    renderOutputs();
  }

  function renderOutputs() {
    const tool = currentTool();
    const list = document.getElementById("outputs-list");
    list.replaceChildren();
    for (const [name, out] of Object.entries(state.manifest.outputs || {})) {
      if (Array.isArray(out.tools) && !out.tools.includes(tool)) continue;
      const type = Array.isArray(out.type) ? out.type.join(" | ") : out.type;
      list.append(h("li", { class: "output", dataset: { output: name } },
        h("div", { class: "output-head" },
          h("code", { class: "output-ref", text: state.manifest.type + "." + name }),
          h("span", { class: "output-type", text: type })),
        h("p", { class: "output-desc", text: out.description || "" }),
        h("span", { class: "handle", "aria-hidden": "true" })));
    }
  }

  function onOperationChange() {
    clearErrors();
    applyConditions();
    const tool = currentTool();
    if (location.hash.slice(1) !== tool) history.replaceState(null, "", "#" + tool);
    showIdle();
  }

  /* ------------------------------------------------------------------ running */

  function collectArgs() {
    const args = {};
    const bound = [];
    for (const field of state.fields) {
      if (field.sub.id === operationField() || !conditionMet(field.sub)) continue;
      const value = field.read();
      if (value !== undefined) args[field.param] = value;
    }
    const b = state.session.bound || {};
    if (b.apiTokenInstance) {
      if (args.apiTokenInstance === state.session.tokenMarker || args.apiTokenInstance === undefined) bound.push("apiTokenInstance");
    }
    if (b.idInstance && args.idInstance === undefined) bound.push("idInstance");
    return { args, bound };
  }

  function clearErrors() {
    for (const el of document.querySelectorAll("#block-form .field-error")) { el.hidden = true; el.textContent = ""; }
    for (const el of document.querySelectorAll("#block-form .invalid")) el.classList.remove("invalid");
    const box = document.getElementById("form-errors");
    box.hidden = true;
    box.replaceChildren();
  }

  function showErrors(errors) {
    clearErrors();
    const general = [];
    let firstEl = null;
    for (const e of errors) {
      const el = errorElementFor(e.path);
      if (!el) { general.push(e); continue; }
      el.hidden = false;
      el.textContent = el.textContent ? el.textContent + "; " + e.message : e.message;
      const holder = el.closest(".btn-cell, .field");
      if (holder) holder.classList.add("invalid");
      if (!firstEl) firstEl = el;
    }
    if (general.length) {
      const box = document.getElementById("form-errors");
      box.hidden = false;
      box.replaceChildren(...general.map((e) => h("p", { text: (e.path ? e.path + ": " : "") + e.message })));
    }
    if (firstEl) firstEl.scrollIntoView({ block: "nearest" });
  }

  function errorElementFor(path) {
    const candidates = state.fields.filter((f) => conditionMet(f.sub));
    let p = path;
    while (p) {
      for (const field of candidates) {
        const el = field.errorEls.get(p);
        if (el) {
          if (field.sub.mode === "advanced" && !state.showAdvanced) setAdvanced(true);
          return el;
        }
      }
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      p = cut > 0 ? p.slice(0, cut) : "";
    }
    return null;
  }

  async function onRun(event) {
    event.preventDefault();
    if (state.running) return;
    const tool = currentTool();
    const { args, bound } = collectArgs();
    const forCheck = Object.assign({}, args);
    if (bound.includes("apiTokenInstance")) delete forCheck.apiTokenInstance;
    const errors = S.check(inputSchema(tool), forCheck, bound);
    if (errors.length) {
      showErrors(errors);
      showResult({
        ok: false,
        error: { code: "invalid_input", message: "checked in the browser against " + toolItem(tool).inputSchema + ": nothing was sent", errors },
      }, tool, null, "browser");
      return;
    }
    clearErrors();
    state.running = true;
    const run = document.getElementById("run");
    run.disabled = true;
    run.classList.add("busy");
    setStatus("running", "Running " + toolItem(tool).name + "…");
    const started = performance.now();
    try {
      const envelope = await postJSON("/api/run", { tool, args });
      const ms = Math.round(performance.now() - started);
      if (!envelope.ok && envelope.error && Array.isArray(envelope.error.errors)) showErrors(envelope.error.errors);
      showResult(envelope, tool, ms, "block");
      if (tool === "green_api_get_notifications") pollNotifications();
    } catch (err) {
      showResult({ ok: false, error: { code: "preview_unreachable", message: String(err && err.message ? err.message : err) } }, tool, null, "page");
    } finally {
      state.running = false;
      run.disabled = false;
      run.classList.remove("busy");
    }
  }

  function setStatus(kind, text) {
    const status = document.getElementById("output-status");
    status.dataset.kind = kind;
    status.textContent = text;
  }

  function showIdle() {
    const tool = toolItem(currentTool());
    setStatus("idle", "Fill in the form and press Run");
    document.getElementById("output-values").replaceChildren();
    const pre = document.getElementById("output-json");
    pre.textContent = "";
    pre.hidden = true;
    document.getElementById("output-tool").textContent = tool.name + " · " + tool.id;
  }

  function showResult(envelope, tool, ms, source) {
    const item = toolItem(tool);
    if (envelope.ok) {
      setStatus("ok", "✓ ok" + (ms !== null ? " · " + ms + " ms" : ""));
    } else {
      const where = source === "browser" ? "invalid input (not sent)" : envelope.error.code;
      setStatus("error", "✕ " + where);
    }
    const values = document.getElementById("output-values");
    values.replaceChildren();
    if (envelope.ok) {
      for (const name of Object.keys(item.outputs || {})) {
        const value = envelope.output[name];
        const shown = typeof value === "string" ? value : JSON.stringify(value);
        values.append(h("div", { class: "value-row", dataset: { output: name } },
          h("code", { text: state.manifest.type + "." + name }),
          h("span", { class: "value", text: shown === undefined ? "—" : shown.length > 120 ? shown.slice(0, 117) + "…" : shown })));
      }
    }
    const pre = document.getElementById("output-json");
    pre.hidden = false;
    pre.textContent = JSON.stringify(envelope, null, 2);
    pre.dataset.ok = String(Boolean(envelope.ok));
  }

  /* ------------------------------------------------------------------ notifications */

  /* What a notification says, from the event the server read with Event.from_body: the page
   * has no notification reader of its own (item.event is null only for a body that is no
   * notification at all). */
  function summary(item) {
    const e = item.event;
    if (!e) return "";
    if (e.eventType === "outgoingMessageStatus") return "status " + e.status + " · " + (e.idMessage || "");
    if (e.eventType === "stateInstanceChanged") return "state " + e.stateInstance;
    const text = e.text !== null ? e.text : e.file && e.file.fileName ? e.file.fileName : null;
    const who = e.senderName || e.sender || "";
    const chat = e.chatId ? " (" + e.chatId + ")" : "";
    return (who + chat + (text !== null ? ": " + text : (e.messageType ? ": [" + e.messageType + "]" : ""))).trim();
  }

  function addNotification(item) {
    const list = document.getElementById("notif-list");
    const body = item.body || {};
    const type = item.event ? item.event.eventType : "";
    const li = h("li", { class: "notif", dataset: { type, receiptId: item.receiptId } },
      h("div", { class: "notif-head" },
        h("span", { class: "notif-type", text: type || "notification" }),
        h("span", { class: "notif-meta", text: item.receivedAt + " · receipt " + item.receiptId })),
      h("p", { class: "notif-text", text: summary(item) }),
      h("details", {}, h("summary", { text: "body" }), h("pre", { text: JSON.stringify(body, null, 2) })));
    list.prepend(li);
    state.notifCount += 1;
    document.getElementById("notif-count").textContent = String(state.notifCount);
    document.getElementById("notif-empty").hidden = true;
  }

  let polling = false;
  async function pollNotifications() {
    if (polling) return;
    polling = true;
    try {
      const data = await getJSON("/api/notifications?after=" + state.notifAfter);
      for (const item of data.items) addNotification(item);
      state.notifAfter = Math.max(state.notifAfter, data.last);
      document.getElementById("notifications").dataset.live = "true";
    } catch (_err) {
      document.getElementById("notifications").dataset.live = "false";
    } finally {
      polling = false;
    }
  }

  function renderNotificationsPanel() {
    const panel = document.getElementById("notifications");
    const sandbox = state.session.sandbox;
    const note = sandbox
      ? "Live view of the sandbox instance's queue: what Get notifications will return (it stays queued until then)."
      : "Notifications that Get notifications returns are listed here.";
    const parts = [h("p", { id: "notif-note", class: "panel-note", text: note, dataset: { polled: note } })];
    if (sandbox) {
      const chat = h("input", { id: "sim-chat", type: "text", spellcheck: "false", "aria-label": "customer chat ID" });
      chat.value = sandbox.chatId;
      const text = h("input", { id: "sim-text", type: "text", placeholder: "Hi! Is my order ready?", "aria-label": "customer message" });
      const form = h("form", { id: "simulate", class: "simulate", novalidate: true, onsubmit: async (e) => {
        e.preventDefault();
        const message = text.value.trim() || text.placeholder;
        const result = await postJSON("/api/sandbox/incoming", { chatId: chat.value.trim(), text: message }).catch((err) => ({ ok: false, error: { message: String(err) } }));
        form.dataset.result = result.ok ? "ok" : "error";
        if (result.ok) { text.value = ""; pollNotifications(); pollTrigger(); }
      } }, h("span", { class: "simulate-title", text: "Simulate a customer message" }), chat, text, h("button", { type: "submit", text: "Send as customer" }));
      parts.push(form);
    }
    parts.push(h("p", { id: "notif-empty", class: "empty", text: "Nothing has arrived yet." }), h("ol", { id: "notif-list", class: "notif-list", "aria-live": "polite" }));
    panel.querySelector(".panel-body").replaceChildren(...parts);
  }

  function renderMode() {
    const s = state.session;
    const pill = document.getElementById("mode");
    const detail = document.getElementById("mode-detail");
    if (s.mode === "sandbox") {
      pill.textContent = "Sandbox";
      pill.dataset.mode = "sandbox";
      detail.textContent = "instance " + (s.bound.idInstance || "") + " · token held by the preview server";
    } else {
      let host = s.apiUrl;
      try { host = new URL(s.apiUrl).host; } catch (_e) { /* shown as is */ }
      pill.textContent = "Live instance";
      pill.dataset.mode = "instance";
      detail.textContent = host + " · " + (s.bound.apiTokenInstance ? "token held by the preview server" : "your token goes only to this local server, in a POST body");
    }
  }

  /* ------------------------------------------------------------------ the trigger */

  /* The trigger the block opts into, from the manifest (triggers.available names it). */
  function triggerDefinition() {
    const t = state.manifest.triggers;
    if (!t || !t.enabled || !Array.isArray(t.items)) return null;
    return t.items.find((item) => (t.available || []).includes(item.id)) || null;
  }

  function triggerDomId(sub) { return domId("trigger." + sub.id); }
  function isSecret(sub) { return sub.secret === true || sub.control === "password"; }
  function isFilter(sub) { return !sub.readOnly && !isSecret(sub); }
  function triggerLive() { return Boolean(state.triggerState && state.triggerState.available); }

  function renderTriggerField(sub) {
    const id = triggerDomId(sub);
    const live = triggerLive();
    const wrap = h("div", { class: "field", dataset: { subBlock: sub.id, control: sub.control } });
    const label = h(sub.multiSelect ? "span" : "label", { for: sub.multiSelect ? null : id, class: "field-label", id: id + "-label" },
      h("span", { class: "label-text", text: sub.label }),
      sub.required ? h("span", { class: "required", title: "required", "aria-label": "required", text: "*" }) : null);
    let control;
    if (sub.readOnly) {
      const input = h("input", { id, type: "text", readonly: true, spellcheck: "false", placeholder: sub.placeholder || null });
      if (sub.id === "webhookUrl" && live && state.triggerState.webhookUrl) input.value = state.triggerState.webhookUrl;
      control = sub.copyable
        ? h("div", { class: "copy-row" }, input, h("button", { type: "button", class: "copy", "aria-label": "copy " + sub.label, text: "Copy", onclick: () => copyValue(input) }))
        : input;
    } else if (isSecret(sub)) {
      control = h("input", { id, type: "password", autocomplete: "new-password", spellcheck: "false", placeholder: sub.placeholder || null });
      if (live && state.triggerState.tokenSet) {
        // The preview's receiver made this token and keeps it: the page gets a fixed marker.
        control.value = state.session.tokenMarker;
        control.readOnly = true;
        label.append(h("span", { class: "tag bound", title: "the preview server holds this token; it never reaches the page", text: "held by the server" }));
      }
    } else if (sub.control === "dropdown" && sub.multiSelect) {
      control = h("div", { id, class: "multi", role: "group", "aria-labelledby": id + "-label" },
        (sub.options || []).map((o) => h("label", { class: "multi-option" },
          h("input", { type: "checkbox", value: o.id, onchange: onTriggerFilterChange }),
          h("span", { text: o.label }),
          o.label !== o.id ? h("code", { text: o.id }) : null)));
    } else if (sub.control === "dropdown") {
      control = h("select", { id, onchange: onTriggerFilterChange }, (sub.options || []).map((o) => h("option", { value: o.id, text: o.label })));
    } else if (sub.control === "switch") {
      const box = h("input", { id, type: "checkbox", role: "switch", onchange: onTriggerFilterChange });
      box.checked = sub.default === true;
      control = h("span", { class: "switch" }, box, h("span", { class: "slider", "aria-hidden": "true" }));
    } else if (sub.control === "long-input") {
      control = h("textarea", { id, rows: 2, spellcheck: "false", placeholder: sub.placeholder || null, onchange: onTriggerFilterChange });
    } else {
      control = h("input", { id, type: "text", spellcheck: "false", placeholder: sub.placeholder || null, onchange: onTriggerFilterChange });
    }
    const meta = h("div", { class: "field-meta" },
      sub.description ? h("p", { class: "field-desc", text: sub.description, title: "click to expand", onclick: (e) => e.currentTarget.classList.toggle("open") }) : null);
    wrap.append(label, control, meta);
    return wrap;
  }

  function copyValue(input) {
    input.select();
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).catch(() => { /* selected: copy by hand */ });
  }

  /* The filter sub-blocks' values, keyed by sub-block id: the server turns them into the
   * receiver's WebhookFilter (green_api_block.trigger.filter_from_values). */
  function readTriggerFilters() {
    const values = {};
    for (const sub of state.trigger.subBlocks.filter(isFilter)) {
      const el = document.getElementById(triggerDomId(sub));
      if (sub.multiSelect) values[sub.id] = [...el.querySelectorAll("input:checked")].map((i) => i.value);
      else if (sub.control === "switch") values[sub.id] = el.checked;
      else values[sub.id] = el.value;
    }
    return values;
  }

  function showTriggerFilters(filters) {
    for (const sub of state.trigger.subBlocks.filter(isFilter)) {
      const el = document.getElementById(triggerDomId(sub));
      const value = filters[sub.id];
      if (el === null || value === undefined) continue;
      if (sub.multiSelect) for (const box of el.querySelectorAll("input")) box.checked = value.includes(box.value);
      else if (sub.control === "switch") el.checked = value === true;
      else if (document.activeElement !== el) el.value = Array.isArray(value) ? value.join(", ") : String(value);
    }
  }

  function renderTrigger() {
    const def = state.trigger = triggerDefinition();
    const card = document.getElementById("trigger");
    if (!def) { card.hidden = true; return; }
    const live = triggerLive();
    const icon = h("div", { class: "trigger-icon", "aria-hidden": "true", text: "⚡" });
    icon.style.background = state.manifest.bgColor;
    card.dataset.triggerId = def.id;
    const listen = live
      ? h("div", { class: "listen" },
          h("span", { class: "switch" },
            h("input", { id: "trigger-listen", type: "checkbox", role: "switch", "aria-label": "listen for pushed events", onchange: onListenChange }),
            h("span", { class: "slider", "aria-hidden": "true" })),
          h("label", { for: "trigger-listen", class: "listen-label", text: "Listen: point the sandbox instance's webhook URL here" }))
      : h("p", { class: "panel-note", text: "Pushed events are shown with --sandbox. To receive from your instance, deploy a receiver (green-api-block webhook serve) and register its URL (webhook set)." });
    card.replaceChildren(
      h("header", { class: "block-head" },
        icon,
        h("div", { class: "block-title" },
          h("div", { class: "block-name-row" },
            h("h2", { id: "trigger-name", text: def.name }),
            h("span", { class: "block-category", text: "trigger · " + def.webhook.method })),
          h("p", { id: "trigger-description", class: "block-desc", text: def.description }))),
      h("div", { class: "block-body" },
        listen,
        h("p", { id: "trigger-status", class: "status", dataset: { kind: "idle" }, role: "status" }),
        h("div", { id: "trigger-fields", class: "fields" }, def.subBlocks.map(renderTriggerField))),
      h("section", { class: "block-outputs", "aria-labelledby": "trigger-outputs-title" },
        h("h2", { id: "trigger-outputs-title", text: "Trigger outputs" }),
        h("ul", { id: "trigger-outputs" }, Object.entries(def.outputs).map(([name, out]) =>
          h("li", { class: "output", dataset: { output: name } },
            h("div", { class: "output-head" },
              h("code", { class: "output-ref", text: def.id + "." + name }),
              h("span", { class: "output-type", text: out.type })),
            h("p", { class: "output-desc", text: out.description || "" }),
            h("span", { class: "handle", "aria-hidden": "true" }))))));
    card.hidden = false;
    document.getElementById("trigger-events").hidden = !live;
    if (live) showTriggerState(state.triggerState, true);
  }

  /* withFilters: only on load and after a POST. A poll must not put the applied filter back over
   * what the person is typing (or over a value the server just refused, next to its error). */
  function showTriggerState(data, withFilters) {
    state.triggerState = Object.assign({}, state.triggerState, data);
    const listen = document.getElementById("trigger-listen");
    if (listen) listen.checked = data.listening === true;
    document.getElementById("trigger").dataset.listening = String(data.listening === true);
    const note = document.getElementById("notif-note");
    // Push mode empties the queue as it delivers: say so where the panel promises polling.
    if (note) note.textContent = data.listening ? "The trigger is listening: the sandbox pushes its queue to the webhook URL, so Get notifications finds nothing until it is switched off (as with Green API)." : note.dataset.polled;
    if (withFilters && data.filters) showTriggerFilters(data.filters);
    const status = document.getElementById("trigger-status");
    if (state.triggerError) {
      status.dataset.kind = "error";
      status.textContent = "✕ " + state.triggerError;
    } else if (data.listening) {
      status.dataset.kind = "ok";
      status.textContent = "Listening: the sandbox pushes each notification to the webhook URL";
    } else {
      status.dataset.kind = "idle";
      status.textContent = "Off: notifications stay queued for Get notifications";
    }
    const c = data.counters;
    if (c) document.getElementById("trigger-counters").textContent =
      c.accepted + " handled · " + c.filtered + " filtered out · " + c.duplicates + " duplicates · " + c.unauthorized + " refused";
  }

  async function postTrigger(body) {
    const status = document.getElementById("trigger-status");
    const data = await postJSON("/api/trigger", body).catch((err) => ({ ok: false, error: { message: String(err) } }));
    if (data.ok === false) {
      // Kept until a change is accepted: the filter the receiver applies is still the last good one.
      state.triggerError = (data.error && data.error.message ? data.error.message : "refused") + " (the last accepted filter still applies)";
      status.dataset.kind = "error";
      status.textContent = "✕ " + state.triggerError;
      return;
    }
    state.triggerError = null;
    showTriggerState(data, true);
  }

  function onListenChange(event) {
    postTrigger({ listening: event.currentTarget.checked, filters: readTriggerFilters() });
  }

  function onTriggerFilterChange() {
    if (triggerLive()) postTrigger({ filters: readTriggerFilters() });
  }

  function showValue(value) {
    const shown = typeof value === "string" ? value : JSON.stringify(value);
    return shown.length > 160 ? shown.slice(0, 157) + "…" : shown;
  }

  /* One pushed event with its output fields, as a later block would get them (the manifest's
   * outputs, in their order; empty ones are left out, raw is folded away). */
  function addTriggerEvent(item) {
    const e = item.event;
    const rows = Object.keys(state.trigger.outputs)
      .filter((name) => name !== "raw" && e[name] !== null && e[name] !== undefined)
      .map((name) => h("div", { class: "event-row", dataset: { field: name } },
        h("code", { text: state.trigger.id + "." + name }),
        h("span", { class: "value", text: showValue(e[name]) })));
    const li = h("li", { class: "trigger-event", dataset: { eventType: e.eventType, seq: item.seq } },
      h("div", { class: "notif-head" },
        h("span", { class: "notif-type", text: e.eventType || "event" }),
        h("span", { class: "notif-meta", text: item.receivedAt + " · pushed" })),
      h("div", { class: "event-fields" }, rows),
      h("details", {}, h("summary", { text: state.trigger.id + ".raw" }), h("pre", { text: JSON.stringify(e.raw, null, 2) })));
    document.getElementById("trigger-event-list").prepend(li);
    state.triggerCount += 1;
    document.getElementById("trigger-count").textContent = String(state.triggerCount);
    document.getElementById("trigger-empty").hidden = true;
  }

  let triggerPolling = false;
  async function pollTrigger() {
    if (triggerPolling || !triggerLive()) return;
    triggerPolling = true;
    try {
      const data = await getJSON("/api/trigger?after=" + state.triggerAfter);
      for (const item of data.events) addTriggerEvent(item);
      state.triggerAfter = Math.max(state.triggerAfter, data.last);
      showTriggerState(data, false);
    } catch (_err) {
      /* the next tick tries again */
    } finally {
      triggerPolling = false;
    }
  }

  /* ------------------------------------------------------------------ start */

  async function start() {
    try {
      const [contract, session, trigger] = await Promise.all([getJSON("/api/contract"), getJSON("/api/session"), getJSON("/api/trigger")]);
      state.manifest = contract.manifest;
      state.schemas = contract.schemas;
      state.session = session;
      state.triggerState = trigger;
      state.triggerAfter = 0;
      renderMode();
      renderCard();
      const wanted = location.hash.slice(1);
      const select = document.getElementById(domId(operationField()));
      if (wanted && [...select.options].some((o) => o.value === wanted)) { select.value = wanted; applyConditions(); }
      showIdle();
      renderNotificationsPanel();
      renderTrigger();
      pollNotifications();
      pollTrigger();
      setInterval(() => { if (!document.hidden) { pollNotifications(); pollTrigger(); } }, 1000);
      document.body.dataset.ready = "true";
    } catch (err) {
      document.getElementById("block").replaceChildren(h("p", { class: "fatal", text: "The preview could not load the block: " + (err && err.message ? err.message : err) }));
    }
  }

  window.GreenApiPreview = { state, collectArgs, setAdvanced };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
