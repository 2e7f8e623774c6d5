// The model form, made from the server's declaration of the training settings (reglab.settings.SETTINGS):
// a setting added there appears here with its range, help and grouping, and the server's messages name it.

const GROUPS = ["model", "regularization", "early stopping"];

function label(name) {
  return { l2: "λ (L2)", l1: "L1", keep_prob: "keep_prob" }[name] || name.replace(/_/g, " ");
}

export class SettingsForm {
  constructor(root, declarations, onChange) {
    this.root = root;
    this.declarations = declarations;
    this.byName = Object.fromEntries(declarations.map((d) => [d.name, d]));
    this.onChange = onChange;
    this.inputs = {};
    this.keepBox = null;
    this.build();
  }

  build() {
    this.root.textContent = "";
    for (const group of GROUPS) {
      const members = this.declarations.filter((d) => d.group === group);
      if (!members.length) continue;
      const set = document.createElement(group === "early stopping" ? "details" : "fieldset");
      const legend = document.createElement(group === "early stopping" ? "summary" : "legend");
      legend.textContent = group[0].toUpperCase() + group.slice(1);
      set.append(legend);
      set.className = "group";
      for (const d of members) set.append(this.field(d));
      this.root.append(set);
    }
    this.setValues({});
  }

  field(d) {
    const row = document.createElement("div");
    row.className = "field";
    row.dataset.name = d.name;
    const id = `setting-${d.name}`;
    const help = document.createElement("small");
    help.className = "help";
    help.id = `${id}-help`;
    help.textContent = `${d.help} Allowed: ${d.allowed}.`;
    const lab = document.createElement("label");
    lab.htmlFor = id;
    lab.textContent = label(d.name);
    let input;
    if (d.kind === "flag") {
      input = document.createElement("input");
      input.type = "checkbox";
      row.classList.add("flag");
    } else if (d.kind === "choice") {
      input = document.createElement("select");
      for (const c of d.choices) input.append(new Option(c, c));
    } else if (d.kind === "keep_prob") {
      input = document.createElement("div");
      input.className = "keep-box";
      input.setAttribute("role", "group");
      input.setAttribute("aria-labelledby", `${id}-label`);
      lab.id = `${id}-label`;
      lab.removeAttribute("for");
      this.keepBox = input;
    } else {
      input = document.createElement("input");
      input.type = "text";
      input.inputMode = d.kind === "layers" ? "text" : "decimal";
      input.autocomplete = "off";
      input.spellcheck = false;
      if (d.optional) input.placeholder = "none";
    }
    input.id = id;
    if (d.kind !== "keep_prob") input.setAttribute("aria-describedby", `${id}-help ${id}-error`);
    input.addEventListener("change", () => { this.clearError(d.name); this.refresh(); this.onChange(); });
    this.inputs[d.name] = input;
    const error = document.createElement("div");
    error.className = "field-error";
    error.id = `${id}-error`;
    error.setAttribute("aria-live", "polite");
    if (d.kind === "flag") row.append(input, lab, help, error);
    else row.append(lab, input, help, error);
    return row;
  }

  nHidden() {
    const text = this.inputs.hidden_layer_sizes ? this.inputs.hidden_layer_sizes.value : "";
    const n = text.split(",").filter((t) => t.trim() !== "").length;
    return Math.max(1, Math.min(n, 10));
  }

  keepInputs(values) {
    const box = this.keepBox;
    if (!box) return;
    const n = this.nHidden();
    const old = [...box.querySelectorAll("input")].map((i) => i.value);
    const wanted = values === undefined ? old : values;
    box.textContent = "";
    for (let k = 0; k < n; k++) {
      const input = document.createElement("input");
      input.type = "text";
      input.inputMode = "decimal";
      input.id = `setting-keep_prob-${k}`;
      input.setAttribute("aria-label", `keep_prob of hidden layer ${k + 1}`);
      input.setAttribute("aria-describedby", "setting-keep_prob-help setting-keep_prob-error");
      input.value = wanted.length ? (wanted[k] ?? wanted[wanted.length - 1]) : "1";
      input.addEventListener("change", () => { this.clearError("keep_prob"); this.refresh(); this.onChange(); });
      const tag = document.createElement("span");
      tag.className = "layer-tag";
      tag.textContent = `layer ${k + 1}`;
      tag.setAttribute("aria-hidden", "true");
      box.append(tag, input);
    }
  }

