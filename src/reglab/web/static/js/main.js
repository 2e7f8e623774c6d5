// The playground page: data, the model form, live training, comparison, the URL state and exports.
import { ApiError, getJSON, postJSON, upload } from "./api.js";
import { drawCosts } from "./chart.js";
import { courseModels, renderCompare, renderModelList, runCompare } from "./compare.js";
import { SettingsForm, describeSettings } from "./form.js";
import { $, app, clearMessage, exportPNG, percent, report, showMessage } from "./page.js";
import { drawBoundary, extentOf } from "./plot.js";
import { readState, writeState } from "./state.js";

const DRAWN_EXTENT = [-1, 1, -1, 1];
app.extent = DRAWN_EXTENT;

// ---- data -----------------------------------------------------------------------------------
function dataSpec() {
  const kind = $("data-kind").value;
  const text = (id) => $(id).value.trim();
  const number = (id) => (text(id) === "" ? null : Number.isFinite(Number(text(id))) ? Number(text(id)) : text(id));
  if (kind === "course") return { kind: "course" };
  if (kind === "points") return { kind: "points", points: app.drawn };
  if (kind === "upload") {
    return { kind: "upload", upload: app.upload ? app.upload.id : "", name: app.upload ? app.upload.name : "",
      test_fraction: number("data-test"), seed: number("data-seed") };
  }
  return { kind: "builtin", name: kind, n_samples: number("data-n"), noise: number("data-noise"),
    test_fraction: number("data-test"), seed: number("data-seed") };
}

function showDataOptions() {
  const kind = $("data-kind").value;
  $("builtin-options").hidden = !app.builtins.some((b) => b.name === kind);
  $("split-options").hidden = kind === "course";
  $("upload-options").hidden = kind !== "upload";
  $("points-options").hidden = kind !== "points";
  $("data-seed").closest(".field").hidden = kind === "points";
}

function setBuiltinDefaults(name) {
  const b = app.builtins.find((x) => x.name === name);
  if (!b) return;
  $("data-n").value = b.n_samples;
  $("data-noise").value = b.noise;
  $("data-test").value = b.test_fraction;
}

async function loadData({ keepModel = false } = {}) {
  const spec = dataSpec();
  app.spec = spec;
  showDataOptions();
  if (!keepModel) forgetModel();
  if (spec.kind === "points") {
    app.data = { train: app.drawn.filter((p) => !p[3]).map((p) => p.slice(0, 3)),
      test: app.drawn.filter((p) => p[3]).map((p) => p.slice(0, 3)) };
    setClassNames([0, 1]);
    app.extent = extentOf(app.drawn, DRAWN_EXTENT);
    app.extent = [Math.min(app.extent[0], -1), Math.max(app.extent[1], 1), Math.min(app.extent[2], -1), Math.max(app.extent[3], 1)];
    $("data-source").textContent = `${app.data.train.length} training and ${app.data.test.length} test points drawn.`;
    redraw();
    saveState();
    return true;
  }
  if (spec.kind === "upload" && !app.upload) {
    app.data = { train: [], test: [] };
    $("data-source").textContent = "Choose a .csv, .npz or .mat file.";
    redraw();
    return false;
  }
  try {
    const data = await postJSON("/api/data", spec);
    if (JSON.stringify(spec) !== JSON.stringify(app.spec)) return false; // a newer choice was made meanwhile
    app.data = data;
    app.extent = extentOf(data.train.concat(data.test));
    setClassNames(data.classes);
    $("data-source").textContent = `${data.source}${data.source.includes(" train") ? "" : ` (${data.n_train} train / ${data.n_test} test points)`}.`;
    clearMessage();
    redraw();
    saveState();
    return true;
  } catch (error) {
    app.data = { train: [], test: [] };
    $("data-source").textContent = "";
    report(error, "data");
    redraw();
    return false;
  }
}

