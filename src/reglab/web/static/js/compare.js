// The compare view: a list of named models, trained side by side (and over seeds), with boundaries and intervals.
import { ApiError, postJSON } from "./api.js";
import { drawSeeds } from "./chart.js";
import { describeSettings } from "./form.js";
import { drawBoundary } from "./plot.js";
import { $, app, button, clearMessage, percent, report, showMessage } from "./page.js";

export function defaultsDiff(values) {
  const out = {};
  for (const d of app.declarations) {
    if (!(d.name in values)) continue;
    let v = values[d.name];
    if (d.kind === "keep_prob" && Array.isArray(v) && v.every((x) => x === v[0])) v = v[0]; // one value for all layers
    if (JSON.stringify(v) !== JSON.stringify(d.default)) out[d.name] = v;
  }
  return out;
}

export function courseModels() {
  return Object.entries(app.courseModels).map(([name, settings]) => ({ name, settings: defaultsDiff(settings) }));
}

export function renderModelList() {
  const list = $("model-list");
  list.textContent = "";
  app.models.forEach((model, k) => {
    const li = document.createElement("li");
    const name = document.createElement("input");
    name.type = "text";
    name.value = model.name;
    name.setAttribute("aria-label", `name of model ${k + 1}`);
    name.addEventListener("change", () => { model.name = name.value.trim() || `model ${k + 1}`; app.hooks.saveState(); });
    const text = document.createElement("span");
    text.className = "summary";
    text.textContent = describeSettings(model.settings);
    const load = button("Load into form", () => { app.form.setValues(model.settings); app.hooks.saveState(); });
    const replace = button("Use the form's settings", () => { model.settings = app.form.changed(); renderModelList(); app.hooks.saveState(); });
    const remove = button("Remove", () => { app.models.splice(k, 1); renderModelList(); app.hooks.saveState(); });
    remove.setAttribute("aria-label", `remove ${model.name}`);
    li.append(name, text, load, replace, remove);
    list.append(li);
  });
  $("add-model").disabled = app.models.length >= app.limits.max_compare_models;
}

export async function runCompare() {
  clearMessage();
  const seeds = Number($("seeds").value);
  if (!app.models.length) { showMessage("Add at least one model to compare."); return; }
  const ready = app.spec && app.spec.kind === "points" ? true : await app.hooks.loadData({ keepModel: true });
  if (!ready) return;
  app.compareResult = null;
  app.compared = false;
  $("compare-results").textContent = "";
  $("seeds-figure").hidden = true;
  try {
    if (app.compareJob && !$("compare-stop").disabled) { // the one still running gives its place to this one
      if (app.compareStream) app.compareStream.close();
      postJSON(`/api/stop/${app.compareJob}`).catch(() => {});
    }
    const answer = await postJSON("/api/compare", { models: app.models, seeds: Number.isFinite(seeds) ? seeds : $("seeds").value,
      data: app.hooks.dataSpec() });
    app.compareJob = answer.id;
    $("compare-button").disabled = true;
    $("compare-stop").disabled = false;
    $("compare-progress").hidden = false;
    $("compare-progress").value = 0;
    $("compare-status").textContent = "Training…";
    setCompareExports(null);
    const stream = new EventSource(answer.events);
    app.compareStream = stream;
    const end = () => { stream.close(); $("compare-button").disabled = false; $("compare-stop").disabled = true; $("compare-progress").hidden = true; };
    stream.addEventListener("progress", (e) => { const d = JSON.parse(e.data); $("compare-progress").value = d.done / d.total; });
    stream.addEventListener("done", (e) => {
      end();
      const d = JSON.parse(e.data);
      if (d.state !== "done") { $("compare-status").textContent = d.state === "stopped" ? "Stopped." : "Cancelled."; return; }
      app.compareResult = d;
      app.compared = true;
      $("compare-status").textContent = `Finished: ${d.models.length} models${d.seeds > 1 ? `, each also over ${d.seeds} seeds` : ""}.`;
      setCompareExports(answer.id);
      renderCompare(d);
      app.hooks.saveState();
    });
    stream.addEventListener("failed", (e) => { end(); $("compare-status").textContent = "Failed."; report(new ApiError(JSON.parse(e.data).message), "compare"); });
    stream.onerror = () => { if (stream.readyState === EventSource.CLOSED && !app.compareResult) { end(); showMessage("Lost the connection to the reglab server."); } };
  } catch (error) {
    report(error, "compare");
  }
}

function setCompareExports(jobId) {
  const a = $("compare-json");
  if (jobId) { a.href = `/api/results/${jobId}`; a.classList.remove("disabled"); a.removeAttribute("aria-disabled"); }
  else { a.removeAttribute("href"); a.classList.add("disabled"); a.setAttribute("aria-disabled", "true"); }
  $("compare-png").disabled = !jobId;
}

export function renderCompare(result) {
  const box = $("compare-results");
  const data = app.data || { train: [], test: [] };
  if (box.children.length !== result.models.length) {
    box.textContent = "";
    for (const m of result.models) {
      const card = document.createElement("article");
      card.className = "card";
      const h = document.createElement("h3");
      h.textContent = m.name;
      const canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `decision boundary of ${m.name}`);
      const p = document.createElement("p");
      p.className = "accuracies";
      const line = (label, value, n) => { const s = document.createElement("span"); s.textContent = `${label} ${percent(value, n)}`; s.dataset.value = value; return s; };
      p.append(line("train", m.train_accuracy, data.train.length), document.createElement("br"), line("test", m.test_accuracy, data.test.length));
      if (m.seeds) { p.append(document.createElement("br")); const s = document.createElement("span"); s.textContent = `test over ${m.seeds.seeds.length} seeds: ${m.seeds.text}`; p.append(s); }
      const a = document.createElement("a");
      a.className = "button small";
      a.textContent = "model.npz";
      a.href = `/api/model/${app.compareJob}?name=${encodeURIComponent(m.name)}`;
      card.append(h, canvas, p, a);
      box.append(card);
    }
  }
  if (result.models[0] && result.models[0].seeds) {
    $("seeds-figure").hidden = false;
    const course = result.models.every((m) => m.config.init === "course" && m.config.mask_mode === "course");
    const notebook = JSON.stringify(result.models.map((m) => defaultsDiff(m.config))) === JSON.stringify(courseModels().map((m) => m.settings));
    const label = notebook ? "the notebook's settings, one run (course init and masks)"
      : course ? "single run as configured (course init and masks)" : "single run as configured";
    $("seeds-caption").textContent = drawSeeds($("seeds-chart"), result.models, label);
    $("differences").textContent = "";
    for (const text of result.differences || []) {
      const li = document.createElement("li");
      li.textContent = text;
      $("differences").append(li);
    }
  } else {
    $("seeds-figure").hidden = true;
  }
  // after the seed figure is laid out: the cards' size depends on it
  [...box.querySelectorAll("canvas")].forEach((canvas, k) => {
    const m = result.models[k];
    drawBoundary(canvas, { params: m.params, scaling: { input_mean: m.input_mean, input_scale: m.input_scale },
      train: data.train, test: data.test, extent: app.extent });
  });
}

