// A whole card as one PNG, drawn from what is on screen: backgrounds, the left marks of wrong rows,
// every canvas at its place, every visible text at its place (fillText, never HTML), and the metric
// charts (their lines, points and labels, with the colours they have on screen). Buttons, selects and
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
    if (el instanceof SVGSVGElement) {
      if (el.classList.contains("tbs-chart")) drawChart(ctx, el);
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

/**
 * Draws one of the dashboard's SVG charts (lines, paths, circles and text, in user units equal to CSS
 * pixels) with the styles they are shown with. Hidden parts (the hover guide, a hidden marker) stay out.
 */
function drawChart(ctx: CanvasRenderingContext2D, svg: SVGSVGElement): void {
  const box = svg.getBoundingClientRect();
  const vb = svg.viewBox.baseVal;
  const sx = vb && vb.width ? box.width / vb.width : 1;
  const sy = vb && vb.height ? box.height / vb.height : 1;
  ctx.save();
  ctx.translate(box.left, box.top);
  ctx.scale(sx, sy);
  const num = (el: Element, name: string) => Number(el.getAttribute(name) ?? 0);
  const paint = (el: SVGElement, shape: () => void, text = false) => {
    const st = getComputedStyle(el);
    if (st.visibility === "hidden" || st.display === "none" || el.getAttribute("visibility") === "hidden") return;
    const fill = opaque(st.fill) && st.fill !== "none" ? st.fill : null;
    const stroke = opaque(st.stroke) && st.stroke !== "none" ? st.stroke : null;
    ctx.globalAlpha = Number(st.opacity) || 1;
    ctx.lineWidth = parseFloat(st.strokeWidth) || 1;
    ctx.setLineDash(st.strokeDasharray && st.strokeDasharray !== "none" ? st.strokeDasharray.split(/[ ,]+/).map(parseFloat) : []);
    if (text) {
      ctx.font = `${st.fontStyle} ${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
      ctx.fillStyle = fill ?? "#000";
      shape();
    } else {
      ctx.beginPath();
      shape();
      if (fill) {
        ctx.fillStyle = fill;
        ctx.fill();
      }
      if (stroke) {
        ctx.strokeStyle = stroke;
        ctx.stroke();
      }
    }
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
  };
  for (const el of svg.querySelectorAll<SVGElement>("line, path, circle, text")) {
    if (el.closest(".tbs-hover-dots") || el.classList.contains("tbs-guide")) continue;
    if (el instanceof SVGLineElement) {
      paint(el, () => {
        ctx.moveTo(num(el, "x1"), num(el, "y1"));
        ctx.lineTo(num(el, "x2"), num(el, "y2"));
      });
    } else if (el instanceof SVGPathElement) {
      const path = new Path2D(el.getAttribute("d") ?? "");
      const st = getComputedStyle(el);
      if (st.visibility === "hidden") continue;
      ctx.globalAlpha = Number(st.opacity) || 1;
      ctx.lineWidth = parseFloat(st.strokeWidth) || 1;
      ctx.lineJoin = "round";
      if (opaque(st.stroke) && st.stroke !== "none") {
        ctx.strokeStyle = st.stroke;
        ctx.stroke(path);
      }
      if (opaque(st.fill) && st.fill !== "none") {
        ctx.fillStyle = st.fill;
        ctx.fill(path);
      }
      ctx.globalAlpha = 1;
    } else if (el instanceof SVGCircleElement) {
      paint(el, () => ctx.arc(num(el, "cx"), num(el, "cy"), num(el, "r"), 0, 2 * Math.PI));
    } else if (el instanceof SVGTextElement) {
      const anchor = el.getAttribute("text-anchor");
      const rotate = /rotate\((-?[\d.]+)\)/.exec(el.getAttribute("transform") ?? "");
      const translate = /translate\((-?[\d.]+)[ ,]+(-?[\d.]+)\)/.exec(el.getAttribute("transform") ?? "");
      paint(
        el,
        () => {
          ctx.save();
          if (translate) ctx.translate(Number(translate[1]), Number(translate[2]));
          if (rotate) ctx.rotate((Number(rotate[1]) * Math.PI) / 180);
          ctx.textAlign = anchor === "middle" ? "center" : anchor === "end" ? "right" : "left";
          ctx.textBaseline = el.getAttribute("dominant-baseline") === "middle" ? "middle" : "alphabetic";
          ctx.fillText(el.textContent ?? "", num(el, "x"), num(el, "y"));
          ctx.restore();
        },
        true,
      );
    }
  }
  ctx.restore();
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
