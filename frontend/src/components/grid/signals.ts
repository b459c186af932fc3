// The layout of a signal step (audio, sensor series): per sample and method, the series drawn on a
// canvas with the attribution as a coloured band beneath it (each channel a line, the band one
// colour per time step under the display settings). Dragging across a line zooms every line of the
// sample to that span; a double click shows the whole series again. With a sample rate, each sample
// gets an <audio> player of the WAV file the plugin's /audio route builds from its stored values.

import { audioUrl } from "../../api";
import type { StepData } from "../../data/step_data";
import { h } from "../../dom";
import type { DisplayRange } from "../../render/normalise";
import { formatValue } from "../../render/pixels";
import type { FrameLayout, GridHost, RangedGroup, Shown, TileBoard } from "./board";
import { SequenceRows, valueColour } from "./sequence_rows";

const WAVE_HEIGHT = 72;
const BAND_HEIGHT = 18;

interface Plot {
  canvas: HTMLCanvasElement;
  sample: number;
  column: number;
}

export class SignalsLayout implements FrameLayout {
  readonly tableClass = " tbs-signals";
  readonly ownRanges = false;
  private readonly rows: SequenceRows;
  private data: StepData | null = null;
  private plots: Plot[] = [];
  private ranges: DisplayRange[][] = [];
  /** Per sample, the span of time steps shown [from, to), when zoomed. */
  private readonly zoom = new Map<number, [number, number]>();
  private drag: { plot: Plot; x0: number; x1: number } | null = null;

  constructor(private readonly host: GridHost) {
    this.rows = new SequenceRows(host);
  }

  shown(data: StepData): Shown {
    return this.rows.shown(data);
  }

  build(data: StepData, shown: Shown, board: TileBoard): HTMLElement {
    this.data = data;
    const rate = data.signals!.info.sample_rate;
    return this.rows.build(data, shown, board, this.tableClass, (i, j) => {
      const canvas = h("canvas", {
        className: "tbs-signal-plot",
        attrs: { "data-sample": i, "data-column": j, role: "img", "aria-label": `Sample ${i}, ${data.maps[j].name}: the series with its attribution beneath` },
        title: "Drag to zoom; double-click to show the whole series",
      });
      const plot = { canvas, sample: i, column: j };
      this.plots.push(plot);
      canvas.addEventListener("mousedown", (e) => this.startDrag(plot, e));
      canvas.addEventListener("dblclick", () => this.setZoom(i, null));
      const audio = j === 0 && rate ? this.audio(data, i) : null;
      return h("div", { className: "tbs-signal" }, canvas, audio);
    });
  }

  /** An <audio> player of sample `i` (every channel, at the step's sample rate). */
  private audio(data: StepData, i: number): HTMLElement {
    const f = data.frame;
    const src = audioUrl(f.run, f.tag, f.step, i, f.wall_time);
    return h("audio", { className: "tbs-audio", attrs: { controls: true, preload: "none", src, "aria-label": `Play sample ${i}` } });
  }

  refresh(data: StepData): void {
    this.data = data;
    this.rows.refresh(data);
  }

  groups(data: StepData): RangedGroup[] {
    return this.rows.groups(data);
  }

  private span(sample: number): [number, number] {
    return this.zoom.get(sample) ?? [0, this.data!.signals!.info.length];
  }

  private setZoom(sample: number, span: [number, number] | null): void {
    if (span) this.zoom.set(sample, span);
    else this.zoom.delete(sample);
    for (const p of this.plots) if (p.sample === sample) this.draw(p);
  }

