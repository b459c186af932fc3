// The layout of a randomisation step, as in Adebayo et al.'s Figure 2, for one sample: rows are the
// original model and each stage (layers re-initialised from the output back), columns the methods;
// each cell is that stage's map under the display settings, with its Spearman ρ to the original's.

import type { StepData } from "../../data/step_data";
import { h, uid } from "../../dom";
import { cascadeLayout, type CascadeLayout as Cascade } from "../../model/cascade";
import { describeMetric, formatMetric, metricMeta } from "../../model/metrics";
import { factPairs, isWrong } from "../../model/samples";
import { TilePainter } from "../../render/pipeline";
import { mapGroups, pickedSamples, zoomOf, type FrameLayout, type GridHost, type MapTile, type RangedGroup, type Shown, type TileBoard } from "./board";

export class CascadeLayout implements FrameLayout {
  readonly tableClass = " tbs-cascade";
  /** Each stage has its own range whatever the scope: every tile says its own. */
  readonly ownRanges = true;
  /** The figure's rows and columns, for the step shown. */
  private cascade: Cascade | null = null;
  /** What the sample bar says of the sample shown. */
  private facts: HTMLElement | null = null;

  constructor(private readonly host: GridHost) {}

  /** One sample: the card's choice when the picker leaves it, else the first left. */
  shown(data: StepData): Shown {
    const base = pickedSamples(data, this.host);
    const chosen = this.host.cascadeSample();
    return { samples: base.length ? [chosen !== null && base.includes(chosen) ? chosen : base[0]] : [], note: null };
  }

  build(data: StepData, shown: Shown, board: TileBoard): HTMLElement {
    const s = this.host.settings();
    const layout = cascadeLayout(data.frame.maps, data.frame.randomisation);
    this.cascade = layout;
    const zoom = zoomOf(s);
    const side = s.view === "side";
    const i = shown.samples[0];
    const bar = this.sampleBar(data, shown);
    if (i === undefined) return h("div", { className: "tbs-grid-wrap tbs-cascade-wrap" }, bar, board.emptyNote(shown, data.numSamples));
    const picture = data.images[i] ?? null;
    const showInput = picture !== null && !side;
    const heads = layout.keys.map((key) => {
      const head = board.columnHead(layout.stages.map((st) => layout.cell(key, st.stage)).filter((c) => c >= 0));
      return h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: key }), head.box);
    });
    const body = h("tbody");
    layout.stages.forEach((stage, row) => {
      const label = h(
        "th",
        { className: "tbs-rowlabel", attrs: { scope: "row" } },
        h("b", { text: stage.label }),
        h("div", { className: "tbs-col-sub", text: stage.detail }),
      );
      const cells: HTMLElement[] = [];
      if (showInput) cells.push(h("td", null, row === 0 ? board.inputTile(i, picture!, zoom) : null));
      for (const key of layout.keys) {
        const j = layout.cell(key, stage.stage);
        const m = data.maps[j];
        if (!m) {
          cells.push(h("td", { className: "tbs-muted tbs-small", text: "not logged" }));
          continue;
        }
        const at = { sample: i, column: j, group: j, index: i };
        cells.push(h("td", null, board.mapTile(at, m.name, new TilePainter(m.blocks[i], picture), picture, zoom, { evolution: false, metrics: true })));
      }
      body.appendChild(h("tr", { attrs: { "data-stage": stage.stage } }, label, ...cells));
    });
    const head = h("tr", null, h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "model" })), showInput ? h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: "input" })) : null, ...heads);
    const order = layout.order === "cascading" ? "cascading: each row re-initialises one more layer, from the output back" : layout.order === "independent" ? "independent: each row re-initialises one layer alone" : "";
    const caption = h("div", { className: "tbs-cascade-caption" }, `ρ: Spearman rank correlation of each map with the original model's${order ? ` (${order})` : ""}. Maps that stay alike once the weights are random (high ρ) fail the sanity check.`);
    return h("div", { className: "tbs-grid-wrap tbs-cascade-wrap" }, bar, board.canvas, h("table", { className: board.gridClasses(this.tableClass), attrs: { "data-sample": i } }, h("thead", null, head), body), caption);
  }

  refresh(data: StepData, shown: Shown): void {
    this.cascade = cascadeLayout(data.frame.maps, data.frame.randomisation);
    if (this.facts && shown.samples.length) this.facts.replaceChildren(...this.sampleFacts(data, shown.samples[0]));
  }

  groups(data: StepData): RangedGroup[] {
    return mapGroups(data);
  }

  /** The cell's Spearman ρ to the original model's map, or "original". */
  metricCells(data: StepData, tile: MapTile): HTMLElement[] {
    const m = data.maps[tile.column];
    const stage = m?.info.stage ?? "";
    if (!stage || !this.cascade) return [h("span", { className: "tbs-muted", text: "original" })];
    const rho = this.cascade.rho(m.info.key, stage, tile.sample);
    const meta = metricMeta("spearman");
    return [h("span", { className: "tbs-metric", attrs: { "data-metric": "spearman", role: "img", "aria-label": `${meta.full} ${rho === null ? "not logged" : String(rho)}` }, text: `ρ ${formatMetric(meta, rho)}` })];
  }

  metricLines(data: StepData, tile: MapTile): string[] {
    const m = data.maps[tile.column];
    if (!m || !this.cascade) return [];
    const lines = [`sample ${tile.sample} · ${tile.name}`];
    if (!m.info.stage) return [...lines, "the original model's map: each ρ below compares with it"];
    const r = data.frame.randomisation;
    return [...lines, ...describeMetric("spearman", this.cascade.rho(m.info.key, m.info.stage, tile.sample), { ...(r?.options ?? {}), order: r?.order })];
  }

  /** The figure's sample picker and the facts of the sample shown. */
  private sampleBar(data: StepData, shown: Shown): HTMLElement {
    const base = pickedSamples(data, this.host);
    const id = uid("cascade-sample");
    const select = h("select", {
      className: "tbs-cascade-sample",
      attrs: { id, "aria-label": "Sample of the randomisation figure" },
      on: { change: () => this.host.setCascadeSample(Number(select.value)) },
    });
    for (const k of base) select.appendChild(h("option", { attrs: { value: k }, text: `#${k}` }));
    if (shown.samples.length) select.value = String(shown.samples[0]);
    select.disabled = base.length < 2;
    this.facts = h("span", { className: "tbs-cascade-facts" }, ...(shown.samples.length ? this.sampleFacts(data, shown.samples[0]) : []));
    return h("div", { className: "tbs-cascade-bar" }, h("label", { attrs: { for: id }, text: "Sample" }), select, this.facts);
  }

  /** One sample's label, prediction and score as text pieces (class names from the logs as text). */
  private sampleFacts(data: StepData, i: number): (HTMLElement | string)[] {
    const sample = data.frame.samples[i] ?? {};
    const out: (HTMLElement | string)[] = [];
    for (const [name, value] of factPairs(sample, this.host.classNames(), ["label", "pred", "score"])) {
      if (out.length) out.push(" · ");
      out.push(`${name} `, h("span", { className: "tbs-v", text: value }));
    }
    if (isWrong(sample)) out.push(" ", h("span", { className: "tbs-wrongmark", text: "✗ wrong" }));
    return out;
  }
}
