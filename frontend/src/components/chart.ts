// A small SVG line chart in TensorBoard's manner: lines with points, light grid lines, tick labels,
// axis titles, and on hover a guide at the nearest x with every series' value there (the dashboard's
// read-out). A click picks the nearest x. Colours come from CSS classes (tbs-s0 … tbs-s9), so the
// light and dark themes each have their own palette and a theme change redraws nothing. Labels
// from the logs are text nodes.

import { h, svg } from "../dom";
import { nearestIndex, Scale, tickText } from "../model/chart";
import { SERIES_SLOTS } from "../model/run_colors";
import type { Tooltip } from "./tooltip";

/** The CSS class of a series colour (tbs-s0 … tbs-s9), any integer wrapped into the palette. */
function seriesClass(color: number): string {
  return `tbs-s${((color % SERIES_SLOTS) + SERIES_SLOTS) % SERIES_SLOTS}`;
}

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  /** Written on the line and its points as data-key (for tests and styling). */
  key: string;
  /** Shown in the read-out. */
  label: string;
  /** Index into the palette. */
  color: number;
  points: ChartPoint[];
  /** Drawn thicker (the map chosen in the enlarged view). */
  emphasis?: boolean;
}

export interface ChartSpec {
  /** What the chart shows, for screen readers. */
  ariaLabel: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  xDomain: [number, number];
  yDomain: [number, number];
  xTicks: number[];
  yTicks: number[];
  /** The read-out's first line for an x ("step 120", "40 % of pixels"). */
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  tooltip: Tooltip;
  /** Called with the nearest x on a click; the chart is then clickable. */
  onPick?: (x: number) => void;
  /** A last line of the read-out saying what a click does. */
  pickHint?: string;
  /** Attribute name for each point's x (data-step on charts over steps). */
  pointAttr?: string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 50, right: 10, top: 8, bottom: 30 };
/** Above this many points in all, lines are drawn without their points (a single point always shows). */
const MAX_POINTS = 400;

export class LineChart {
  readonly el: SVGSVGElement;
  private readonly x: Scale;
  private readonly y: Scale;
  private readonly xs: number[];
  private readonly marker: SVGLineElement;
  private readonly guide: SVGLineElement;
  private readonly hoverDots: SVGGElement;

  constructor(private readonly spec: ChartSpec) {
    const W = spec.width ?? 280;
    const H = spec.height ?? 150;
    const left = MARGIN.left;
    const right = W - MARGIN.right;
    const top = MARGIN.top;
    const bottom = H - MARGIN.bottom;
    this.x = new Scale(spec.xDomain[0], spec.xDomain[1], left, right);
    this.y = new Scale(spec.yDomain[0], spec.yDomain[1], bottom, top);
    const xs = new Set<number>();
    for (const s of spec.series) for (const p of s.points) xs.add(p.x);
    this.xs = [...xs].sort((a, b) => a - b);

    const grid = svg("g", { class: "tbs-gridlines" });
    const ticks = svg("g", { class: "tbs-ticks" });
    for (const t of spec.yTicks) {
      const py = round(this.y.map(t));
      grid.appendChild(svg("line", { x1: left, x2: right, y1: py, y2: py }));
      ticks.appendChild(svg("text", { x: left - 4, y: py, "text-anchor": "end", "dominant-baseline": "middle" }, tickText(t, spec.yTicks)));
    }
    for (const t of spec.xTicks) {
      const px = round(this.x.map(t));
      grid.appendChild(svg("line", { x1: px, x2: px, y1: top, y2: bottom }));
      ticks.appendChild(svg("text", { x: px, y: bottom + 12, "text-anchor": "middle" }, tickText(t, spec.xTicks)));
    }
    const axes = svg("path", { class: "tbs-axis", d: `M${left} ${top}V${bottom}H${right}` });
    const labels = svg(
      "g",
      { class: "tbs-axis-label" },
      svg("text", { x: (left + right) / 2, y: H - 3, "text-anchor": "middle" }, spec.xLabel),
      svg("text", { x: 0, y: 0, "text-anchor": "middle", transform: `translate(10 ${(top + bottom) / 2}) rotate(-90)` }, spec.yLabel),
    );
    const total = spec.series.reduce((n, s) => n + s.points.length, 0);
    const lines = svg("g", { class: "tbs-lines" });
    // The emphasised series last, so that it lies on top.
    const ordered = [...spec.series].sort((a, b) => Number(!!a.emphasis) - Number(!!b.emphasis));
    for (const s of ordered) {
      const cls = `${seriesClass(s.color)}${s.emphasis ? " tbs-emphasis" : ""}`;
      const g = svg("g", { class: `tbs-series ${cls}`, "data-key": s.key });
      if (s.points.length > 1) {
        const d = s.points.map((p, i) => `${i ? "L" : "M"}${round(this.x.map(p.x))} ${round(this.y.map(p.y))}`).join("");
        g.appendChild(svg("path", { class: "tbs-line", d }));
      }
      if (total <= MAX_POINTS || s.points.length === 1) {
        for (const p of s.points) {
          const attrs: Record<string, string | number> = { class: "tbs-pt", cx: round(this.x.map(p.x)), cy: round(this.y.map(p.y)), r: s.emphasis ? 3 : 2.5 };
          if (spec.pointAttr) attrs[`data-${spec.pointAttr}`] = p.x;
          g.appendChild(svg("circle", attrs));
        }
      }
      lines.appendChild(g);
    }
    this.marker = svg("line", { class: "tbs-marker", y1: top, y2: bottom, visibility: "hidden" });
    this.guide = svg("line", { class: "tbs-guide", y1: top, y2: bottom, visibility: "hidden" });
    this.hoverDots = svg("g", { class: "tbs-hover-dots" });
    const hit = svg("rect", { class: "tbs-hit", x: left - 6, y: top, width: right - left + 12, height: bottom - top, fill: "transparent" });
    this.el = svg(
      "svg",
      {
        class: `tbs-chart${spec.onPick ? " tbs-pickable" : ""}`,
        width: W,
        height: H,
        viewBox: `0 0 ${W} ${H}`,
        role: "img",
        "aria-label": spec.ariaLabel,
      },
      grid,
      axes,
      ticks,
      labels,
      // Under the lines: a point takes the pointer itself (the events reach the chart either way).
      hit,
      this.marker,
      lines,
      this.guide,
      this.hoverDots,
    );
    this.el.addEventListener("mousemove", (e) => this.onHover(e));
    this.el.addEventListener("mouseleave", () => this.endHover());
    if (spec.onPick) {
      this.el.addEventListener("click", (e) => {
        const x = this.nearestX(e);
        if (x !== null) spec.onPick!(x);
      });
    }
  }

