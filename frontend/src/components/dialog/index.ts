// The enlarged view of a tile: a modal dialog with four tabs (enlarged, the sample's deletion and
// insertion curves, evolution over the steps, every map compared across runs) that the arrow keys step through: ← → maps, ↑ ↓ samples,
// PgUp PgDn (or Shift+← →) steps.

import type { StepEntry } from "../../api";
import type { StepStore } from "../../data/step_store";
import { h, iconButton, replaceChildren } from "../../dom";
import type { DialogTab } from "../card";
import { nextSample } from "../../model/metrics";
import { compareView, curvesView, enlargedView, evolutionView, type Place, type ViewHost } from "./views";

export interface DialogSource {
  run: string;
  tag: string;
  kind: import("../../api").Kind;
  steps: StepEntry[];
  index: number;
  /** The samples in the card's order (sorted or filtered by a metric), which ↑ ↓ follow; null: 0, 1, … */
  order?: readonly number[] | null;
}

const TABS: [DialogTab, string][] = [
  ["enlarged", "Enlarged"],
  ["curves", "Deletion & insertion"],
  ["evolution", "Evolution"],
  ["compare", "Compare runs"],
];

export const KEY_HELP = "← → map · ↑ ↓ sample · PgUp PgDn step";

export function openDialog(host: ViewHost, store: StepStore, source: DialogSource, sample: number, column: number, tab: DialogTab): HTMLDialogElement {
  const steps = source.steps;
  let stepIndex = Math.max(0, Math.min(steps.length - 1, source.index));
  let current: DialogTab = tab;
  const place: Place = { run: source.run, tag: source.tag, kind: source.kind, sample, column, step: steps[stepIndex]?.step ?? 0 };
  let names: string[] = [];
  let numSamples = 1;
  let token = 0;

  const dialog = h("dialog", { className: "tbs-dialog", attrs: { "aria-label": `${source.run}, ${source.tag}` } });
  const title = h("h2");
  const content = h("div", { className: "tbs-dialog-content", attrs: { role: "tabpanel" } });
  const close = () => dialog.close();
  // Deletion and insertion curves belong to saliency maps (activations and the randomisation test have none).
  const tabButtons = TABS.filter(([id]) => id !== "curves" || source.kind === "saliency").map(([id, label]) =>
    h("button", {
      text: label,
      attrs: { type: "button", role: "tab", "aria-selected": "false", "data-tab": id },
      on: { click: () => show(id) },
    }),
  );

  const headline = () => {
    const name = names[place.column] ?? (place.column < 0 ? "input" : "");
    title.textContent = [source.run, source.tag, `step ${place.step}`, `sample ${place.sample}`, name].filter(Boolean).join(" · ");
  };

  const render = async () => {
    const mine = ++token;
    const isCurrent = () => mine === token && dialog.open;
    tabButtons.forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === current)));
    replaceChildren(content, h("div", { className: "tbs-loading", text: "Loading…" }));
    try {
      const entry = steps[stepIndex];
      if (!entry) throw new Error("This tag has no stored steps.");
      const data = await store.step(source.run, source.tag, entry, source.kind);
      if (!isCurrent()) return;
      names = data.maps.map((m) => m.name);
      numSamples = data.numSamples;
      place.step = data.frame.step;
      if (place.column >= names.length) place.column = names.length - 1;
      if (place.column < 0 && names.length && current !== "enlarged") place.column = 0;
      headline();
      const { extrema, classNames } = await store.stepList(source.run, source.tag);
      let view: HTMLElement;
      if (current === "enlarged") {
        const column = data.maps[place.column];
        view = enlargedView(place, data, column ? extrema(column.info.key, column.info.stage ?? "") : null, classNames, host);
      } else if (current === "curves") {
        view = curvesView(place, data, classNames, host);
      } else if (current === "evolution") {
        view = await evolutionView(place, host, store, isCurrent);
      } else {
        view = await compareView(place, names, host, store);
      }
      if (isCurrent()) replaceChildren(content, view);
    } catch (e) {
      if (isCurrent()) replaceChildren(content, h("div", { className: "tbs-error", attrs: { role: "alert" }, text: e instanceof Error ? e.message : String(e) }));
    }
  };

  const show = (id: DialogTab) => {
    current = id;
    void render();
  };

  dialog.addEventListener("keydown", (e) => {
    const t = e.target as HTMLElement;
    if (t && /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) return;
    let handled = true;
    const stepKey = e.key === "PageUp" || e.key === "PageDown" || (e.shiftKey && (e.key === "ArrowLeft" || e.key === "ArrowRight"));
    if (stepKey) {
      const d = e.key === "PageUp" || e.key === "ArrowLeft" ? -1 : 1;
      const next = Math.max(0, Math.min(steps.length - 1, stepIndex + d));
      if (next === stepIndex) return e.preventDefault();
      stepIndex = next;
      place.step = steps[stepIndex].step;
    } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      if (!names.length) return;
      const d = e.key === "ArrowLeft" ? -1 : 1;
      place.column = (((place.column < 0 ? 0 : place.column) + d) % names.length + names.length) % names.length;
    } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      const d = e.key === "ArrowUp" ? -1 : 1;
      place.sample = nextSample(place.sample, d, numSamples, source.order ?? null);
    } else {
      handled = false;
    }
    if (handled) {
      e.preventDefault();
      headline();
      void render();
    }
  });

  dialog.append(
    h(
      "div",
      { className: "tbs-dialog-body" },
      h("div", { className: "tbs-dialog-head" }, title, iconButton("close", "Close", close)),
      h("div", { className: "tbs-tabs" }, h("div", { attrs: { role: "tablist", "aria-label": "Views" } }, ...tabButtons), h("span", { className: "tbs-muted tbs-small tbs-keyhelp", text: KEY_HELP })),
      content,
    ),
  );
  dialog.addEventListener("close", () => {
    token++;
    host.tooltip.hide();
    home.appendChild(host.tooltip.el);
    dialog.remove();
  });
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) close();
  });
  // Inside the dashboard's root, so the theme's colours apply; showModal lifts it to the top layer.
  const home = document.querySelector<HTMLElement>(".tbs-root") ?? document.body;
  home.appendChild(dialog);
  // The read-out must float above the modal dialog, which sits in the top layer.
  dialog.appendChild(host.tooltip.el);
  dialog.showModal();
  headline();
  void render();
  return dialog;
}
