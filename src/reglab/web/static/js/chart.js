// Two small charts drawn on canvases: the cost curve (train, dev, marked changes) and accuracy over seeds.
import { CLASS_COLOURS, drawAxes, fitCanvas, fontSize } from "./plot.js";

const TRAIN = "#222222", DEV = "#D55E00", MARK = "#CC79A7"; // Okabe-Ito vermillion and reddish purple

function frame(canvas, xRange, yRange, { xLabel = "", yLabel = "", xTicks = true } = {}) {
  const { ctx, width, height } = fitCanvas(canvas);
  const fs = fontSize();
  const pad = { left: Math.round(fs * 3.2), right: Math.round(fs * 1.6), top: Math.round(fs * 0.8), bottom: Math.round(fs * (xTicks ? 2.6 : 3.4)) };
  const w = width - pad.left - pad.right, h = height - pad.top - pad.bottom;
  const [x0, x1] = xRange, [y0, y1] = yRange;
  const px = (x) => pad.left + ((x - x0) / (x1 - x0 || 1)) * w;
  const py = (y) => pad.top + (1 - (y - y0) / (y1 - y0 || 1)) * h;
  ctx.clearRect(0, 0, width, height);
  drawAxes(ctx, { pad, w, h, px, py, fs }, xRange, yRange, { count: 4, colour: "#999999", xTicks, gap: 3 });
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  if (xLabel) ctx.fillText(xLabel, pad.left + w / 2, height - 1);
  if (yLabel) {
    ctx.save();
    ctx.translate(fs * 0.8, pad.top + h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
  }
  return { ctx, px, py, pad, w, h, fs };
}

function line(ctx, xs, ys, px, py, colour, dash = []) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 2;
  ctx.setLineDash(dash);
  ctx.beginPath();
  let started = false;
  for (let k = 0; k < xs.length; k++) {
    if (ys[k] === null || !Number.isFinite(ys[k])) { started = false; continue; }
    if (started) ctx.lineTo(px(xs[k]), py(ys[k])); else ctx.moveTo(px(xs[k]), py(ys[k]));
    started = true;
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

/** history {iterations, cost, dev_cost?}; marks [{iteration, label}]; best: the kept iteration (early stopping). */
export function drawCosts(canvas, history, { nIterations = 1, marks = [], best = null } = {}) {
  const values = history.cost.concat((history.dev_cost || []).filter((v) => v !== null));
  const high = values.length ? Math.max(...values) : 1;
  const { ctx, px, py, pad, w, h, fs } = frame(canvas, [0, Math.max(nIterations, 1)], [0, high * 1.05 || 1],
    { xLabel: "iteration", yLabel: "cost" });
  line(ctx, history.iterations, history.cost, px, py, TRAIN);
  if (history.dev_cost) line(ctx, history.iterations, history.dev_cost, px, py, DEV, [6, 4]);
  ctx.font = `${Math.round(fs * 0.75)}px system-ui, sans-serif`;
  for (const mark of marks.concat(best === null ? [] : [{ iteration: best, label: "kept" }])) {
    ctx.strokeStyle = MARK;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(px(mark.iteration), pad.top);
    ctx.lineTo(px(mark.iteration), pad.top + h);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#6b2d57";
    const right = px(mark.iteration) + 3 + ctx.measureText(mark.label).width > pad.left + w; // past the plot's edge
    ctx.textAlign = right ? "right" : "left"; // near the right edge the label goes on the line's left
    ctx.textBaseline = "bottom";
    ctx.fillText(mark.label, px(mark.iteration) + (right ? -3 : 3), pad.top + h - 2);
  }
  if (!history.iterations.length) return;
  // legend
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  let y = pad.top + 4;
  for (const [label, colour, show] of [["train", TRAIN, true], ["dev (early stopping)", DEV, !!history.dev_cost]]) {
    if (!show) continue;
    const right = pad.left + (canvas.clientWidth - pad.left - 14);
    ctx.fillStyle = colour;
    ctx.fillText(label, right, y);
    y += fs * 0.95;
  }
}

/**
 * Test accuracy per seed for each model: a dot per seed, the mean with its 95% interval, and the single
 * run as configured (a diamond), as `reglab compare --seeds` draws it.
 */
export function drawSeeds(canvas, models, singleLabel) {
  const all = models.flatMap((m) => m.seeds.test.concat([m.seeds.low, m.seeds.high, m.test_accuracy]));
  const low = Math.min(...all), high = Math.max(...all), margin = Math.max(0.01, (high - low) * 0.15);
  const { ctx, px, py, pad, w, h, fs } = frame(canvas, [-0.5, models.length - 0.5], [low - margin, high + margin],
    { yLabel: "test accuracy", xTicks: false });
  ctx.font = `${Math.round(fs * 0.75)}px system-ui, sans-serif`;
  models.forEach((m, k) => {
    const x = px(k);
    m.seeds.test.forEach((v, s) => {
      const jitter = ((s % 7) - 3) * fs * 0.18;
      ctx.beginPath();
      ctx.arc(x - fs * 1.2 + jitter, py(v), fs * 0.22, 0, 2 * Math.PI);
      ctx.fillStyle = "#888888";
      ctx.fill();
    });
    ctx.strokeStyle = CLASS_COLOURS[1];
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(x, py(m.seeds.low)); ctx.lineTo(x, py(m.seeds.high));
    ctx.moveTo(x - 8, py(m.seeds.low)); ctx.lineTo(x + 8, py(m.seeds.low));
    ctx.moveTo(x - 8, py(m.seeds.high)); ctx.lineTo(x + 8, py(m.seeds.high));
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(x, py(m.seeds.mean), fs * 0.32, 0, 2 * Math.PI);
    ctx.fillStyle = CLASS_COLOURS[1];
    ctx.fill();
    const d = fs * 0.45, sx = x + fs * 1.2, sy = py(m.test_accuracy);
    ctx.beginPath();
    ctx.moveTo(sx, sy - d); ctx.lineTo(sx + d, sy); ctx.lineTo(sx, sy + d); ctx.lineTo(sx - d, sy); ctx.closePath();
    ctx.fillStyle = CLASS_COLOURS[0];
    ctx.fill();
    ctx.strokeStyle = "#222222";
    ctx.lineWidth = 1;
    ctx.stroke();
    ctx.fillStyle = "#222222";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    wrap(ctx, m.name, w / models.length - 6).forEach((text, k) => ctx.fillText(text, x, pad.top + h + 4 + k * fs * 0.85));
  });
  return `Grey dots: each seed (fresh initialisation and masks). Blue: mean and 95% interval. Orange diamond: ${singleLabel}.`;
}

/** Words of ``text`` in lines no wider than ``width`` (a long word stays whole). */
function wrap(ctx, text, width) {
  const lines = [];
  for (const word of text.split(" ")) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && ctx.measureText(`${last} ${word}`).width <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}
