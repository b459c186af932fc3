// The left sidebar: run selection, regex filters over runs and tags, and the display settings.

import { h, replaceChildren, uid } from "../dom";
import { parseSamples } from "../model/layout";
import { KNOWN_MAP_METRICS, sortLabel, sortOption, type SortOrder } from "../model/metrics";
import { DIVERGING_COLORMAPS, SEQUENTIAL_COLORMAPS } from "../render/colormaps";
import { compileFilter, type Settings } from "../settings";

export interface SidebarHost {
  settings(): Settings;
  update(patch: Partial<Settings>): void;
  setSign(sign: Settings["sign"]): void;
  runColor(run: string): string;
  runError(run: string): string | null;
}

const VIEW_LABELS: Record<Settings["view"], string> = {
  overlay: "Overlay on input",
  heatmap: "Heatmap alone",
  masked: "Masked input",
  side: "Side by side",
};
const SIGN_LABELS: Record<Settings["sign"], string> = {
  positive: "Positive",
  negative: "Negative",
  absolute: "Absolute value",
  signed: "Signed (diverging)",
};
const CLIP_LABELS: Record<Settings["clip"], string> = {
  none: "None",
  percentile: "Percentile",
  mass: "Mass (captum outlier %)",
};
const SCOPE_LABELS: Record<Settings["scope"], string> = {
  map: "Per map",
  card: "Per card (this step)",
  tag: "Per tag (all steps)",
};
const UPSAMPLING_LABELS: Record<Settings["upsampling"], string> = { bilinear: "Bilinear (smooth)", nearest: "Nearest (cells)" };
const ZOOM_LABELS: Record<Settings["zoom"], string> = { fit: "Fit (128 px)", "1": "Native size", "2": "2× pixel-exact", "4": "4× pixel-exact" };

export class Sidebar {
  readonly el: HTMLElement;
  private readonly runList: HTMLUListElement;
  private readonly runCount: HTMLElement;
  private readonly controls = new Map<keyof Settings, HTMLInputElement | HTMLSelectElement>();
  private clipField!: HTMLElement;
  private clipLabel!: HTMLLabelElement;
  private opacityOut!: HTMLOutputElement;
  private runs: string[] = [];
  private shownSignature = "";
  private readonly boxes = new Map<string, HTMLInputElement>();
  private sortSelect!: HTMLSelectElement;
  private mapSelect!: HTMLSelectElement;
  private mapKeys: string[] = [];

  constructor(private readonly host: SidebarHost) {
    this.runList = h("ul", { className: "tbs-runs", attrs: { "aria-label": "Runs" } });
    this.runCount = h("span", { className: "tbs-muted tbs-small" });
    const s = host.settings();
    this.el = h(
      "aside",
      { className: "tbs-sidebar", attrs: { "aria-label": "Saliency settings" } },
      h(
        "section",
        { className: "tbs-section" },
        h("h2", null, "Runs ", this.runCount),
        this.filterInput("runFilter", "Filter runs (regular expression)", s.runFilter),
        h(
          "div",
          { className: "tbs-row tbs-small" },
          h("button", { className: "tbs-button", text: "All", attrs: { type: "button", "aria-label": "Show all runs" }, on: { click: () => this.host.update({ hiddenRuns: [] }) } }),
          h("button", {
            className: "tbs-button",
            text: "None",
            attrs: { type: "button", "aria-label": "Hide all runs" },
            on: { click: () => this.host.update({ hiddenRuns: [...this.runs] }) },
          }),
        ),
        this.runList,
      ),
      h("section", { className: "tbs-section" }, h("h2", { text: "Tags" }), this.filterInput("tagFilter", "Filter tags (regular expression)", s.tagFilter)),
      h("section", { className: "tbs-section" }, h("h2", { text: "Display" }), ...this.displayControls()),
      h(
        "section",
        { className: "tbs-section" },
        h("h2", { text: "Samples" }),
        this.checkbox("onlyWrong", "Only wrong predictions", "Show only the samples whose prediction differs from their label"),
        this.samplePicker(s.samples),
        this.checkbox("mergeWords", "Merge sub-words", "In text steps, draw sub-word pieces (##, Ġ, ▁) as whole words, their scores summed"),
      ),
      h("section", { className: "tbs-section" }, h("h2", { text: "Metrics" }), ...this.metricControls()),
      h(
        "section",
        { className: "tbs-section" },
        h("h2", { text: "Steps and pages" }),
        this.checkbox("linkSteps", "Link steps", "Move every card's step together"),
        this.pageSizeField(s.pageSize),
      ),
    );
    this.sync();
  }

