// A whole card as one PNG, drawn from what is on screen: backgrounds, the left marks of wrong rows,
// every canvas at its place, and every visible text at its place (fillText, never HTML). Buttons and
// the slider stay out; the step number and wall time beside the slider are text and come along.

import { download } from "../dom";

/** Draws `root` into a new canvas at device pixel ratio `scale`. */
export function renderElement(root: HTMLElement, scale = Math.max(1, Math.min(2, window.devicePixelRatio || 1))): HTMLCanvasElement {
  const box = root.getBoundingClientRect();
  const canvas = document.createElement("canvas");
  canvas.width = Math.ceil(box.width * scale);
  canvas.height = Math.ceil(box.height * scale);
  const ctx = canvas.getContext("2d")!;
  ctx.scale(scale, scale);
  ctx.translate(-box.left, -box.top);
  const rootStyle = getComputedStyle(root);
  ctx.fillStyle = opaque(rootStyle.backgroundColor) ?? "#fff";
  ctx.fillRect(box.left, box.top, box.width, box.height);
  const skip = (el: Element) => el.matches("button, input, select, .tbs-icon-button, [hidden], .tbs-evo");
  const walk = (el: Element) => {
    if (skip(el)) return;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") return;
    const r = el.getBoundingClientRect();
    if (el !== root) {
      const bg = opaque(style.backgroundColor);
      if (bg) {
        ctx.fillStyle = bg;
        ctx.fillRect(r.left, r.top, r.width, r.height);
      }
      const left = parseFloat(style.borderLeftWidth);
      const leftColor = opaque(style.borderLeftColor);
      if (left > 0 && leftColor && style.borderLeftStyle !== "none") {
        ctx.fillStyle = leftColor;
        ctx.fillRect(r.left, r.top, left, r.height);
      }
    }
    if (el instanceof HTMLCanvasElement) {
      ctx.imageSmoothingEnabled = !/pixelated/.test(style.imageRendering);
      ctx.drawImage(el, r.left, r.top, r.width, r.height);
      return;
    }
    for (const node of el.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) drawText(ctx, node as Text, style);
      else if (node instanceof Element) walk(node);
    }
  };
  walk(root);
  return canvas;
}

function opaque(color: string): string | null {
  if (!color || color === "transparent" || /rgba\([^)]*,\s*0\)$/.test(color)) return null;
  return color;
}

/** Draws a text node line by line, where the browser laid its characters out. */
function drawText(ctx: CanvasRenderingContext2D, node: Text, style: CSSStyleDeclaration): void {
  const text = node.data;
  if (!text.trim()) return;
  ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  ctx.fillStyle = style.color;
  ctx.textBaseline = "alphabetic";
  const range = document.createRange();
  let line = "";
  let lineLeft = 0;
  let lineTop = NaN;
  let lineBottom = 0;
  const flush = () => {
    if (line.trim()) ctx.fillText(line, lineLeft, lineBottom - (lineBottom - lineTop) * 0.22);
    line = "";
  };
  for (let i = 0; i < text.length; i++) {
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    const rect = range.getClientRects()[0];
    if (!rect) continue;
    if (line && Math.abs(rect.top - lineTop) > rect.height / 2) flush();
    if (!line) {
      lineLeft = rect.left;
      lineTop = rect.top;
      lineBottom = rect.bottom;
    }
    line += text[i];
  }
  flush();
}

export async function downloadCardPng(card: HTMLElement, name: string): Promise<void> {
  const canvas = renderElement(card);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  if (blob) download(blob, name);
}