/** The legend names the data's own labels (a file's may be text): class 0 is the first of the sorted two. */
function setClassNames(classes) {
  const names = classes && classes.length === 2 ? classes : [0, 1];
  const name = (c) => (typeof c === "number" ? `class ${c}` : c);
  $("legend-c0").textContent = name(names[0]);
  $("legend-c1").textContent = name(names[1]);
}

async function onUpload() {
  const file = $("upload-file").files[0];
  if (!file) return;
  if (file.size > app.limits.max_upload_bytes) {
    showMessage(`Upload: ${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB, larger than the limit of ` +
      `${app.limits.max_upload_bytes / 2 ** 20} MB: use a smaller file`);
    return;
  }
  try {
    const answer = await upload(file);
    app.upload = { id: answer.upload, name: file.name };
    clearMessage();
    await loadData();
  } catch (error) {
    app.upload = null;
    report(error, "upload");
  }
}

function addPoint(x, y, cls) {
  // The k-th point of a class goes to the test set when that class's count of test points ought to grow: each class
  // is split evenly at the test fraction f (the first point of each class trains), whatever order the clicks come in.
  const k = app.drawn.filter((p) => p[2] === cls).length, f = Number($("data-test").value) || 0;
  const test = Math.floor((k + 1) * f + 1e-9) > Math.floor(k * f + 1e-9) ? 1 : 0;
  app.drawn.push([round(x), round(y), cls, test]);
  loadData();
}

const round = (v) => Math.round(v * 1e4) / 1e4;

// ---- drawing ---------------------------------------------------------------------------------
let plotMap = null;
function redraw() { // the view on screen only: setView redraws the other when it is shown
  if (app.view === "compare") {
    if (app.compareResult) renderCompare(app.compareResult);
    return;
  }
  const data = app.data || { train: [], test: [] };
  const cursor = $("data-kind").value === "points" && document.activeElement === $("boundary") ? app.cursor : null;
  const state = app.state === "idle" ? "" : ` · ${app.state}`;
  plotMap = drawBoundary($("boundary"), { params: app.params, scaling: app.scaling, train: data.train, test: data.test,
    extent: app.extent, cursor, title: app.params ? `iteration ${app.iteration ?? 0}${state}` : "" });
  drawCosts($("costs"), app.history || { iterations: [], cost: [] },
    { nIterations: app.history ? app.nIterations : Number(app.form.values().n_iterations) || 1, marks: app.marks,
      best: app.bestIteration }); // before training: the planned iterations
}

function forgetModel() {
  stopStream();
  Object.assign(app, { job: null, params: null, history: null, marks: [], schedule: [], stopAt: null, finished: false,
    state: "idle", iteration: null, bestIteration: null });
  setMetrics(null);
  setButtons();
  setExports(null);
}

// ---- training --------------------------------------------------------------------------------
function setButtons() {
  const s = app.state;
  $("train-button").disabled = s === "starting";
  $("pause-button").disabled = s !== "running";
  $("resume-button").disabled = s !== "paused";
  $("step-button").disabled = s === "running" || s === "starting"; // from rest, Step starts a paused training
  $("stop-button").disabled = !(s === "running" || s === "paused");
  $("train-status").textContent = {
    idle: "Ready.", starting: "Starting…", running: "Training…", paused: "Paused.", done: "Finished.",
    stopped: "Stopped.", failed: "Failed: see the message above.", cancelled: "Cancelled.",
  }[s] || s;
}

function setMetrics(snapshot) {
  const put = (id, text, value) => { $(id).textContent = text; $(id).dataset.value = value ?? ""; };
  if (!snapshot) { ["m-iteration", "m-train", "m-test", "m-cost"].forEach((id) => put(id, "–", "")); return; }
  const data = app.data || { train: [], test: [] };
  put("m-iteration", String(snapshot.iteration), snapshot.iteration);
  put("m-train", percent(snapshot.train_accuracy, data.train.length), snapshot.train_accuracy);
  put("m-test", percent(snapshot.test_accuracy, data.test.length), snapshot.test_accuracy);
  const cost = app.history && app.history.cost.length ? app.history.cost[app.history.cost.length - 1] : null;
  put("m-cost", cost === null ? "–" : cost.toFixed(6), cost);
}