  /** Dependent settings (``needs``) are greyed out while what they need is not so. */
  refresh() {
    const n = this.nHidden();
    if (this.keepBox && this.keepBox.querySelectorAll("input").length !== n) this.keepInputs();
    const values = this.raw();
    for (const d of this.declarations) {
      const needs = Object.entries(d.needs || {});
      const active = needs.every(([name, value]) => {
        const decl = this.byName[name];
        if (decl && decl.kind === "keep_prob") return [].concat(values[name]).some((v) => Number(v) < 1);
        return values[name] === value;
      });
      const row = this.root.querySelector(`.field[data-name="${d.name}"]`);
      row.classList.toggle("inactive", !active);
      if (needs.length) {
        row.title = active ? "" : `acts when ${needs.map(([k]) => (this.byName[k] && this.byName[k].kind === "keep_prob"
          ? `${k} < 1` : `${k} is on`)).join(" and ")}`;
      }
    }
  }

  raw() {
    const out = {};
    for (const d of this.declarations) {
      const input = this.inputs[d.name];
      if (d.kind === "flag") out[d.name] = input.checked;
      else if (d.kind === "keep_prob") out[d.name] = [...input.querySelectorAll("input")].map((i) => i.value.trim());
      else out[d.name] = input.value.trim();
    }
    return out;
  }

  /** The settings as the API takes them; text that is not a number is sent as it is, for the server to name. */
  values() {
    const raw = this.raw(), out = {};
    for (const d of this.declarations) {
      const v = raw[d.name];
      if (d.kind === "flag" || d.kind === "choice") out[d.name] = v;
      else if (d.kind === "layers") out[d.name] = v.split(",").map((t) => t.trim()).filter((t) => t).map(num);
      else if (d.kind === "keep_prob") {
        const list = v.map(num);
        out[d.name] = list.every((x) => x === list[0]) ? list[0] : list;
      } else if (d.optional && v === "") out[d.name] = null;
      else out[d.name] = num(v);
    }
    return out;
  }

  /** Only the settings that differ from their defaults (for the URL and model lists). */
  changed() {
    const values = this.values(), out = {};
    for (const d of this.declarations) if (JSON.stringify(values[d.name]) !== JSON.stringify(d.default)) out[d.name] = values[d.name];
    return out;
  }

  setValues(values) {
    for (const d of this.declarations) {
      const v = d.name in values ? values[d.name] : d.default;
      const input = this.inputs[d.name];
      if (d.kind === "flag") input.checked = !!v;
      else if (d.kind === "keep_prob") continue;
      else if (d.kind === "layers") input.value = [].concat(v).join(",");
      else input.value = v === null || v === undefined ? "" : String(v);
    }
    const keep = "keep_prob" in values ? values.keep_prob : this.byName.keep_prob ? this.byName.keep_prob.default : 1;
    this.keepInputs([].concat(keep).map(String));
    this.refresh();
  }

  showError(name, message) {
    const row = this.root.querySelector(`.field[data-name="${name}"]`);
    if (!row) return false;
    const details = row.closest("details");
    if (details) details.open = true;
    row.classList.add("invalid");
    row.querySelector(".field-error").textContent = message;
    const input = row.querySelector("input, select");
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    return true;
  }

  clearError(name) {
    const rows = name ? [this.root.querySelector(`.field[data-name="${name}"]`)] : this.root.querySelectorAll(".field");
    for (const row of rows) {
      if (!row) continue;
      row.classList.remove("invalid");
      row.querySelector(".field-error").textContent = "";
      row.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
    }
  }
}

function num(text) {
  const t = String(text).trim();
  if (t === "") return t;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

/** A short text of a model's settings that differ from the defaults, e.g. "l2=0.7, keep_prob=0.86". */
export function describeSettings(settings) {
  const parts = Object.entries(settings).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("/") : v}`);
  return parts.length ? parts.join(", ") : "the notebook's plain model";
}
