// The randomisation test's figure (Adebayo et al. 2018, Figure 2), without any DOM: rows are the
// original model and then each stage of the test (layers re-initialised from the output back;
// cumulatively in "cascading" order, one at a time in "independent" order), columns are the methods
// (map keys), and each cell is the map of one stage and method with its Spearman correlation to the
// original model's map.

import type { Randomisation } from "../api";

export interface CascadeStage {
  /** "" for the original model, else the layer re-initialised at this stage. */
  stage: string;
  /** The row's name: "original model" or the layer. */
  label: string;
  /** What the row's model is: "weights as trained", "+ 2 layers above it re-initialised", "re-initialised alone". */
  detail: string;
}

export interface CascadeLayout {
  order: string;
  /** Columns: map keys in the order the frame lists them. */
  keys: string[];
  /** Rows: the original model first, then the stages in the test's order. */
  stages: CascadeStage[];
  /** Index into the frame's maps of (key, stage), or -1 when the frame has no such map. */
  cell(key: string, stage: string): number;
  /** The Spearman ρ of sample `i`'s map at (key, stage) with the original's; null when not logged. */
  rho(key: string, stage: string, i: number): number | null;
}

/** The figure's rows and columns from a randomisation frame's maps and `randomisation` block. */
export function cascadeLayout(maps: readonly { key: string; stage?: string }[], r: Randomisation | null | undefined): CascadeLayout {
  const keys: string[] = [];
  const where = new Map<string, number>();
  const seenStages: string[] = [];
  maps.forEach((m, i) => {
    const stage = m.stage ?? "";
    if (!keys.includes(m.key)) keys.push(m.key);
    if (!seenStages.includes(stage)) seenStages.push(stage);
    where.set(JSON.stringify([m.key, stage]), i);
  });
  const order = r?.order ?? "";
  const layers = (r?.layers ?? []).filter((l) => l !== "");
  // The test's order first; a stage only the maps name (a damaged or newer frame) after it.
  const stageNames = ["", ...layers, ...seenStages.filter((s) => s !== "" && !layers.includes(s))];
  const stages: CascadeStage[] = stageNames.map((stage, k) => {
    if (stage === "") return { stage, label: "original model", detail: "weights as trained" };
    const listed = layers.indexOf(stage);
    let detail: string;
    if (listed < 0) detail = "re-initialised";
    else if (order === "cascading") detail = listed === 0 ? "re-initialised" : `re-initialised with the ${listed} layer${listed === 1 ? "" : "s"} above it`;
    else if (order === "independent") detail = "re-initialised alone";
    else detail = `stage ${k}`;
    return { stage, label: stage, detail };
  });
  const rhos = new Map<string, readonly number[]>();
  for (const c of r?.correlations ?? []) rhos.set(JSON.stringify([c.key, c.stage]), c.values);
  return {
    order,
    keys,
    stages,
    cell: (key, stage) => where.get(JSON.stringify([key, stage])) ?? -1,
    rho: (key, stage, i) => {
      const v = rhos.get(JSON.stringify([key, stage]))?.[i];
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    },
  };
}