  private startDrag(plot: Plot, e: MouseEvent): void {
    e.preventDefault();
    const x = e.offsetX;
    this.drag = { plot, x0: x, x1: x };
    const move = (m: MouseEvent) => {
      if (!this.drag) return;
      this.drag.x1 = m.clientX - plot.canvas.getBoundingClientRect().left;
      this.draw(plot);
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      const d = this.drag;
      this.drag = null;
      if (!d) return;
      const width = plot.canvas.clientWidth || 1;
      const [a, b] = this.span(plot.sample);
      const lo = Math.min(d.x0, d.x1) / width;
      const hi = Math.max(d.x0, d.x1) / width;
      const from = Math.max(a, Math.floor(a + lo * (b - a)));
      const to = Math.min(b, Math.ceil(a + hi * (b - a)));
      if (to - from >= 2 && hi - lo > 0.01) this.setZoom(plot.sample, [from, to]);
      else this.draw(plot);
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  }

  paintInputs(ranges: DisplayRange[][]): void {
    this.ranges = ranges;
    for (const p of this.plots) this.draw(p);
  }

  /** Draws one line: the channels of its sample over the span shown, and the band beneath. */
  private draw(p: Plot): void {
    const data = this.data;
    const range = this.ranges[p.column]?.[p.sample];
    if (!data || !range) return;
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    const cssWidth = p.canvas.clientWidth || 480;
    const w = Math.max(1, Math.round(cssWidth * dpr));
    const hh = Math.round((WAVE_HEIGHT + BAND_HEIGHT) * dpr);
    if (p.canvas.width !== w) p.canvas.width = w;
    if (p.canvas.height !== hh) p.canvas.height = hh;
    const ctx = p.canvas.getContext("2d");
    if (!ctx) return;
    const s = this.host.settings();
    const [a, b] = this.span(p.sample);
    const n = b - a;
    const channels = data.signals!.channels[p.sample];
    let peak = 0;
    for (const ch of channels) for (let k = a; k < b; k++) peak = Math.max(peak, Math.abs(ch[k]));
    ctx.clearRect(0, 0, w, hh);
    const waveH = WAVE_HEIGHT * dpr;
    const style = getComputedStyle(p.canvas);
    ctx.strokeStyle = style.color || "#444";
    ctx.lineWidth = dpr;
    channels.forEach((ch, c) => {
      ctx.globalAlpha = channels.length > 1 ? Math.max(0.35, 1 - c * 0.3) : 1;
      ctx.beginPath();
      // Each pixel column draws the span of values that falls in it, so a long series keeps its envelope.
      for (let x = 0; x < w; x++) {
        const k0 = a + Math.floor((x * n) / w);
        const k1 = Math.max(k0 + 1, a + Math.floor(((x + 1) * n) / w));
        let lo = Infinity;
        let hi = -Infinity;
        for (let k = k0; k < Math.min(k1, b); k++) {
          lo = Math.min(lo, ch[k]);
          hi = Math.max(hi, ch[k]);
        }
        const y = (v: number) => waveH / 2 - (peak > 0 ? v / peak : 0) * (waveH / 2 - dpr);
        if (x === 0) ctx.moveTo(x, y(hi));
        ctx.lineTo(x, y(hi));
        ctx.lineTo(x, y(lo));
      }
      ctx.stroke();
    });
    ctx.globalAlpha = 1;
    const block = data.maps[p.column].blocks[p.sample];
    for (let x = 0; x < w; x++) {
      const k = Math.min(b - 1, a + Math.floor(((x + 0.5) * n) / w));
      const c = valueColour(block.raw(k, 0), range, s);
      ctx.fillStyle = `rgb(${c.r}, ${c.g}, ${c.b})`;
      ctx.fillRect(x, waveH, 1, hh - waveH);
    }
    if (this.drag && this.drag.plot === p) {
      ctx.fillStyle = "rgba(245, 124, 0, 0.25)";
      const x0 = Math.min(this.drag.x0, this.drag.x1) * dpr;
      ctx.fillRect(x0, 0, Math.abs(this.drag.x1 - this.drag.x0) * dpr, hh);
    }
  }

  hover(e: MouseEvent): boolean {
    return this.rows.hover(e, this.data, this.ranges, (data, target) => {
      const p = this.plots.find((x) => x.canvas === target);
      if (!p) return null;
      const [a, b] = this.span(p.sample);
      const fx = e.offsetX / Math.max(1, p.canvas.clientWidth);
      const k = Math.min(b - 1, Math.max(a, a + Math.floor(fx * (b - a))));
      const rate = data.signals!.info.sample_rate;
      const lines = [`sample ${p.sample} · ${data.maps[p.column].name}`, `time step ${k}${rate ? ` · ${formatValue(k / rate)} s` : ""}`];
      data.signals!.channels[p.sample].forEach((ch, c) => lines.push(`channel ${c}: ${formatValue(ch[k])}`));
      lines.push(`value ${formatValue(data.maps[p.column].blocks[p.sample].raw(k, 0))}`);
      return { sample: p.sample, column: p.column, lines };
    });
  }
}