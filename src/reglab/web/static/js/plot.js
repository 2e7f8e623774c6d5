// The decision boundary: the network's forward pass in the browser, the probability field, the 0.5 contour, the points.
// The forward pass is the library's (reglab.engine.network.forward without dropout): Z = W A + b, ReLU on hidden
// layers, sigmoid 1 / (1 + exp(-z)) on the output; inputs standardised first when the model was.

// Okabe-Ito colours: distinguishable with every common colour-vision deficiency.
export const CLASS_COLOURS = ["#E69F00", "#0072B2"]; // class 0 orange, class 1 blue
const FIELD_RGB = [[230, 159, 0], [0, 114, 178]];

/** Probability of class 1 at each point: params {W: [(n_out, n_in)...], b: [(n_out)...]}, points [[x1, x2], ...]. */
export function predictProba(params, points, scaling = {}) {
  const { W, b } = params;
  const mean = scaling.input_mean, scale = scaling.input_scale;
  const out = new Float64Array(points.length);
  for (let p = 0; p < points.length; p++) {
    let a = points[p].slice();
    if (mean) a = a.map((v, j) => (v - mean[j]) / scale[j]);
    for (let l = 0; l < W.length; l++) {
      const Wl = W[l], bl = b[l], next = new Array(Wl.length);
      for (let i = 0; i < Wl.length; i++) {
        let z = 0;
        const row = Wl[i];
        for (let j = 0; j < row.length; j++) z += row[j] * a[j];
        z += bl[i];
        next[i] = l < W.length - 1 ? (z > 0 ? z : 0) : z;
      }
      a = next;
    }
    out[p] = 1 / (1 + Math.exp(-a[0]));
  }
  return out;
}

/** The plotted area of a set of points [[x1, x2, class], ...]: their range with a margin. */
export function extentOf(points, fallback = [-1, 1, -1, 1]) {
  if (!points.length) return fallback;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of points) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const mx = (x1 - x0 || 1) * 0.1, my = (y1 - y0 || 1) * 0.1;
  return [x0 - mx, x1 + mx, y0 - my, y1 + my];
}

/** A canvas sized to its CSS box at the device's pixel ratio; returns its 2-D context in CSS pixels. */
export function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth)), height = Math.max(1, Math.round(canvas.clientHeight));
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, width, height };
}

export function fontSize() {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
}

const GRID = 100;

/** Trace the 0.5 level of a (GRID+1) x (GRID+1) field (marching squares) into ctx's path; toX/toY map grid units. */
function traceContour(ctx, field, n, toX, toY) {
  const corners = [[0, 0], [1, 0], [1, 1], [0, 1]];
  const v = [0, 0, 0, 0], xs = [0, 0, 0, 0], ys = [0, 0, 0, 0];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      v[0] = field[j * (n + 1) + i] - 0.5; v[1] = field[j * (n + 1) + i + 1] - 0.5;
      v[2] = field[(j + 1) * (n + 1) + i + 1] - 0.5; v[3] = field[(j + 1) * (n + 1) + i] - 0.5;
      let count = 0;
      for (let k = 0; k < 4; k++) {
        const a = v[k], c = v[(k + 1) % 4];
        if ((a < 0) !== (c < 0)) {
          const t = a / (a - c), [ax, ay] = corners[k], [cx, cy] = corners[(k + 1) % 4];
          xs[count] = i + ax + t * (cx - ax);
          ys[count] = j + ay + t * (cy - ay);
          count++;
        }
      }
      for (let k = 0; k + 1 < count; k += 2) { // two crossings: one segment; four (a saddle): two
        ctx.moveTo(toX(xs[k]), toY(ys[k]));
        ctx.lineTo(toX(xs[k + 1]), toY(ys[k + 1]));
      }
    }
  }
}

let gridCache = { key: "", points: null };
let offscreen = null; // one small canvas for the field, reused

/** The (GRID+1)^2 points of the field over ``extent`` (kept while the extent stays). */
function gridPoints([x0, x1, y0, y1]) {
  const key = `${x0},${x1},${y0},${y1}`;
  if (gridCache.key !== key) {
    const points = [];
    for (let j = 0; j <= GRID; j++) for (let i = 0; i <= GRID; i++) points.push([x0 + (i / GRID) * (x1 - x0), y0 + (j / GRID) * (y1 - y0)]);
    gridCache = { key, points };
  }
  return gridCache.points;
}

/**
 * Draw the plot: the probability field and its 0.5 contour (when a model is given), then the points
 * (train: filled circles; test: hollow squares), axes ticks, and an optional cursor for keyboard drawing.
 */
