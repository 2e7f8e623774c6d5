// The page's whole state in its URL, so that a link reproduces the view (same data, settings, seeds: same numbers).

export function readState() {
  const q = new URLSearchParams(location.search);
  const json = (key, fallback) => { try { return q.has(key) ? JSON.parse(q.get(key)) : fallback; } catch { return fallback; } };
  return {
    view: q.get("view") === "compare" ? "compare" : "train",
    large: q.get("large") === "1",
    data: json("data", null),
    settings: json("settings", {}),
    pace: q.get("pace") || "",
    run: q.get("run") === "1",
    schedule: json("schedule", []),
    stopAt: q.has("stop") ? Number(q.get("stop")) : null,
    models: json("models", null),
    seeds: q.has("seeds") ? Number(q.get("seeds")) : 1,
    compared: q.get("compared") === "1",
  };
}

export function writeState(state) {
  const q = new URLSearchParams();
  if (state.view === "compare") q.set("view", "compare");
  if (state.large) q.set("large", "1");
  if (state.data) q.set("data", JSON.stringify(state.data));
  if (state.settings && Object.keys(state.settings).length) q.set("settings", JSON.stringify(state.settings));
  if (state.pace) q.set("pace", state.pace);
  if (state.run) q.set("run", "1");
  if (state.schedule && state.schedule.length) q.set("schedule", JSON.stringify(state.schedule));
  if (state.stopAt !== null && state.stopAt !== undefined) q.set("stop", String(state.stopAt));
  if (state.models) q.set("models", JSON.stringify(state.models));
  if (state.seeds && state.seeds !== 1) q.set("seeds", String(state.seeds));
  if (state.compared) q.set("compared", "1");
  const text = q.toString();
  history.replaceState(null, "", text ? `?${text}` : location.pathname);
}
