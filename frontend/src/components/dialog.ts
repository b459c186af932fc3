// The enlarged view of one tile, with two views beyond one step: a filmstrip (one sample and one map
// across every stored step) and a comparison of runs (one sample, the same step, every shown run).

import type { BlobCache, Frame, FramesResponse, MapInfo } from "../api";
import { h, pixelCanvas, replaceChildren } from "../dom";
import { bytesPerValue, decodeValues, scaleInPlace } from "../float16";
import { clipOf, extremaOf, renderFactor, renderTile, scopedRanges, signedColumn } from "../pipeline";
import { formatValue, scaleNearest } from "../render";
import type { Settings } from "../settings";
import { className, indexForStep, isWrong } from "../step";
import type { Card } from "./card";

export interface DialogHost {
  settings(): Settings;
  blobs: BlobCache;
  frames(run: string, tag: string, refresh: boolean): Promise<FramesResponse>;
  /** Runs on screen (selected, matching the filter) that log `tag`. */
  shownRuns(tag: string): string[];
  runColor(run: string): string;
}

interface SampleMap {
  frame: Frame;
  info: MapInfo;
  raw: Float32Array;
  image: ImageData | null;
}

async function loadSampleMap(frame: Frame, key: string, sample: number, blobs: BlobCache): Promise<SampleMap | null> {
  if (frame.error) return null;
  const info = frame.maps?.find((m) => m.key === key);
  const n = frame.num_samples ?? frame.samples?.length ?? 0;
  if (!info || sample >= n) return null;
  const per = info.height * info.width;
  const imageKey = frame.images?.blobs?.[sample];
  const t = frame.wall_time;
  const [bytes, image] = await Promise.all([blobs.get(info.blob, t), imageKey ? blobs.image(imageKey, frame.images?.wall_time ?? t).catch(() => null) : Promise.resolve(null)]);
  const raw = scaleInPlace(decodeValues(bytes, info.dtype, per, sample * per * bytesPerValue(info.dtype)), info.scale[sample]);
  return { frame, info, raw, image };
}

/** A name safe for a downloaded file, whatever the run and tag strings hold. */
export function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "").slice(0, 60) || "x";
}

function downloadButton(canvas: HTMLCanvasElement, name: string, label: string): HTMLElement {
  return h("button", {
    className: "tbs-button",
    text: "Download PNG",
    attrs: { type: "button", "aria-label": `Download ${label} as PNG` },
    on: {
      click: () =>
        canvas.toBlob((blob) => {
          if (!blob) return;
          const url = URL.createObjectURL(blob);
          const a = h("a", { attrs: { href: url, download: name } });
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
        }, "image/png"),
    },
  });
}

/** Scale so that the picture shows at least ~320 px, in whole pixels so it stays pixel-exact. */
function zoomed(canvas: HTMLCanvasElement, target = 320): HTMLCanvasElement {
  const z = Math.max(1, Math.floor(target / Math.max(canvas.width, canvas.height, 1)));
  canvas.style.width = `${canvas.width * z}px`;
  canvas.style.height = `${canvas.height * z}px`;
  canvas.classList.add("tbs-pixelated");
  return canvas;
}

function figure(canvas: HTMLCanvasElement, caption: string, download?: { name: string }): HTMLElement {
  return h("figure", { className: "tbs-figure" }, canvas, h("figcaption", { text: caption }), download ? downloadButton(canvas, download.name, caption) : null);
}