  private filterInput(key: "runFilter" | "tagFilter", label: string, value: string): HTMLElement {
    const id = uid(key);
    const errorId = uid(`${key}-error`);
    const error = h("div", { className: "tbs-filter-error", attrs: { id: errorId, role: "status" } });
    const input = h("input", {
      className: "tbs-filter",
      attrs: { type: "search", id, placeholder: label, "aria-label": label, "aria-describedby": errorId, spellcheck: "false", autocomplete: "off", value },
      on: {
        input: () => {
          this.showFilterError(input, error, input.value);
          this.host.update({ [key]: input.value } as Partial<Settings>);
        },
      },
    });
    input.value = value;
    this.showFilterError(input, error, value);
    this.controls.set(key, input);
    return h("div", null, input, error);
  }

  private showFilterError(input: HTMLInputElement, error: HTMLElement, pattern: string): void {
    const { error: message } = compileFilter(pattern);
    input.classList.toggle("tbs-invalid", message !== null);
    input.setAttribute("aria-invalid", message ? "true" : "false");
    error.textContent = message ? `Invalid regular expression: ${message}` : "";
  }

  private select<K extends keyof Settings>(key: K, label: string, options: [string, string][] | [string, [string, string][]][], onChange?: (v: string) => void): HTMLElement {
    const id = uid(key);
    const sel = h("select", { attrs: { id, "data-setting": key } });
    for (const entry of options) {
      if (Array.isArray(entry[1])) {
        const group = h("optgroup", { attrs: { label: entry[0] } });
        for (const [value, text] of entry[1] as [string, string][]) group.appendChild(h("option", { attrs: { value }, text }));
        sel.appendChild(group);
      } else {
        sel.appendChild(h("option", { attrs: { value: entry[0] }, text: entry[1] as string }));
      }
    }
    sel.addEventListener("change", () => (onChange ? onChange(sel.value) : this.host.update({ [key]: sel.value } as Partial<Settings>)));
    this.controls.set(key, sel);
    return h("div", { className: "tbs-field" }, h("label", { attrs: { for: id }, text: label }), sel);
  }

  private samplePicker(value: string): HTMLElement {
    const id = uid("samples");
    const errorId = uid("samples-error");
    const error = h("div", { className: "tbs-filter-error", attrs: { id: errorId, role: "status" } });
    const input = h("input", {
      className: "tbs-filter",
      attrs: { type: "text", id, placeholder: "all, or e.g. 0, 2-5", "aria-describedby": errorId, spellcheck: "false", autocomplete: "off", "data-setting": "samples" },
      on: {
        input: () => {
          const parsed = parseSamples(input.value);
          error.textContent = parsed.error ? `Samples: ${parsed.error}` : "";
          input.classList.toggle("tbs-invalid", parsed.error !== null);
          input.setAttribute("aria-invalid", parsed.error ? "true" : "false");
          if (!parsed.error) this.host.update({ samples: input.value });
        },
      },
    });
    input.value = value;
    return h("div", null, h("div", { className: "tbs-field" }, h("label", { attrs: { for: id }, text: "Samples" }), input), error);
  }

  private pageSizeField(value: number): HTMLElement {
    const id = uid("pagesize");
    const input = h("input", {
      attrs: { type: "number", id, min: 1, max: 100, step: 1, "data-setting": "pageSize" },
      on: {
        input: () => {
          const v = Number(input.value);
          if (Number.isInteger(v) && v >= 1 && v <= 100) this.host.update({ pageSize: v });
        },
      },
    });
    input.value = String(value);
    this.controls.set("pageSize", input);
    return h("div", { className: "tbs-field" }, h("label", { attrs: { for: id }, text: "Cards per page" }), input);
  }

  /**
   * Sorting and filtering every card's samples by a metric of one map, and the charts over steps.
   * One sort select holds metric and order ("Worst deletion AUC first (highest)").
   */
  private metricControls(): HTMLElement[] {
    const sortId = uid("sort");
    this.sortSelect = h("select", {
      attrs: { id: sortId, "data-setting": "sort" },
      on: {
        change: () => {
          const [metric, order] = JSON.parse(this.sortSelect.value) as [string, SortOrder];
          this.host.update({ sortMetric: metric, sortOrder: order });
        },
      },
    });
    const mapId = uid("metricmap");
    this.mapSelect = h("select", {
      attrs: { id: mapId, "data-setting": "metricMap" },
      on: { change: () => this.host.update({ metricMap: this.mapSelect.value }) },
    });
    this.fillSortOptions();
    this.fillMapOptions();
    return [
      h("div", { className: "tbs-field" }, h("label", { attrs: { for: sortId }, text: "Sort samples" }), this.sortSelect),
      h("div", { className: "tbs-field", title: "The map whose metric values sort the samples and pick the pointing-game misses" }, h("label", { attrs: { for: mapId }, text: "Metric of map" }), this.mapSelect),
      this.checkbox("onlyMissed", "Only pointing-game misses", "Show only the samples whose map (the one chosen above) missed the pointing game"),
      this.checkbox("charts", "Charts over steps", "In each card that logs metrics, a chart of each metric's mean over the stored steps"),
    ];
  }