function setExports(jobId) {
  for (const [id, url] of [["export-json", `/api/results/${jobId}`], ["export-model", `/api/model/${jobId}`]]) {
    const a = $(id);
    if (jobId) { a.href = url; a.classList.remove("disabled"); a.removeAttribute("aria-disabled"); }
    else { a.removeAttribute("href"); a.classList.add("disabled"); a.setAttribute("aria-disabled", "true"); }
  }
  $("export-png").disabled = !app.params;
}

function stopStream() {
  if (app.stream) { app.stream.close(); app.stream = null; }
}

function appendHistory(part) {
  if (!part) return;
  const h = app.history || (app.history = { iterations: [], cost: [], dev_cost: part.dev_cost ? [] : undefined });
  for (let k = 0; k < part.iterations.length; k++) {
    const it = part.iterations[k];
    if (h.iterations.length && h.iterations[h.iterations.length - 1] === it) { // paused there: the new settings' cost
      h.cost[h.cost.length - 1] = part.cost[k];
      continue;
    }
    h.iterations.push(it);
    h.cost.push(part.cost[k]);
    if (part.dev_cost) (h.dev_cost || (h.dev_cost = [])).push(part.dev_cost[k]);
  }
}

function listen(jobId) {
  stopStream();
  const stream = new EventSource(`/api/events/${jobId}`);
  app.stream = stream;
  const on = (name, handler) => stream.addEventListener(name, (event) => handler(JSON.parse(event.data)));
  on("status", (d) => { $("train-status").textContent = d.message; });
  on("start", (d) => {
    app.config = d.config;
    app.scaling = { input_mean: d.input_mean, input_scale: d.input_scale };
    app.nIterations = d.n_iterations;
    app.history = null;
    app.marks = [];
  });
  on("progress", (d) => {
    appendHistory(d.history);
    if (d.params) app.params = d.params;
    app.iteration = d.iteration;
    app.state = d.state;
    setMetrics(d);
    setButtons();
    setExports(null);
    redraw();
  });
  on("changed", (d) => {
    app.config = d.config;
    if (Object.keys(d.changes).length) {
      if ("n_iterations" in d.changes) app.nIterations = d.changes.n_iterations;
      app.marks.push({ iteration: d.iteration, label: describeSettings(d.changes) });
      if (!app.replaying) app.schedule.push({ at: d.iteration, set: d.changes });
    }
    saveState();
    redraw();
  });
  on("done", (d) => {
    stopStream();
    appendHistory(d.history);
    if (d.params) app.params = d.params;
    app.iteration = d.iteration;
    app.state = d.state;
    app.bestIteration = d.best_iteration ?? null;
    app.finished = true;
    if (app.history && app.history.iterations.length && d.iteration < app.nIterations) {
      app.nIterations = Math.max(d.iteration, 1); // ended early: the curve fills the chart
    }
    if (d.state === "stopped" && !app.replaying) app.stopAt = d.iteration;
    app.replaying = false;
    setMetrics(d);
    setButtons();
    setExports(d.state === "done" || d.state === "stopped" ? jobId : null);
    if (d.state === "cancelled") showMessage("The training was cancelled by the server (no page listened to it for a while): train again.");
    $("announce").textContent = d.train_accuracy === undefined ? "" :
      `Training ${d.state === "done" ? "finished" : d.state}: train accuracy ${percent(d.train_accuracy, (app.data || { train: [] }).train.length)}, ` +
      `test accuracy ${percent(d.test_accuracy, (app.data || { test: [] }).test.length)}.`;
    saveState();
    redraw();
  });
  on("failed", (d) => {
    stopStream();
    app.state = "failed";
    app.replaying = false;
    setButtons();
    report(new ApiError(d.message, { field: d.field }), "training");
  });
  stream.onerror = () => {
    if (app.stream === stream && stream.readyState === EventSource.CLOSED) {
      app.state = "failed";
      setButtons();
      showMessage("Lost the connection to the reglab server: is `reglab serve` still running? Train again when it is.");
    }
  };
}

