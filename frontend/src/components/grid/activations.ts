// The layout of an activation step: a row per sample, its input, then its stored channels (most
// active first) as small tiles labelled with their index; one range group spans every channel.

import type { StepData } from "../../data/step_data";
import { h } from "../../dom";
import { TilePainter } from "../../render/pipeline";
import { formatValue } from "../../render/pixels";
import { pickedSamples, zoomOf, type FrameLayout, type GridHost, type RangedGroup, type Shown, type TileBoard } from "./board";
import { storageNote, storageText } from "./maps";

export class ActivationsLayout implements FrameLayout {
  readonly tableClass = " tbs-activations";
  readonly ownRanges = false;
  private el: HTMLElement | null = null;
  private board: TileBoard | null = null;

  constructor(private readonly host: GridHost) {}

  shown(data: StepData): Shown {
    return { samples: pickedSamples(data, this.host), note: null };
  }

  build(data: StepData, shown: Shown, board: TileBoard): HTMLElement {
    const act = data.activations!;
    const info = act.info;
    const k = info.channels;
    const head = board.columnHead([0]);
    const hasImages = data.images.some((x) => x !== null);
    const body = h("tbody");
    const zoom = zoomOf(this.host.settings());
    for (const i of shown.samples) {
      const picture = data.images[i] ?? null;
      const tiles = h("div", { className: "tbs-channels" });
      act.blocks[i].forEach((block, c) => {
        const index = info.channel_index[i]?.[c];
        // The one group holds every sample's channels in a row: sample i's channel c is block i·k + c.
        const at = { sample: i, column: c, group: 0, index: i * k + c };
        const tile = board.mapTile(at, `channel ${index}`, new TilePainter(block, null), null, zoom, { evolution: false, metrics: false });
        tile.classList.add("tbs-channel");
        tile.title = `channel ${index}, mean activation ${formatValue(info.channel_mean[i]?.[c] ?? NaN)}`;
        tile.appendChild(h("span", { className: "tbs-channel-index", text: `#${index}` }));
        tiles.appendChild(tile);
      });
      body.appendChild(board.sampleRow(data, i, hasImages ? h("td", { className: "tbs-input-cell" }, picture ? board.inputTile(i, picture, zoom) : null) : null, h("td", null, tiles)));
    }
    const columns = h(
      "th",
      { attrs: { scope: "col" }, title: storageNote(info.dtype) || undefined },
      h("span", { className: "tbs-col-key", text: `channels of ${info.layer || "layer"}` }),
      h("span", { className: "tbs-col-sub", text: [`${info.channels} of ${info.total_channels}, most active first`, storageText(info.dtype)].filter(Boolean).join(", ") }),
      head.box,
    );
    const headRow = h("tr", null, h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-sub", text: "sample" })), hasImages ? h("th", { attrs: { scope: "col" } }, h("span", { className: "tbs-col-key", text: "input" })) : null, columns);
    this.board = board;
    this.el = h("div", { className: "tbs-grid-wrap" }, board.canvas, h("table", { className: board.gridClasses(this.tableClass) }, h("thead", null, headRow), body), board.emptyNote(shown, data.numSamples));
    return this.el;
  }

  refresh(data: StepData): void {
    if (this.el && this.board) this.board.relabelRows(this.el, data);
  }

  groups(data: StepData): RangedGroup[] {
    return [{ group: data.activations!.group, key: "activations", stage: "" }];
  }
}
