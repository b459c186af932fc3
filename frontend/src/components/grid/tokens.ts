// The layout of a text step: each sample a line of text per method (the methods stacked), each token
// an element whose background is its value's colour. Special and padding tokens are dimmed and left
// out of the colour range (data/sequences.ts); sub-word pieces merge into words with their scores
// summed when the sidebar asks (model/tokens.ts). Token strings are untrusted: they enter the page
// as text only (textContent), each token isolated for the bidirectional algorithm inside a line whose
// direction comes from its text (dir="auto"), so Hebrew, Arabic and CJK read as written.

import { Block, BlockGroup } from "../../data/block";
import { isDimmed } from "../../data/sequences";
import type { StepData } from "../../data/step_data";
import { h } from "../../dom";
import { mergeWords, singleTokens, textColourOn, wordValues, type Word } from "../../model/tokens";
import type { DisplayRange } from "../../render/normalise";
import { formatValue } from "../../render/pixels";
import type { FrameLayout, GridHost, RangedGroup, Shown, TileBoard } from "./board";
import { SequenceRows, valueColour } from "./sequence_rows";

interface DrawnWord {
  el: HTMLElement;
  /** The unit's place in its sample's words (a new step of the same tokens has the same words). */
  index: number;
  word: Word;
  sample: number;
  column: number;
}

export class TokensLayout implements FrameLayout {
  readonly tableClass = " tbs-tokens";
  readonly ownRanges = false;
  private readonly rows: SequenceRows;
  private data: StepData | null = null;
  /** Per sample, the units drawn: tokens, or words when merged. */
  private words: Word[][] = [];
  private drawn: DrawnWord[] = [];
  private ranges: DisplayRange[][] = [];
  /** Merged words' summed values, per column, sample and word, with the groups their ranges come from. */
  private merged: { values: Float64Array[][]; groups: RangedGroup[] } | null = null;

  constructor(private readonly host: GridHost) {
    this.rows = new SequenceRows(host);
  }

  shown(data: StepData): Shown {
    return this.rows.shown(data);
  }

  build(data: StepData, shown: Shown, board: TileBoard): HTMLElement {
    this.setData(data);
    return this.rows.build(data, shown, board, this.tableClass, (i, j) => {
      const text = h("div", { className: "tbs-text", attrs: { dir: "auto" } });
      this.words[i].forEach((word, index) => {
        const el = h("span", {
          className: `tbs-tok${word.dimmed ? " tbs-tok-dim" : ""}`,
          attrs: { "data-token": word.start, "data-last": word.end > word.start ? word.end : null },
          text: word.text,
        });
        this.drawn.push({ el, index, word, sample: i, column: j });
        text.append(el, " ");
      });
      return text;
    });
  }

  private setData(data: StepData): void {
    this.data = data;
    const t = data.tokens!;
    const merge = this.host.settings().mergeWords;
    this.words = t.tokens.map((tokens, i) => {
      const dimmed = tokens.map((_, k) => isDimmed(t, i, k));
      return merge ? mergeWords(tokens, dimmed) : singleTokens(tokens, dimmed);
    });
    this.merged = merge ? this.mergedValues(data) : null;
  }

  /** Each column's word sums, and the blocks of the undimmed sums that its range comes from. */
  private mergedValues(data: StepData): { values: Float64Array[][]; groups: RangedGroup[] } {
    const values = data.maps.map((m) => this.words.map((words, i) => wordValues(words, (k) => m.blocks[i].raw(k, 0))));
    const groups = data.maps.map((m, j) => {
      const blocks = this.words.map((words, i) => {
        const kept = words.map((w, w2) => (w.dimmed ? null : values[j][i][w2])).filter((v): v is number => v !== null);
        const all = kept.length ? kept : Array.from(values[j][i]);
        let peak = 0;
        for (const v of all) peak = Math.max(peak, Math.abs(v));
        const unit = peak > 0 ? peak : 1;
        return new Block(Float32Array.from(all, (v) => v / unit), unit, 1, Math.max(1, all.length));
      });
      return { group: new BlockGroup(blocks), key: `${m.info.key} (words)`, stage: m.info.stage ?? "" };
    });
    return { values, groups };
  }

  refresh(data: StepData): void {
    this.setData(data);
    this.rows.refresh(data);
  }

  groups(data: StepData): RangedGroup[] {
    return this.merged ? this.merged.groups : this.rows.groups(data);
  }

  /** The raw value of a drawn unit: a token's, or the sum of a word's tokens. */
  private valueOf(d: DrawnWord): number {
    if (this.merged) return this.merged.values[d.column][d.sample][d.index];
    return this.data!.maps[d.column].blocks[d.sample].raw(d.word.start, 0);
  }

  paintInputs(ranges: DisplayRange[][]): void {
    this.ranges = ranges;
    const s = this.host.settings();
    for (const d of this.drawn) {
      const range = ranges[d.column]?.[d.sample];
      if (!range) continue;
      const c = valueColour(this.valueOf(d), range, s);
      // The overlay view lays the colour at the sidebar's opacity; the masked view fades the words
      // the map does not point at; the heatmap and side-by-side views show the colour as it is.
      const alpha = s.view === "overlay" ? Math.max(0.15, s.opacity / 100) : 1;
      const masked = s.view === "masked";
      const background = masked ? "transparent" : `rgba(${c.r}, ${c.g}, ${c.b}, ${alpha})`;
      if (d.el.style.background !== background) d.el.style.background = background;
      d.el.style.color = masked || alpha < 0.5 ? "" : textColourOn(c.r, c.g, c.b);
      d.el.style.opacity = masked && !d.word.dimmed ? String(0.15 + 0.85 * c.weight) : "";
    }
  }

  hover(e: MouseEvent): boolean {
    return this.rows.hover(e, this.data, this.ranges, (data, target) => {
      const el = target.closest?.(".tbs-tok") as HTMLElement | null;
      const d = el ? this.drawn.find((x) => x.el === el) : undefined;
      if (!d) return null;
      const t = data.tokens!;
      const pieces = t.tokens[d.sample].slice(d.word.start, d.word.end + 1);
      const what = d.word.end > d.word.start ? `word ${JSON.stringify(d.word.text)} (tokens ${d.word.start}–${d.word.end}: ${pieces.map((p) => JSON.stringify(p)).join(" ")})` : `token ${d.word.start} ${JSON.stringify(pieces[0])}`;
      const lines = [`sample ${d.sample} · ${data.maps[d.column].name}`, what, `${d.word.end > d.word.start ? "sum " : ""}value ${formatValue(this.valueOf(d))}`];
      if (t.special[d.sample]?.[d.word.start]) lines.push("special token: left out of the colour range");
      else if (t.padding[d.sample]?.[d.word.start]) lines.push("padding: left out of the colour range");
      return { sample: d.sample, column: d.column, lines };
    });
  }
}