async function train({ replay = false, paused = false } = {}) {
  clearMessage();
  app.form.clearError();
  if (!replay) { app.schedule = []; app.stopAt = null; }
  // The data shown is the data trained on: loaded again only when its options changed since (a round trip saved)
  const same = app.data && JSON.stringify(dataSpec()) === JSON.stringify(app.spec) && app.data.train.length;
  const ready = same || (app.spec && app.spec.kind === "points") ? true : await loadData({ keepModel: true });
  if (!ready) return;
  if (app.job && !app.finished) postJSON(`/api/stop/${app.job}`).catch(() => {}); // its place goes to the new one
  forgetModelKeepPlan();
  app.state = "starting";
  app.replaying = replay;
  setButtons();
  $("boundary").scrollIntoView({ block: "nearest" }); // on a projector the plot may be below the form
  const body = { settings: app.form.values(), data: dataSpec(), pace: $("pace").value ? Number($("pace").value) : null,
    schedule: app.schedule, stop_at: app.stopAt, paused };
  try {
    const answer = await postJSON("/api/train", body);
    app.job = answer.id;
    listen(answer.id);
  } catch (error) {
    app.state = "idle";
    app.replaying = false;
    setButtons();
    report(error, error.field && !(error.field in app.form.byName) ? "data" : "training");
  }
}

function forgetModelKeepPlan() {
  const { schedule, stopAt } = app;
  forgetModel();
  Object.assign(app, { schedule, stopAt });
}

async function control(action, body) {
  if (!app.job) return;
  try {
    if (action === "resume" || action === "step") {
      const changes = {};
      const now = app.form.values();
      for (const [k, v] of Object.entries(now)) {
        if (JSON.stringify(v) !== JSON.stringify(app.config[k]) && JSON.stringify([].concat(v)) !== JSON.stringify(app.config[k])) changes[k] = v;
      }
      if (Object.keys(changes).length) await postJSON(`/api/update/${app.job}`, { settings: changes });
    }
    await postJSON(`/api/${action}/${app.job}`, body || {});
    clearMessage();
    app.form.clearError();
  } catch (error) {
    report(error, action === "resume" || action === "step" ? "change while paused" : action);
  }
}

// ---- state in the URL ------------------------------------------------------------------------
function saveState() {
  writeState({
    view: app.view, large: $("large-type").checked, data: app.spec, settings: app.form.changed(), pace: $("pace").value,
    run: app.finished && app.job !== null, schedule: app.schedule, stopAt: app.stopAt, models: app.models,
    seeds: Number($("seeds").value) || 1, compared: app.compared,
  });
}

function setView(view) {
  app.view = view;
  $("train-view").hidden = view !== "train";
  $("compare-view").hidden = view !== "compare";
  $("view-train").setAttribute("aria-pressed", String(view === "train"));
  $("view-compare").setAttribute("aria-pressed", String(view === "compare"));
  saveState();
  requestAnimationFrame(redraw);
}

function setLarge(on) {
  document.documentElement.classList.toggle("large", on);
  $("large-type").checked = on;
  requestAnimationFrame(redraw);
}