  private fillSortOptions(): void {
    const s = this.host.settings();
    const metrics: string[] = [...KNOWN_MAP_METRICS];
    if (s.sortMetric && !metrics.includes(s.sortMetric)) metrics.push(s.sortMetric);
    const options = [h("option", { attrs: { value: JSON.stringify(["", "worst"]) }, text: "In sample order" })];
    for (const metric of metrics) {
      for (const order of ["worst", "best"] as const) {
        options.push(h("option", { attrs: { value: JSON.stringify([metric, order]), title: sortLabel(metric, order) }, text: sortOption(metric, order) }));
      }
    }
    this.sortSelect.replaceChildren(...options);
    this.sortSelect.value = JSON.stringify(s.sortMetric ? [s.sortMetric, s.sortOrder] : ["", "worst"]);
    this.sortSelect.title = s.sortMetric ? `Samples in every card: ${sortLabel(s.sortMetric, s.sortOrder)}` : "Samples in every card in their own order";
  }

  private fillMapOptions(): void {
    const s = this.host.settings();
    const keys = [...this.mapKeys];
    if (s.metricMap && !keys.includes(s.metricMap)) keys.push(s.metricMap);
    this.mapSelect.replaceChildren(h("option", { attrs: { value: "" }, text: "First map that logs it" }), ...keys.map((k) => h("option", { attrs: { value: k }, text: k })));
    this.mapSelect.value = s.metricMap;
  }

  /** The map keys the tags hold, for the map whose metrics sort and filter. */
  setMapKeys(keys: readonly string[]): void {
    if (JSON.stringify(keys) === JSON.stringify(this.mapKeys)) return;
    this.mapKeys = [...keys];
    this.fillMapOptions();
  }

  private checkbox(key: "linkSteps" | "onlyWrong" | "onlyMissed" | "charts" | "mergeWords", label: string, description: string): HTMLElement {
    const id = uid(key);
    const box = h("input", {
      attrs: { type: "checkbox", id, "data-setting": key, "aria-description": description },
      on: { change: () => this.host.update({ [key]: box.checked }) },
    });
    this.controls.set(key, box);
    return h("div", { className: "tbs-field tbs-check", title: description }, box, h("label", { attrs: { for: id }, text: label }));
  }

  private displayControls(): HTMLElement[] {
    const entries = <T extends string>(labels: Record<T, string>): [string, string][] => Object.entries(labels) as [string, string][];
    const opacityId = uid("opacity");
    const opacity = h("input", {
      attrs: { type: "range", id: opacityId, min: 0, max: 100, step: 1, "data-setting": "opacity" },
      on: {
        input: () => {
          this.opacityOut.value = `${opacity.value}%`;
          this.host.update({ opacity: Number(opacity.value) });
        },
      },
    });
    this.controls.set("opacity", opacity);
    this.opacityOut = h("output", { attrs: { for: opacityId } });

    const clipId = uid("clipvalue");
    const clipValue = h("input", {
      attrs: { type: "number", id: clipId, step: "0.1", "data-setting": "clipvalue" },
      on: {
        // Applies as you type: every value that parses and lies in range redraws; the rest wait.
        input: () => {
          const text = clipValue.value.trim();
          const v = Number(text);
          const s = this.host.settings();
          const [lo, hi] = s.clip === "mass" ? [0, 50] : [50, 100];
          const ok = text !== "" && Number.isFinite(v) && v >= lo && v <= hi;
          clipValue.setAttribute("aria-invalid", ok ? "false" : "true");
          clipValue.classList.toggle("tbs-invalid", !ok);
          if (ok) this.host.update(s.clip === "mass" ? { massPercent: v } : { percentile: v });
        },
        blur: () => {
          clipValue.classList.remove("tbs-invalid");
          clipValue.setAttribute("aria-invalid", "false");
          this.syncClip();
        },
      },
    });
    this.controls.set("percentile", clipValue);
    this.clipLabel = h("label", { attrs: { for: clipId } });
    this.clipField = h("div", { className: "tbs-field" }, this.clipLabel, clipValue);

    return [
      this.select("view", "View", entries(VIEW_LABELS)),
      this.select("colormap", "Colormap", [
        ["Sequential", SEQUENTIAL_COLORMAPS.map((c) => [c, c] as [string, string])],
        ["Diverging (signed)", DIVERGING_COLORMAPS.map((c) => [c, c] as [string, string])],
      ]),
      h("div", { className: "tbs-field" }, h("label", { attrs: { for: opacityId }, text: "Opacity" }), opacity, this.opacityOut),
      this.select("sign", "Sign", entries(SIGN_LABELS), (v) => this.host.setSign(v as Settings["sign"])),
      this.select("clip", "Clipping", entries(CLIP_LABELS)),
      this.clipField,
      this.select("scope", "Normalise", entries(SCOPE_LABELS)),
      this.select("upsampling", "Upsampling", entries(UPSAMPLING_LABELS)),
      this.select("zoom", "Size", entries(ZOOM_LABELS)),
    ];
  }

