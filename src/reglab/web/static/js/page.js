// What every part of the page shares: its state, element lookup, messages and number formats.
import { ApiError } from "./api.js";

export const $ = (id) => document.getElementById(id);

/** The page's state. ``hooks`` are set by main.js (saveState, loadData, dataSpec) for the compare view. */
export const app = {
  declarations: [], limits: {}, courseModels: {}, builtins: [], course: { found: false },
  form: null, view: "train", spec: null, data: null, extent: [-1, 1, -1, 1], drawn: [], cursor: null, upload: null,
  job: null, stream: null, state: "idle", config: null, params: null, scaling: {}, history: null, marks: [],
  schedule: [], stopAt: null, nIterations: 1, bestIteration: null, finished: false,
  models: [], compareJob: null, compareStream: null, compareResult: null, compared: false, hooks: {},
};

// ---- messages -------------------------------------------------------------------------------
export function showMessage(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = kind;
  box.hidden = false;
}
export function clearMessage() { $("message").hidden = true; $("message").textContent = ""; }

/** An API error on the page: next to its field when it names one of the form's, and always at the top. */
export function report(error, context = "") {
  const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  const dataFields = { n_samples: "data-n", noise: "data-noise", test_fraction: "data-test", seed: "data-seed",
    file: "upload-file", points: "boundary", name: "data-kind", kind: "data-kind" };
  let where = "";
  if (error.field && app.form.showError(error.field, message)) where = ` (see ${error.field} in the form)`;
  else if (error.field && context === "data" && dataFields[error.field]) $(dataFields[error.field]).focus();
  showMessage(`${context ? context[0].toUpperCase() + context.slice(1) + ": " : ""}${message}${where}`);
}


export const percent = (a, n) => (n ? `${a.toFixed(4)} (${Math.round(a * n)}/${n})` : a.toFixed(4));

export function button(text, handler) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", handler);
  return b;
}

// ---- export ----------------------------------------------------------------------------------
export function exportPNG(canvases, lines, filename) {
  const ratio = window.devicePixelRatio || 1, gap = 12 * ratio, line = 22 * ratio;
  const width = canvases.reduce((w, c) => w + c.width + gap, gap);
  const height = Math.max(...canvases.map((c) => c.height)) + gap * 2 + line * lines.length;
  const out = document.createElement("canvas");
  out.width = width;
  out.height = height;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#111111";
  ctx.font = `${15 * ratio}px system-ui, sans-serif`;
  ctx.textBaseline = "top";
  lines.forEach((text, k) => ctx.fillText(text, gap, gap + k * line));
  let x = gap;
  for (const c of canvases) { ctx.drawImage(c, x, gap + line * lines.length); x += c.width + gap; }
  out.toBlob((blob) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  });
}