  /** Marks x (the step on screen) with a vertical line; null hides it. */
  setMarker(x: number | null): void {
    if (x === null || !Number.isFinite(x) || x < this.spec.xDomain[0] || x > this.spec.xDomain[1]) {
      this.marker.setAttribute("visibility", "hidden");
      return;
    }
    const px = String(round(this.x.map(x)));
    this.marker.setAttribute("x1", px);
    this.marker.setAttribute("x2", px);
    this.marker.setAttribute("visibility", "visible");
  }

  private nearestX(e: MouseEvent): number | null {
    if (!this.xs.length) return null;
    const r = this.el.getBoundingClientRect();
    const W = this.spec.width ?? 280;
    const px = ((e.clientX - r.left) * W) / Math.max(1, r.width);
    return this.xs[nearestIndex(this.xs, this.x.invert(px))];
  }

  private onHover(e: MouseEvent): void {
    const x = this.nearestX(e);
    if (x === null) return this.endHover();
    const px = String(round(this.x.map(x)));
    this.guide.setAttribute("x1", px);
    this.guide.setAttribute("x2", px);
    this.guide.setAttribute("visibility", "visible");
    const lines = [this.spec.formatX(x)];
    const dots: SVGElement[] = [];
    for (const s of this.spec.series) {
      const p = s.points.find((q) => q.x === x);
      if (!p) continue;
      lines.push(`${s.label}: ${this.spec.formatY(p.y)}`);
      dots.push(svg("circle", { class: seriesClass(s.color), cx: round(this.x.map(p.x)), cy: round(this.y.map(p.y)), r: 4 }));
    }
    if (this.spec.pickHint) lines.push(this.spec.pickHint);
    this.hoverDots.replaceChildren(...dots);
    this.spec.tooltip.show(lines, e.clientX, e.clientY);
  }

  /** Before the chart leaves the page: its read-out goes with it (no mouseleave comes for a removed element). */
  dispose(): void {
    if (this.el.matches(":hover")) this.endHover();
  }

  private endHover(): void {
    this.guide.setAttribute("visibility", "hidden");
    this.hoverDots.replaceChildren();
    this.spec.tooltip.hide();
  }
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** A legend: a swatch and a label per series (labels as text). */
export function legend(items: { key: string; label: string; color: number; emphasis?: boolean }[]): HTMLElement {
  return h(
    "ul",
    { className: "tbs-legend", attrs: { "aria-label": "Legend" } },
    ...items.map((it) =>
      h(
        "li",
        { className: it.emphasis ? "tbs-emphasis" : "", attrs: { "data-key": it.key } },
        h("span", { className: `tbs-legend-swatch ${seriesClass(it.color)}`, attrs: { "aria-hidden": "true" } }),
        h("span", { className: "tbs-legend-label", text: it.label }),
      ),
    ),
  );
}