  /** Makes every control show the current settings. */
  sync(): void {
    const s = this.host.settings();
    for (const [key, control] of this.controls) {
      if (key === "runFilter" || key === "tagFilter") continue;
      if (key === "percentile") continue;
      if (control.ownerDocument.activeElement === control && control instanceof HTMLInputElement && control.type === "number") continue;
      const value = s[key];
      if (control instanceof HTMLInputElement && control.type === "checkbox") control.checked = Boolean(value);
      else if (control.value !== String(value)) control.value = String(value);
    }
    this.opacityOut.value = `${s.opacity}%`;
    const sortValue = JSON.stringify(s.sortMetric ? [s.sortMetric, s.sortOrder] : ["", "worst"]);
    if (this.sortSelect.value !== sortValue) this.fillSortOptions();
    if (this.mapSelect.value !== s.metricMap) this.fillMapOptions();
    const opacity = this.controls.get("opacity") as HTMLInputElement;
    opacity.disabled = s.view !== "overlay";
    this.syncClip();
    this.renderRuns();
  }

  private syncClip(): void {
    const s = this.host.settings();
    const clipInput = this.controls.get("percentile") as HTMLInputElement;
    const typing = clipInput.ownerDocument.activeElement === clipInput;
    this.clipField.hidden = s.clip === "none";
    if (s.clip === "mass") {
      this.clipLabel.textContent = "Outlier %";
      clipInput.min = "0";
      clipInput.max = "50";
      if (!typing) clipInput.value = String(s.massPercent);
      clipInput.title = "Clip where the largest values hold this percent of the total attribution (captum's outlier_perc)";
    } else {
      this.clipLabel.textContent = "Percentile";
      clipInput.min = "50";
      clipInput.max = "100";
      if (!typing) clipInput.value = String(s.percentile);
      clipInput.title = "Clip values above this percentile";
    }
  }

  setRuns(runs: string[]): void {
    this.runs = runs;
    this.renderRuns();
  }

  private renderRuns(): void {
    const s = this.host.settings();
    const { regex } = compileFilter(s.runFilter);
    const hidden = new Set(s.hiddenRuns);
    const shown = this.runs.filter((run) => !regex || regex.test(run));
    const selected = shown.filter((run) => !hidden.has(run)).length;
    this.runCount.textContent = this.runs.length ? `${selected} of ${this.runs.length} shown` : "";
    // Rebuilding the list on every change would steal the focus from the checkbox just clicked.
    const signature = JSON.stringify([shown, shown.map((r) => this.host.runColor(r)), shown.map((r) => this.host.runError(r))]);
    if (signature !== this.shownSignature) {
      this.shownSignature = signature;
      this.boxes.clear();
      replaceChildren(this.runList, ...shown.map((run) => this.runItem(run)));
      if (this.runs.length && shown.length === 0) {
        this.runList.appendChild(h("li", { className: "tbs-muted tbs-small", text: "No run matches the filter." }));
      }
    }
    for (const [run, box] of this.boxes) box.checked = !hidden.has(run);
  }

  private runItem(run: string): HTMLElement {
    const id = uid("run");
    const box = h("input", {
      attrs: { type: "checkbox", id, "data-run": run },
      on: {
        change: () => {
          const now = new Set(this.host.settings().hiddenRuns);
          if (box.checked) now.delete(run);
          else now.add(run);
          this.host.update({ hiddenRuns: [...now].sort() });
        },
      },
    });
    this.boxes.set(run, box);
    return h(
      "li",
      null,
      h(
        "label",
        { attrs: { for: id } },
        box,
        h("span", { className: "tbs-swatch", style: { background: this.host.runColor(run) }, attrs: { "aria-hidden": "true" } }),
        h("span", { className: "tbs-run-name", text: run, title: run }),
      ),
      this.host.runError(run) ? h("span", { className: "tbs-run-error", text: "!", title: `This run cannot be shown: ${this.host.runError(run)}`, attrs: { role: "img", "aria-label": `Error: ${this.host.runError(run)}` } }) : null,
    );
  }
}