// ---- start -----------------------------------------------------------------------------------
async function start() {
  let settings, datasets;
  try {
    [settings, datasets] = await Promise.all([getJSON("/api/settings"), getJSON("/api/datasets")]);
  } catch (error) {
    showMessage(error.message);
    return;
  }
  Object.assign(app, { declarations: settings.settings, limits: settings.limits,
    courseModels: settings.course_models, builtins: datasets.builtin, course: datasets.course });
  app.form = new SettingsForm($("settings-form"), app.declarations, () => { saveState(); });
  const kind = $("data-kind");
  const group = document.createElement("optgroup");
  group.label = "Built-in";
  for (const b of app.builtins) group.append(new Option(b.name, b.name));
  kind.append(group, new Option(app.course.found ? "course data (data.mat)" : "course data (not found)", "course"),
    new Option("upload a file", "upload"), new Option("draw points", "points"));

  const state = readState();
  app.form.setValues(state.settings);
  setLarge(state.large);
  $("pace").value = state.pace;
  app.models = state.models || courseModels();
  $("seeds").value = String(state.seeds || 1);
  const spec = state.data || { kind: "builtin", name: app.builtins[0].name };
  if (spec.kind === "builtin") {
    kind.value = spec.name;
    setBuiltinDefaults(spec.name);
    for (const [key, id] of [["n_samples", "data-n"], ["noise", "data-noise"], ["test_fraction", "data-test"], ["seed", "data-seed"]]) {
      if (spec[key] !== undefined && spec[key] !== null) $(id).value = spec[key];
    }
  } else {
    kind.value = spec.kind;
    $("data-test").value = spec.test_fraction ?? 0.5;
    $("data-seed").value = spec.seed ?? 0;
    if (spec.kind === "upload" && spec.upload) app.upload = { id: spec.upload, name: spec.name || "the uploaded file" };
    if (spec.kind === "points") app.drawn = spec.points || [];
  }
  if ($("data-seed").value === "") $("data-seed").value = 0;
  if (!app.course.found) $("data-kind").querySelector('option[value="course"]').title = app.course.message;
  renderModelList();
  app.hooks = { saveState, loadData, dataSpec };
  wire();
  setView(state.view);
  const loaded = await loadData();
  if (spec.kind === "course" && !app.course.found) showMessage(`Course data: ${app.course.message}`);
  if (loaded && state.run) {
    app.schedule = state.schedule;
    app.stopAt = state.stopAt;
    await train({ replay: true });
  }
  if (loaded && state.compared) await runCompare();
  document.body.dataset.ready = "1";
}