export function openTileDialog(host: DialogHost, card: Card, sample: number, column: number): void {
  const data = card.data;
  if (!data) return;
  const mapIndex = column >= 0 ? column : data.maps.length ? 0 : -1;
  const map = mapIndex >= 0 ? data.maps[mapIndex] : null;
  const step = data.frame.step;
  const s = host.settings();
  const dialog = h("dialog", { className: "tbs-dialog", attrs: { "aria-label": `Sample ${sample} of ${card.run}, ${card.tag}` } });
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  const content = h("div");
  const tabs: [string, () => Promise<HTMLElement> | HTMLElement][] = [["Enlarged", () => enlarged()]];
  if (map) {
    tabs.push(["Filmstrip", () => filmstrip()]);
    tabs.push(["Compare runs", () => compare()]);
  }
  const tabButtons = tabs.map(([label, build], k) =>
    h("button", {
      text: label,
      attrs: { type: "button", role: "tab", "aria-selected": k === 0 ? "true" : "false", "data-tab": label },
      on: { click: () => show(k, build) },
    }),
  );
  const show = async (k: number, build: () => Promise<HTMLElement> | HTMLElement) => {
    tabButtons.forEach((b, i) => b.setAttribute("aria-selected", i === k ? "true" : "false"));
    replaceChildren(content, h("div", { className: "tbs-loading", text: "Loading…" }));
    try {
      replaceChildren(content, await build());
    } catch (e) {
      replaceChildren(content, h("div", { className: "tbs-error", text: e instanceof Error ? e.message : String(e) }));
    }
  };

  const base = `${fileSafe(card.run)}_${fileSafe(card.tag)}_step${step}_sample${sample}`;
  const samples = data.frame.samples?.[sample] ?? {};
  const classes = card.frames?.class_names ?? [];
  const facts = [
    ["label", className(samples.label, classes)],
    ["target", className(samples.target, classes)],
    ["prediction", className(samples.prediction, classes)],
    ["score", typeof samples.score === "number" ? formatValue(samples.score) : null],
  ]
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${v}`)
    .join(" · ");

  function enlarged(): HTMLElement {
    const input = data!.images[sample] ?? null;
    const figures: HTMLElement[] = [];
    // Drawn at the size shown, so smooth maps stay smooth and input pixels stay sharp blocks.
    const big = 320;
    if (input) {
      const k = renderFactor(input.width, input.height, big);
      const pixels = k === 1 ? input.data : scaleNearest(input.data, input.width, input.height, k);
      figures.push(figure(zoomed(pixelCanvas(pixels, input.width * k, input.height * k)), "input", { name: `${base}_input.png` }));
    }
    if (map) {
      const signed = signedColumn(map.raw, s.sign);
      const extrema = s.scope === "tag" ? extremaOf(card.frames?.frames ?? [], (f) => f.maps?.find((m) => m.key === map.info.key)) : null;
      const range = scopedRanges(signed, s.scope, s.sign, clipOf(s), extrema)[sample];
      const key = fileSafe(map.info.key);
      const heat = renderTile(signed[sample], map.info, range, input, "heatmap", s, big);
      figures.push(figure(zoomed(pixelCanvas(heat.heat, heat.width, heat.height)), `${map.info.key} (${formatValue(range.lo)} … ${formatValue(range.hi)})`, { name: `${base}_${key}_map.png` }));
      if (input) {
        const over = renderTile(signed[sample], map.info, range, input, "overlay", s, big);
        figures.push(figure(zoomed(pixelCanvas(over.pixels, over.width, over.height)), `overlay, opacity ${s.opacity}%`, { name: `${base}_${key}_overlay.png` }));
        const masked = renderTile(signed[sample], map.info, range, input, "masked", s, big);
        figures.push(figure(zoomed(pixelCanvas(masked.pixels, masked.width, masked.height)), "masked input", { name: `${base}_${key}_masked.png` }));
      }
    }
    return h("div", null, facts ? h("p", { className: "tbs-muted", text: facts }) : null, h("div", { className: "tbs-figures" }, ...figures));
  }

  async function filmstrip(): Promise<HTMLElement> {
    const frames = card.frames?.frames ?? [];
    const key = map!.info.key;
    const loaded = (await Promise.all(frames.map((f) => loadSampleMap(f, key, sample, host.blobs).catch(() => null)))).filter((x): x is SampleMap => x !== null);
    if (!loaded.length) return h("div", { className: "tbs-loading", text: "No stored step holds this map." });
    // One range for the whole strip (unless "per map" is chosen), so a map that grows stronger looks stronger.
    const signed = signedColumn(loaded.map((x) => x.raw), s.sign);
    const scope = s.scope === "map" ? "map" : s.scope === "tag" ? "tag" : "card";
    const ranges = scopedRanges(signed, scope, s.sign, clipOf(s), scope === "tag" ? extremaOf(frames, (f) => f.maps?.find((m) => m.key === key)) : null);
    const tiles = loaded.map((x, k) => {
      const tile = renderTile(signed[k], x.info, ranges[k], x.image, s.view === "side" ? "overlay" : s.view, s, 128);
      const canvas = pixelCanvas(tile.pixels, tile.width, tile.height);
      return h("figure", { className: "tbs-figure", attrs: { "data-step": x.frame.step } }, canvas, h("figcaption", { text: `step ${x.frame.step}` }));
    });
    return h("div", null, h("p", { className: "tbs-muted", text: `${key}, sample ${sample}, every stored step, oldest first.` }), h("div", { className: "tbs-strip" }, ...tiles));
  }

  async function compare(): Promise<HTMLElement> {
    const key = map!.info.key;
    const runs = host.shownRuns(card.tag);
    const results = await Promise.all(
      runs.map(async (run) => {
        try {
          const frames = run === card.run && card.frames ? card.frames : await host.frames(run, card.tag, false);
          if (!frames.frames.length) return { run, note: "no stored steps" };
          const frame = frames.frames[indexForStep(frames.frames, step)];
          const loadedMap = await loadSampleMap(frame, key, sample, host.blobs);
          if (!loadedMap) return { run, note: `no ${key} for sample ${sample} at step ${frame.step}` };
          return { run, map: loadedMap, exact: frame.step === step, names: frames.class_names };
        } catch (e) {
          return { run, note: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
    const ok = results.filter((r): r is { run: string; map: SampleMap; exact: boolean; names: string[] } => "map" in r && r.map !== undefined);
    const signed = signedColumn(ok.map((r) => r.map.raw), s.sign);
    const ranges = scopedRanges(signed, s.scope === "map" ? "map" : "card", s.sign, clipOf(s), null);
    const figures = results.map((r) => {
      const caption = (extra: string) =>
        h(
          "figcaption",
          null,
          h("span", { className: "tbs-swatch", style: { background: host.runColor(r.run) }, attrs: { "aria-hidden": "true" } }),
          " ",
          h("span", { className: "tbs-run", text: r.run }),
          h("div", { className: "tbs-muted", text: extra }),
        );
      if (!("map" in r) || !r.map) return h("figure", { className: "tbs-figure" }, caption(r.note ?? ""));
      const k = ok.indexOf(r as (typeof ok)[number]);
      const tile = renderTile(signed[k], r.map.info, ranges[k], r.map.image, s.view === "side" ? "overlay" : s.view, s, 192);
      const sampleFacts = r.map.frame.samples?.[sample] ?? {};
      const pred = className(sampleFacts.prediction, r.names);
      const text = `step ${r.map.frame.step}${r.exact ? "" : " (nearest earlier)"}${pred !== null ? ` · pred ${pred}` : ""}${isWrong(sampleFacts) ? " ✗" : ""}`;
      return h("figure", { className: "tbs-figure", attrs: { "data-run": r.run } }, zoomed(pixelCanvas(tile.pixels, tile.width, tile.height), 192), caption(text));
    });
    return h("div", null, h("p", { className: "tbs-muted", text: `${key}, sample ${sample}, step ${step}, each shown run.` }), h("div", { className: "tbs-figures" }, ...figures));
  }

  dialog.append(
    h(
      "div",
      { className: "tbs-dialog-body" },
      h(
        "div",
        { className: "tbs-dialog-head" },
        h("h2", { text: `${card.run} · ${card.tag} · step ${step} · sample ${sample}` }),
        h("button", { className: "tbs-button", text: "Close", attrs: { type: "button", "aria-label": "Close" }, on: { click: close } }),
      ),
      h("div", { className: "tbs-tabs", attrs: { role: "tablist" } }, ...tabButtons),
      content,
    ),
  );
  dialog.addEventListener("close", () => dialog.remove());
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) close();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  void show(0, tabs[0][1]);
}
