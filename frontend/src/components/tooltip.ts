// The hover read-out: one floating box beside the cursor, kept inside the viewport.

import { h } from "../dom";

const GAP = 14;

export class Tooltip {
  readonly el: HTMLElement;

  constructor() {
    this.el = h("div", { className: "tbs-tooltip", attrs: { role: "status", "aria-live": "off" } });
    this.el.hidden = true;
  }

  show(lines: readonly string[], clientX: number, clientY: number): void {
    const el = this.el;
    if (el.childNodes.length !== lines.length || [...el.childNodes].some((n, i) => n.textContent !== lines[i])) {
      el.replaceChildren(...lines.map((line) => h("div", { text: line })));
    }
    el.hidden = false;
    const box = el.getBoundingClientRect();
    const view = el.ownerDocument.documentElement;
    const W = view.clientWidth;
    const H = view.clientHeight;
    let x = clientX + GAP;
    let y = clientY + GAP;
    if (x + box.width > W - 4) x = clientX - GAP - box.width;
    if (y + box.height > H - 4) y = clientY - GAP - box.height;
    el.style.left = `${Math.max(4, Math.min(x, W - box.width - 4))}px`;
    el.style.top = `${Math.max(4, Math.min(y, H - box.height - 4))}px`;
  }

  hide(): void {
    this.el.hidden = true;
  }
}