function wire() {
  $("view-train").addEventListener("click", () => setView("train"));
  $("view-compare").addEventListener("click", () => setView("compare"));
  $("large-type").addEventListener("change", (e) => { setLarge(e.target.checked); saveState(); });
  $("hide-settings").addEventListener("click", () => {
    const hidden = document.documentElement.classList.toggle("settings-hidden"); // for showing the plots to a class
    $("hide-settings").textContent = hidden ? "Show data and model" : "Hide data and model";
    $("hide-settings").setAttribute("aria-expanded", String(!hidden));
    requestAnimationFrame(redraw);
  });
  $("copy-link").addEventListener("click", async () => {
    saveState();
    try { await navigator.clipboard.writeText(location.href); showMessage("Link copied: it reproduces this view.", "info"); }
    catch { showMessage(`Copy this link: ${location.href}`, "info"); }
  });
  $("data-kind").addEventListener("change", () => {
    const value = $("data-kind").value;
    setBuiltinDefaults(value);
    if (value === "course" && !app.course.found) showMessage(`Course data: ${app.course.message}`);
    loadData();
  });
  for (const id of ["data-n", "data-noise", "data-test", "data-seed"]) $(id).addEventListener("change", () => loadData());
  $("upload-file").addEventListener("change", onUpload);
  $("clear-points").addEventListener("click", () => { app.drawn = []; loadData(); });
  $("train-button").addEventListener("click", () => train());
  $("pause-button").addEventListener("click", () => control("pause"));
  $("resume-button").addEventListener("click", () => control("resume"));
  $("step-button").addEventListener("click", () => {
    if (app.state === "paused") control("step", { iterations: Number($("step-size").value) });
    else train({ paused: true }); // the initial boundary first; each Step then trains a few iterations
  });
  $("stop-button").addEventListener("click", () => control("stop"));
  $("pace").addEventListener("change", saveState);
  $("export-png").addEventListener("click", () => {
    const data = app.data || { train: [], test: [] };
    exportPNG([$("boundary"), $("costs")], [
      `reglab · ${$("data-source").textContent}`,
      `settings: ${describeSettings(app.form.changed())} · iteration ${app.iteration}`,
      `train accuracy ${$("m-train").textContent} · test accuracy ${$("m-test").textContent}`,
    ], "reglab-boundary.png");
  });
  $("course-models").addEventListener("click", () => { app.models = courseModels(); renderModelList(); saveState(); });
  $("add-model").addEventListener("click", () => {
    app.models.push({ name: `model ${app.models.length + 1}`, settings: app.form.changed() });
    renderModelList();
    saveState();
  });
  $("seeds").addEventListener("change", saveState);
  $("compare-button").addEventListener("click", runCompare);
  $("compare-stop").addEventListener("click", async () => { try { await postJSON(`/api/stop/${app.compareJob}`); } catch (error) { report(error, "stop"); } });
  $("compare-png").addEventListener("click", () => {
    const canvases = [...$("compare-results").querySelectorAll("canvas")];
    if (!$("seeds-figure").hidden) canvases.push($("seeds-chart"));
    exportPNG(canvases, [`reglab compare · ${$("data-source").textContent}`,
      app.compareResult.models.map((m) => `${m.name}: test ${m.test_accuracy}`).join(" · ")], "reglab-compare.png");
  });
  const canvas = $("boundary");
  canvas.addEventListener("click", (event) => {
    if ($("data-kind").value !== "points") {
      showMessage("To draw points, choose “draw points” as the data set, then click on the plot.", "info");
      return;
    }
    const rect = canvas.getBoundingClientRect();
    const [x, y] = plotMap.toData(event.clientX - rect.left, event.clientY - rect.top);
    const chosen = Number(document.querySelector('input[name="draw-class"]:checked').value);
    addPoint(x, y, event.shiftKey ? 1 - chosen : chosen);
  });
  canvas.addEventListener("keydown", (event) => {
    if ($("data-kind").value !== "points") return;
    const [x0, x1, y0, y1] = app.extent;
    const c = app.cursor || (app.cursor = [(x0 + x1) / 2, (y0 + y1) / 2]);
    const step = (event.shiftKey ? 0.1 : 0.025);
    const moves = { ArrowLeft: [-(x1 - x0) * step, 0], ArrowRight: [(x1 - x0) * step, 0], ArrowUp: [0, (y1 - y0) * step], ArrowDown: [0, -(y1 - y0) * step] };
    if (moves[event.key]) {
      c[0] = Math.min(x1, Math.max(x0, c[0] + moves[event.key][0]));
      c[1] = Math.min(y1, Math.max(y0, c[1] + moves[event.key][1]));
      event.preventDefault();
      redraw();
    } else if (event.key === "Enter" || event.key === " ") {
      const chosen = Number(document.querySelector('input[name="draw-class"]:checked').value);
      addPoint(c[0], c[1], event.shiftKey ? 1 - chosen : chosen);
      event.preventDefault();
    } else if (event.key === "Backspace" || event.key === "Delete") {
      app.drawn.pop();
      loadData();
      event.preventDefault();
    }
  });
  canvas.addEventListener("focus", redraw);
  canvas.addEventListener("blur", redraw);
  let pending = null;
  window.addEventListener("resize", () => { cancelAnimationFrame(pending); pending = requestAnimationFrame(redraw); });
}

window.reglab = { app, predict: (params, points, scaling) => import("./plot.js").then((m) => Array.from(m.predictProba(params, points, scaling))) };
start();
