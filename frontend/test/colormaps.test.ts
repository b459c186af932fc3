import assert from "node:assert/strict";
import { test } from "node:test";
import { COLORMAPS, colormapTable, isDiverging, lutIndex, type ColormapName } from "../src/render/colormaps";

/** The colour the renderer draws for position t, through the same index function it uses. */
function colorAt(name: ColormapName, t: number): number[] {
  const j = 3 * lutIndex(t);
  return Array.from(colormapTable(name).slice(j, j + 3));
}

test("every colormap has 256 colours", () => {
  for (const name of COLORMAPS) assert.equal(colormapTable(name).length, 256 * 3, name);
});

test("colormap endpoints match matplotlib", () => {
  assert.deepEqual(colorAt("viridis", 0), [0x44, 0x01, 0x54]);
  assert.deepEqual(colorAt("viridis", 1), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(colorAt("inferno", 0), [0x00, 0x00, 0x04]);
  assert.deepEqual(colorAt("magma", 1), [0xfc, 0xfd, 0xbf]);
  assert.deepEqual(colorAt("turbo", 0), [0x30, 0x12, 0x3b]);
  assert.deepEqual(colorAt("jet", 0), [0x00, 0x00, 0x80]);
  assert.deepEqual(colorAt("gray", 0), [0, 0, 0]);
  assert.deepEqual(colorAt("gray", 1), [255, 255, 255]);
  // Diverging maps: red to blue (RdBu), blue to red (coolwarm), near-white in the middle.
  assert.deepEqual(colorAt("RdBu", 0), [0x67, 0x00, 0x1f]);
  assert.deepEqual(colorAt("coolwarm", 1), [0xb4, 0x04, 0x26]);
  const mid = colorAt("coolwarm", 0.5);
  assert.ok(mid.every((c) => c > 200), `coolwarm middle ${mid}`);
});

test("positions index the table by rounding; out-of-range and NaN positions clamp to the ends", () => {
  assert.equal(lutIndex(0), 0);
  assert.equal(lutIndex(1), 255);
  assert.equal(lutIndex(0.5), 128);
  assert.equal(lutIndex(1 / 255), 1);
  assert.equal(lutIndex(0.4 / 255), 0);
  assert.equal(lutIndex(-1), 0);
  assert.equal(lutIndex(-Infinity), 0);
  assert.equal(lutIndex(NaN), 0);
  assert.equal(lutIndex(2), 255);
  assert.equal(lutIndex(Infinity), 255);
});

test("only RdBu and coolwarm are diverging", () => {
  assert.deepEqual(COLORMAPS.filter(isDiverging), ["RdBu", "coolwarm"]);
});