export function drawBoundary(canvas, { params = null, scaling = {}, train = [], test = [], extent, cursor = null,
                                       title = "" }) {
  const { ctx, width, height } = fitCanvas(canvas);
  const fs = fontSize();
  const pad = { left: Math.round(fs * 2.6), bottom: Math.round(fs * 1.8), top: title ? Math.round(fs * 1.6) : 6, right: 8 };
  const w = width - pad.left - pad.right, h = height - pad.top - pad.bottom;
  const [x0, x1, y0, y1] = extent;
  const px = (x) => pad.left + ((x - x0) / (x1 - x0)) * w;
  const py = (y) => pad.top + (1 - (y - y0) / (y1 - y0)) * h;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(pad.left, pad.top, w, h);
  if (params) {
    const field = predictProba(params, gridPoints(extent), scaling);
    if (!offscreen) {
      offscreen = document.createElement("canvas");
      offscreen.width = GRID + 1;
      offscreen.height = GRID + 1;
    }
    const octx = offscreen.getContext("2d");
    const image = octx.createImageData(GRID + 1, GRID + 1);
    for (let j = 0; j <= GRID; j++) {
      for (let i = 0; i <= GRID; i++) {
        const p = field[j * (GRID + 1) + i], k = 4 * ((GRID - j) * (GRID + 1) + i); // image rows go down
        const c = p >= 0.5 ? FIELD_RGB[1] : FIELD_RGB[0], s = Math.abs(p - 0.5) * 2 * 0.55; // pale to mid tones
        image.data[k] = 255 + (c[0] - 255) * s; image.data[k + 1] = 255 + (c[1] - 255) * s;
        image.data[k + 2] = 255 + (c[2] - 255) * s; image.data[k + 3] = 255;
      }
    }
    octx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(offscreen, pad.left, pad.top, w, h);
    ctx.strokeStyle = "#111111";
    ctx.lineWidth = 2;
    ctx.beginPath();
    traceContour(ctx, field, GRID, (gx) => pad.left + (gx / GRID) * w, (gy) => pad.top + (1 - gy / GRID) * h);
    ctx.stroke();
  }
  const r = Math.max(2, Math.min(fs * 0.28, w / 110)); // smaller on small plots (the comparison's)
  for (const [x, y, c] of train) {
    ctx.beginPath();
    ctx.arc(px(x), py(y), r, 0, 2 * Math.PI);
    ctx.fillStyle = CLASS_COLOURS[c];
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#222222";
    ctx.stroke();
  }
  for (const [x, y, c] of test) {
    const s = r * 1.7;
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#222222";
    ctx.strokeRect(px(x) - s / 2, py(y) - s / 2, s, s);
    ctx.lineWidth = 2;
    ctx.strokeStyle = CLASS_COLOURS[c];
    ctx.strokeRect(px(x) - s / 2, py(y) - s / 2, s, s);
  }
  drawAxes(ctx, { pad, w, h, px, py, fs }, [x0, x1], [y0, y1]);
  if (title) {
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.font = `600 ${Math.round(fs * 0.85)}px system-ui, sans-serif`;
    ctx.fillText(title, pad.left, 2);
  }
  if (cursor) {
    const [cx, cy] = [px(cursor[0]), py(cursor[1])];
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx - 10, cy); ctx.lineTo(cx + 10, cy); ctx.moveTo(cx, cy - 10); ctx.lineTo(cx, cy + 10);
    ctx.stroke();
  }
  return { toData: (cx, cy) => [x0 + ((cx - pad.left) / w) * (x1 - x0), y0 + (1 - (cy - pad.top) / h) * (y1 - y0)] };
}

/** The frame of a plot area and its ticks: x below it (unless xTicks is false), y to its left. */
export function drawAxes(ctx, { pad, w, h, px, py, fs }, [x0, x1], [y0, y1],
                         { count = 5, colour = "#444444", xTicks = true, gap = 4 } = {}) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1;
  ctx.strokeRect(pad.left, pad.top, w, h);
  ctx.fillStyle = "#222222";
  ctx.font = `${Math.round(fs * 0.75)}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  if (xTicks && x1 > x0) for (const t of ticks(x0, x1, count)) ctx.fillText(format(t), px(t), pad.top + h + gap);
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of ticks(y0, y1, count)) ctx.fillText(format(t), pad.left - 4, py(t));
}

function ticks(low, high, count = 5) {
  const span = high - low;
  if (!(span > 0)) return [low];
  const raw = span / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => span / s <= count) || 10 * power;
  const out = [];
  for (let t = Math.ceil(low / step) * step; t <= high + 1e-12; t += step) out.push(Math.abs(t) < step / 1e6 ? 0 : t);
  return out;
}

function format(value) {
  return Math.abs(value) >= 1e6 ? value.toExponential(0) : String(Number(value.toPrecision(4)));
}
