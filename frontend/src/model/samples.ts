// What a logged sample says, as text: its class ids as the log's class names, its score as a number,
// and whether its prediction was wrong. The grid's row labels, the randomisation figure's sample bar
// and the enlarged view all word a sample through these.

import type { Sample } from "../api";
import { formatValue } from "../render/pixels";

/** Class id → display text: the class name when the log gave names, else the id. */
export function className(id: number | undefined | null, names: readonly string[]): string | null {
  if (id === undefined || id === null) return null;
  return id >= 0 && id < names.length && names[id] !== "" ? names[id] : String(id);
}

/** The facts a sample has among `names`, in that order, as [name, text]: class ids as their names
 * from the logs (shown as text), the score as a number. */
export function factPairs(sample: Sample | undefined, classes: readonly string[], names: readonly ("label" | "target" | "pred" | "score")[]): [string, string][] {
  const s = sample ?? {};
  const text = {
    label: className(s.label, classes),
    target: className(s.target, classes),
    pred: className(s.prediction, classes),
    score: typeof s.score === "number" ? formatValue(s.score) : null,
  };
  return names.flatMap((name) => (text[name] === null ? [] : [[name, text[name]] as [string, string]]));
}

/** A wrong prediction: both known and different. */
export function isWrong(sample: Sample | undefined): boolean {
  return !!sample && typeof sample.label === "number" && typeof sample.prediction === "number" && sample.label !== sample.prediction;
}
