// The evolution view of a text or signal step: one strip per step, so that tokens (or time) run
// across and steps down. A text strip is a row of fixed-width cells, one per token, each holding its
// token as text (textContent only) on its value's colour, so a token sits in the same column at every
// step; a signal strip is its attribution band on a small canvas.

import { isDimmed } from "../../data/sequences";
import type { MapColumn, StepData } from "../../data/step_data";
import { h } from "../../dom";
import type { DisplayRange } from "../../render/normalise";
import { formatValue } from "../../render/pixels";
import type { Settings } from "../../settings";
import { valueColour } from "../grid/sequence_rows";
import { rangeText } from "../tiles";
import type { Tooltip } from "../tooltip";
import { textColourOn } from "../../model/tokens";

const BAND_WIDTH = 480;
const BAND_HEIGHT = 20;

/** One sample's strip of `column` at one step, with the hover read-out of each token or time step. */
export function sequenceStrip(column: MapColumn, sample: number, data: StepData, range: DisplayRange, s: Settings, tooltip: Tooltip): HTMLElement {
  const block = column.blocks[sample];
  const t = data.tokens;
  if (t) {
    const strip = h("div", { className: "tbs-strip", attrs: { dir: "ltr", "data-sample": sample, "data-key": column.name } });
    t.tokens[sample].forEach((token, k) => {
      const value = block.raw(k, 0);
      const dimmed = isDimmed(t, sample, k);
      const cell = h("span", { className: `tbs-strip-cell${dimmed ? " tbs-tok-dim" : ""}`, attrs: { "data-token": k, dir: "auto" }, text: token });
      if (!dimmed) {
        const c = valueColour(value, range, s);
        cell.style.background = `rgb(${c.r}, ${c.g}, ${c.b})`;
        cell.style.color = textColourOn(c.r, c.g, c.b);
      }
      cell.addEventListener("mousemove", (e) =>
        tooltip.show([`sample ${sample} · ${column.name} · step ${data.frame.step}`, `token ${k} ${JSON.stringify(token)}`, `value ${formatValue(value)}`, `colour range ${rangeText(range)}`], e.clientX, e.clientY),
      );
      strip.appendChild(cell);
    });
    strip.addEventListener("mouseleave", () => tooltip.hide());
    return strip;
  }
  const canvas = h("canvas", { className: "tbs-strip-band", attrs: { width: BAND_WIDTH, height: BAND_HEIGHT, "data-sample": sample, "data-key": column.name } });
  const n = block.width;
  const ctx = canvas.getContext("2d");
  if (ctx) {
    for (let x = 0; x < BAND_WIDTH; x++) {
      const c = valueColour(block.raw(Math.min(n - 1, Math.floor(((x + 0.5) * n) / BAND_WIDTH)), 0), range, s);
      ctx.fillStyle = `rgb(${c.r}, ${c.g}, ${c.b})`;
      ctx.fillRect(x, 0, 1, BAND_HEIGHT);
    }
  }
  canvas.addEventListener("mousemove", (e) => {
    const k = Math.min(n - 1, Math.max(0, Math.floor((e.offsetX / Math.max(1, canvas.clientWidth)) * n)));
    tooltip.show([`sample ${sample} · ${column.name} · step ${data.frame.step}`, `time step ${k}`, `value ${formatValue(block.raw(k, 0))}`, `colour range ${rangeText(range)}`], e.clientX, e.clientY);
  });
  canvas.addEventListener("mouseleave", () => tooltip.hide());
  return canvas;
}
