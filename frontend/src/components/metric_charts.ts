// A card's charts of its metrics over steps: one small chart per metric, one line per map key (method)
// in that method's colour, from the step list's index (the mean over samples at each step: no frame
// is read). The step on screen is marked; a click on a chart moves the card to the nearest step.
// Randomisation tags chart the Spearman ρ of one stage (the last, every layer random, unless chosen).

import type { StepEntry } from "../api";
import { h, replaceChildren, uid } from "../dom";
import { integerTicks, niceDomain, niceTicks, stepDomain } from "../model/chart";
import { directionText, metricMeta, metricsOverSteps, type MetricOverSteps } from "../model/metrics";
import { distinctSlots } from "../model/run_colors";
import { legend, LineChart } from "./chart";
import type { Tooltip } from "./tooltip";

export interface MetricChartsHost {
  tooltip: Tooltip;
  /** The palette index of a map key (the same key has the same colour in every card). */
  seriesColor(key: string): number;
  /** The user clicked the chart near stored step `index`. */
  pickStep(index: number): void;
}

export class MetricCharts {
  readonly el: HTMLElement;
  private charts: LineChart[] = [];
  private signature = "";
  /** The randomisation stage charted (null: the last). */
  private stage: string | null = null;
  private marked: number | null = null;

  constructor(
    private readonly host: MetricChartsHost,
    label: string,
  ) {
    this.el = h("section", { className: "tbs-charts", attrs: { "aria-label": `Metrics over steps of ${label}` } });
    this.el.hidden = true;
  }

  /** Shows the metrics of `steps` (rebuilt only when they changed) and marks step `current`. */
  update(steps: readonly StepEntry[], current: number | null): void {
    const series = metricsOverSteps(steps);
    if (!series.length) {
      this.clear();
      return;
    }
    const signature = JSON.stringify([series.map((s) => [s.metric, [...s.lines.entries()].map(([k, v]) => [k, v.map((l) => [l.key, l.points])])]), this.stage]);
    if (signature !== this.signature) {
      this.signature = signature;
      this.build(series, steps);
    }
    this.mark(current);
  }

  /** Marks the step on screen on every chart. */
  mark(step: number | null): void {
    this.marked = step;
    for (const c of this.charts) c.setMarker(step);
  }

  /** Drops the charts (a released card, or charts switched off). */
  clear(): void {
    for (const c of this.charts) c.dispose();
    this.charts = [];
    this.signature = "";
    replaceChildren(this.el);
    this.el.hidden = true;
  }

  private build(series: MetricOverSteps[], steps: readonly StepEntry[]): void {
    const stages = [...new Set(series.flatMap((s) => s.stages))].filter((s) => s !== "");
    if (this.stage !== null && !stages.includes(this.stage)) this.stage = null;
    const stage = stages.length ? (this.stage ?? stages[stages.length - 1]) : "";
    // The first entry of a repeated step: the frame /frame serves for it, and the point drawn.
    const indexOf = new Map<number, number>();
    steps.forEach((s, i) => {
      if (!indexOf.has(s.step)) indexOf.set(s.step, i);
    });
    const keys: string[] = [];
    for (const s of series) for (const l of s.lines.get(stage) ?? s.lines.get("") ?? []) if (!keys.includes(l.key)) keys.push(l.key);
    const colors = distinctSlots(keys, (key) => this.host.seriesColor(key));
    const charts: HTMLElement[] = [];
    for (const c of this.charts) c.dispose();
    this.charts = [];
    for (const s of series) {
      const lines = s.lines.get(stage) ?? s.lines.get("") ?? [];
      if (!lines.length) continue;
      const meta = metricMeta(s.metric);
      let lo = Infinity;
      let hi = -Infinity;
      const xs: number[] = [];
      for (const l of lines)
        for (const p of l.points) {
          lo = Math.min(lo, p.y);
          hi = Math.max(hi, p.y);
          xs.push(p.x);
        }
      const yDomain = niceDomain(lo, hi, meta.bounds);
      const xDomain = stepDomain(xs);
      const title = stage && s.metric === "spearman" ? `${meta.full}, ${stage} re-initialised` : meta.full;
      const chart = new LineChart({
        ariaLabel: `${title}, mean over samples, over ${new Set(xs).size} steps; ${lines.map((l) => `${l.key} ${l.points[l.points.length - 1].y.toPrecision(3)} at step ${l.points[l.points.length - 1].x}`).join(", ")}`,
        xLabel: "step",
        yLabel: meta.axis,
        series: lines.map((l) => ({ key: l.key, label: l.key, color: colors.get(l.key)!, points: l.points })),
        xDomain,
        yDomain,
        xTicks: integerTicks(xDomain[0], xDomain[1], 4),
        yTicks: niceTicks(yDomain[0], yDomain[1], 4),
        formatX: (x) => `step ${x}`,
        formatY: (y) => (meta.hit ? `${(y * 100).toFixed(0)} % hits` : Number(y.toPrecision(4)).toString()),
        tooltip: this.host.tooltip,
        onPick: (x) => {
          const i = indexOf.get(x);
          if (i !== undefined) this.host.pickStep(i);
        },
        pickHint: "click: show this step",
        pointAttr: "step",
      });
      this.charts.push(chart);
      charts.push(
        h(
          "figure",
          { className: "tbs-chart-box", attrs: { "data-metric": s.metric } },
          h("figcaption", { className: "tbs-chart-title" }, h("span", { text: title }), h("span", { className: "tbs-muted", text: ` · ${directionText(meta.direction)}` })),
          chart.el,
        ),
      );
    }
    const head: (HTMLElement | string)[] = [h("span", { className: "tbs-charts-title", text: "Metrics over steps" }), h("span", { className: "tbs-muted", text: " mean over samples; click a point to show its step" })];
    let picker: HTMLElement | null = null;
    if (stages.length) {
      const id = uid("stage");
      const select = h("select", {
        className: "tbs-stage-select",
        attrs: { id },
        on: {
          change: () => {
            this.stage = select.value;
            this.signature = "";
            this.update(steps, this.marked);
          },
        },
      });
      for (const st of stages) select.appendChild(h("option", { attrs: { value: st }, text: st }));
      select.value = stage;
      picker = h("span", { className: "tbs-field tbs-inline" }, h("label", { attrs: { for: id }, text: "Stage" }), select);
    }
    replaceChildren(
      this.el,
      h("div", { className: "tbs-charts-head" }, ...head, h("span", { className: "tbs-spacer" }), picker),
      h("div", { className: "tbs-chart-row" }, ...charts),
      legend(keys.map((key) => ({ key, label: key, color: colors.get(key)! }))),
    );
    this.el.hidden = charts.length === 0;
  }
}
