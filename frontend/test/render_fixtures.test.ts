// The render golden fixtures (test/fixtures/render.json, written by `python -m tests.support.fixtures`
// with tb_saliency.render): the dashboard's own pipeline draws every case within one level per
// channel of Python's picture, so a notebook's render() and the tab agree. The colormap tables are
// generated from the file tb_saliency.render reads; they must not drift apart either.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import COLORMAPS_JSON from "../../tb_saliency/proto/colormaps.json";
import { Block, BlockGroup } from "../src/data/block";
import { COLORMAPS, DIVERGING_COLORMAPS, SEQUENTIAL_COLORMAPS, type ColormapName } from "../src/render/colormaps";
import { COLORMAP_TABLES } from "../src/render/colormap_data";
import type { ClipMode, Scope, SignMode } from "../src/render/normalise";
import { groupRanges, TilePainter } from "../src/render/pipeline";
import { composite, type Upsampling, type View } from "../src/render/pixels";
import { CLIPS, SCOPES, SIGNS, UPSAMPLINGS, VIEWS } from "../src/settings";

interface Options {
  view: View;
  colormap: ColormapName;
  opacity: number;
  sign: SignMode;
  clipping: ClipMode;
  percentile: number;
  mass_percent: number;
  normalise: Scope;
  upsampling: Upsampling;
}

interface Fixture {
  images: Record<string, { shape: number[]; pixels: string }>;
  maps: Record<string, { shape: number[]; stored: number[]; scale: number[]; tag_steps: number[][] }>;
  cases: { name: string; images: string | null; maps: string; options: Options; shape: number[]; expected: string }[];
}

const FIXTURE: Fixture = JSON.parse(fs.readFileSync(path.resolve("test/fixtures/render.json"), "utf8"));

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/** One case drawn as the tab draws it: ranges from the group, each tile's layer from its painter,
 * composited over its input by the views' formulas. Returns the pixels in render()'s order. */
function draw(c: Fixture["cases"][number]): Uint8Array {
  const o = c.options;
  const m = FIXTURE.maps[c.maps];
  const [h, w] = m.shape.slice(-2);
  const blocks = m.scale.map((unit, i) => new Block(Float32Array.from(m.stored.slice(i * h * w, (i + 1) * h * w)), unit, h, w));
  const perSample = m.shape.length === 4 ? m.shape[1] : 1;
  const tagExtrema = {
    mins: m.tag_steps.map((s) => Math.min(...s)),
    maxs: m.tag_steps.map((s) => Math.max(...s)),
  };
  const ranges = groupRanges(
    new BlockGroup(blocks),
    { sign: o.sign, clip: { mode: o.clipping, percentile: o.percentile, massPercent: o.mass_percent }, scope: o.normalise },
    o.normalise === "tag" ? tagExtrema : null,
  );
  const image = c.images === null ? null : FIXTURE.images[c.images];
  const out: number[] = [];
  blocks.forEach((block, i) => {
    const input = image ? { height: image.shape[1], width: image.shape[2] } : null;
    const painter = new TilePainter(block, input);
    const layer = new Uint32Array(painter.width * painter.height);
    painter.paint(layer, ranges[i], { view: o.view, colormap: o.colormap, sign: o.sign, upsampling: o.upsampling });
    const layerBytes = new Uint8Array(layer.buffer);
    const pixels = image ? bytes(image.pixels) : null;
    const channels = image ? image.shape[3] : 0;
    const sample = Math.floor(i / perSample);
    for (let y = 0; y < painter.height; y++) {
      const inputRow: number[] = [];
      const layerRow: number[] = [];
      for (let x = 0; x < painter.width; x++) {
        const p = y * painter.width + x;
        const lay = Array.from(layerBytes.slice(4 * p, 4 * p + 3));
        layerRow.push(...lay);
        if (!pixels) continue;
        const at = ((sample * painter.height + y) * painter.width + x) * channels;
        const rgb = channels === 1 ? [pixels[at], pixels[at], pixels[at]] : Array.from(pixels.slice(at, at + 3));
        inputRow.push(...rgb);
        if (o.view === "overlay" || o.view === "masked") out.push(...composite(rgb, lay, o.view, o.opacity));
      }
      if (!pixels || o.view === "heatmap") out.push(...layerRow);
      else if (o.view === "side") out.push(...inputRow, ...layerRow);
    }
  });
  return Uint8Array.from(out);
}

test("the colormap tables are generated from the file tb_saliency.render reads", () => {
  const spec = COLORMAPS_JSON as { sequential: string[]; diverging: string[]; tables: Record<string, string> };
  assert.deepEqual(spec.sequential, [...SEQUENTIAL_COLORMAPS]);
  assert.deepEqual(spec.diverging, [...DIVERGING_COLORMAPS]);
  assert.deepEqual(COLORMAP_TABLES, spec.tables, "run: python frontend/scripts/gen_colormaps.py");
});

test("the render fixtures take every value of every sidebar option", () => {
  const seen = (key: keyof Options) => new Set(FIXTURE.cases.map((c) => c.options[key]));
  assert.deepEqual(seen("view"), new Set(VIEWS));
  assert.deepEqual(seen("colormap"), new Set(COLORMAPS));
  assert.deepEqual(seen("sign"), new Set(SIGNS));
  assert.deepEqual(seen("clipping"), new Set(CLIPS));
  assert.deepEqual(seen("normalise"), new Set(SCOPES));
  assert.deepEqual(seen("upsampling"), new Set(UPSAMPLINGS));
  assert.ok(new Set(FIXTURE.cases.map((c) => c.images)).size >= 3, "colour, grey and no images");
});

for (const c of FIXTURE.cases) {
  test(`render fixture ${c.name}: the dashboard draws Python's picture within one level`, () => {
    const expected = bytes(c.expected);
    const got = draw(c);
    assert.equal(got.length, expected.length, `size: ${got.length} bytes, expected ${c.shape.join("×")}`);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
    assert.ok(worst <= 1, `largest difference ${worst} levels`);
  });
}
