// The golden fixtures that Python writes (frontend/test/fixtures, `python -m tests.support.fixtures`):
// blobs decoded here with layout.json's constants must give Python's float64 values exactly, and the
// JSON answers must go through the dashboard's own checks and step cursor. A change on either side
// that the other does not follow fails here.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import type { Activations, FrameError, FrameResponse, MapBlock, Signals, StepsResponse, TagsResponse } from "../src/api";
import { signalData } from "../src/data/sequences";
import { activationData, columnName, frameProblem, mapColumn } from "../src/data/step_data";
import { MAP_AXES, ACTIVATION_AXES } from "../src/data/layout";
import { StepCursor } from "../src/model/cursor";
import { buildGroups } from "../src/model/layout";
import { stepNotices } from "../src/model/notices";

const DIR = path.resolve("test/fixtures");

interface BlobFixture {
  name: string;
  file: string;
  kind: "map" | "activations" | "signals";
  shape: number[];
  entry: MapBlock | Activations | Signals;
  expected: unknown;
}

function bytesOf(file: string): ArrayBuffer {
  const b = fs.readFileSync(path.join(DIR, file));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

function response<T>(name: string): { request: string; status: number; body: T } {
  return JSON.parse(fs.readFileSync(path.join(DIR, "responses", name), "utf8"));
}

/**
 * Floats decode to Python's float64 values exactly. uint8 levels are float64 in Python and float32
 * once stored here: within float32's rounding of the sample's peak (scale).
 */
function same(got: number, expected: number, entry: MapBlock | Activations, sample: number): boolean {
  if (entry.dtype !== "uint8") return Object.is(got, expected);
  return Math.abs(got - expected) <= entry.scale[sample] * 2 ** -23;
}

const BLOBS: BlobFixture[] = JSON.parse(fs.readFileSync(path.join(DIR, "blobs.json"), "utf8"));

test("the fixtures cover every dtype, both compressions, both kinds, and magnitudes beyond float32", () => {
  assert.ok(BLOBS.length >= 8);
  assert.deepEqual(new Set(BLOBS.map((b) => b.entry.dtype)), new Set(["float16", "float32", "uint8"]));
  assert.deepEqual(new Set(BLOBS.map((b) => ("compression" in b.entry ? b.entry.compression : undefined) ?? "none")), new Set(["none", "shuffle_deflate"]));
  assert.deepEqual(new Set(BLOBS.map((b) => b.kind)), new Set(["map", "activations", "signals"]));
  const scales = BLOBS.flatMap((b) => b.entry.scale);
  assert.ok(scales.some((s) => s < 1e-38) && scales.some((s) => s > 3.5e38), "scales outside float32's range");
});

test("the signal blob decodes with layout.json to Python's float64 values exactly", () => {
  const fixture = BLOBS.find((b) => b.kind === "signals")!;
  const [n, c, t] = fixture.shape;
  const data = signalData(fixture.entry as Signals, bytesOf(fixture.file), n);
  const expected = fixture.expected as number[][][];
  const mismatches: string[] = [];
  for (let i = 0; i < n; i++)
    for (let k = 0; k < c; k++)
      for (let x = 0; x < t; x++) if (!Object.is(data.channels[i][k][x], expected[i][k][x])) mismatches.push(`[${i}][${k}][${x}]`);
  assert.deepEqual(mismatches.slice(0, 5), []);
  const longer = new Uint8Array(bytesOf(fixture.file).byteLength + 1);
  assert.throws(() => signalData(fixture.entry as Signals, longer.buffer as ArrayBuffer, n), /1 bytes more than/);
});

test("token and signal /frame answers pass the dashboard's checks; damaged ones are refused", () => {
  const tokens = response<FrameResponse>("frame_tokens.json").body;
  assert.equal(frameProblem(tokens, "saliency"), null);
  assert.equal(tokens.input, "tokens");
  assert.ok(tokens.tokens!.tokens[0].includes("<img src=x onerror=alert(1)>"));
  const signals = response<FrameResponse>("frame_signals.json").body;
  assert.equal(frameProblem(signals, "saliency"), null);
  assert.equal(signals.signals!.sample_rate, 8000);
  const short = structuredClone(tokens);
  short.tokens!.tokens[1].pop();
  assert.match(frameProblem(short, "saliency")!, /sample 1's tokens are not 10 strings/);
  const wide = structuredClone(signals);
  wide.maps[0].width = 3;
  assert.match(frameProblem(wide, "saliency")!, /need 1×400 maps/);
  const lost = structuredClone(tokens);
  delete lost.tokens;
  assert.match(frameProblem(lost, "saliency")!, /holds no tokens/);
});

for (const fixture of BLOBS.filter((b) => b.kind !== "signals")) {
  test(`blob ${fixture.name}: decoded with layout.json, raw = stored × scale equals Python's float64 values`, async () => {
    const bytes = bytesOf(fixture.file);
    const mismatches: string[] = [];
    if (fixture.kind === "map") {
      const entry = fixture.entry as MapBlock;
      const [n, h, w] = fixture.shape;
      assert.equal(fixture.shape.length, MAP_AXES.length);
      assert.deepEqual([h, w], [entry.height, entry.width]);
      const column = await mapColumn(entry, bytes, n);
      const expected = fixture.expected as number[][][];
      for (let i = 0; i < n; i++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const got = column.blocks[i].raw(x, y);
            if (!same(got, expected[i][y][x], entry, i)) mismatches.push(`[${i}][${y}][${x}] ${got} != ${expected[i][y][x]}`);
          }
    } else {
      const entry = fixture.entry as Activations;
      const [n, k, h, w] = fixture.shape;
      assert.equal(fixture.shape.length, ACTIVATION_AXES.length);
      assert.equal(k, entry.channels);
      const data = await activationData(entry, bytes, n);
      const expected = fixture.expected as number[][][][];
      for (let i = 0; i < n; i++)
        for (let c = 0; c < k; c++)
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++) {
              const got = data.blocks[i][c].raw(x, y);
              if (!same(got, expected[i][c][y][x], entry, i)) mismatches.push(`[${i}][${c}][${y}][${x}] ${got} != ${expected[i][c][y][x]}`);
            }
    }
    assert.deepEqual(mismatches.slice(0, 5), []);
  });

  test(`blob ${fixture.name}: one byte too many or too few is an error`, async () => {
    const bytes = new Uint8Array(bytesOf(fixture.file));
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    const n = fixture.shape[0];
    const decode = (b: Uint8Array) =>
      fixture.kind === "map" ? mapColumn(fixture.entry as MapBlock, b.buffer as ArrayBuffer, n) : activationData(fixture.entry as Activations, b.buffer as ArrayBuffer, n);
    if ("compression" in fixture.entry && fixture.entry.compression === "shuffle_deflate") {
      // A cut stream cannot be inflated (junk after a whole stream: Chromium refuses it, node ignores it).
      await assert.rejects(decode(bytes.slice(0, -1)), /cannot be inflated/);
    } else {
      await assert.rejects(decode(longer), /1 bytes more than/);
      await assert.rejects(decode(bytes.slice(0, -1)), /1 bytes fewer than/);
    }
  });
}

test("/frame answers pass the dashboard's checks; error answers carry their reason", () => {
  for (const [name, kind] of [["frame.json", "saliency"], ["frame_inline_images.json", "saliency"], ["frame_activations.json", "activations"]] as const) {
    const { body, status } = response<FrameResponse>(name);
    assert.equal(status, 200);
    assert.equal(frameProblem(body, kind), null, name);
    assert.equal(body.index.num_samples, body.num_samples);
  }
  const { body } = response<FrameResponse>("frame.json");
  assert.match(frameProblem(body, "activations")!, /the tag holds activations data/);
  for (const name of ["frame_error_damaged.json", "frame_error_newer.json"]) {
    const err = response<FrameError>(name).body;
    assert.equal(typeof err.error, "string");
    assert.ok(!("maps" in err), name);
  }
  assert.match(response<FrameError>("frame_error_newer.json").body.error, /upgrade tb_saliency/);
});

test("/steps answers: a token's append continues the list it was sent with", () => {
  const before = response<StepsResponse>("steps_before_append.json").body;
  const appended = response<StepsResponse>("steps_append.json");
  assert.ok(appended.request.includes(`token=${before.token}`), "the append answers the earlier token");
  assert.equal(appended.body.append, true);
  const cursor = new StepCursor();
  cursor.apply(before);
  cursor.apply(appended.body);
  assert.equal(cursor.count, appended.body.sampling.stored);
  const steps = cursor.steps.map((s) => s.step);
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
  assert.equal(cursor.current?.step, steps[steps.length - 1], "a card on the newest step follows");
  const r = appended.body.ranges.find((x) => x.key === "gradcam")!;
  assert.deepEqual(cursor.extrema("gradcam"), { mins: [r.min], maxs: [r.max] });
  const full = response<StepsResponse>("steps.json").body;
  assert.equal(full.append, false);
  assert.ok(full.written !== null);
  assert.deepEqual(stepNotices({ written: full.written!, sampling: full.sampling }, "--x"), [], "every step kept: no notice");
});

test("/steps of a tag whose metadata cannot be read says why", () => {
  const { body } = response<StepsResponse>("steps_unknown_kind.json");
  assert.equal(body.kind, "unknown");
  assert.match(body.error!, /newer tb_saliency/);
  assert.equal(body.written, null);
});

test("/tags: every run and tag lays out as a card of a TensorBoard tag group", () => {
  const { body } = response<TagsResponse>("tags.json");
  const runs = Object.keys(body.runs);
  const { groups } = buildGroups(runs, (r) => Object.keys(body.runs[r]), () => true, []);
  const cards = groups.reduce((n, g) => n + g.cards.length, 0);
  assert.equal(cards, runs.reduce((n, r) => n + Object.keys(body.runs[r]).length, 0));
  for (const r of runs) for (const info of Object.values(body.runs[r])) assert.ok(["saliency", "activations", "randomisation", "unknown"].includes(info.kind));
  const errors = [response<{ error: string }>("error_400.json"), response<{ error: string }>("error_404.json")];
  assert.deepEqual(errors.map((e) => e.status), [400, 404]);
  for (const e of errors) assert.equal(typeof e.body.error, "string");
});

test("frames with metrics and randomisation stages pass the checks; stages name their own columns and ranges", () => {
  assert.equal(frameProblem(response<FrameResponse>("frame_metrics.json").body, "saliency"), null);
  const randomisation = response<FrameResponse>("frame_randomisation.json").body;
  assert.equal(frameProblem(randomisation, "randomisation"), null);
  assert.deepEqual(randomisation.maps.map((m) => columnName(m)), ["gradcam", "gradcam @ head", "gradcam @ features"]);
  const cursor = new StepCursor();
  const steps = response<StepsResponse>("steps_randomisation.json").body;
  cursor.apply(steps);
  for (const r of steps.ranges) assert.deepEqual(cursor.extrema(r.key, r.stage), { mins: [r.min], maxs: [r.max] });
  // The same key at two stages is two columns, not duplicates.
  const twice = { ...randomisation, maps: [randomisation.maps[1], randomisation.maps[1]] };
  assert.match(frameProblem(twice, "randomisation")!, /two maps named "gradcam @ head"/);
});
