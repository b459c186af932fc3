// A tiny DOM builder. Text from the logs only ever enters the page as text nodes or attribute values
// set through the DOM; nothing here parses HTML.

type Child = Node | string | number | null | undefined | false;

export interface Props {
  className?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string | number | boolean | null | undefined>;
  style?: Partial<Record<string, string>>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.className) el.className = props.className;
    if (props.text !== undefined) el.textContent = props.text;
    if (props.title !== undefined) el.title = props.title;
    if (props.attrs) {
      for (const [name, value] of Object.entries(props.attrs)) {
        if (value === null || value === undefined || value === false) continue;
        el.setAttribute(name, value === true ? "" : String(value));
      }
    }
    if (props.style) {
      for (const [name, value] of Object.entries(props.style)) if (value !== undefined) el.style.setProperty(name, value);
    }
    if (props.on) {
      for (const [name, handler] of Object.entries(props.on)) el.addEventListener(name, handler as EventListener);
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replaceChildren(el: Node, ...children: Child[]): void {
  clear(el);
  append(el, ...children);
}

let nextId = 0;
/** A page-unique id for <label for> and aria references. */
export function uid(prefix: string): string {
  return `tbs-${prefix}-${nextId++}`;
}

/** A canvas holding RGBA pixels at their own size; CSS decides how large it shows. */
export function pixelCanvas(pixels: Uint8ClampedArray, width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (ctx && width > 0 && height > 0) ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels), width, height), 0, 0);
  return canvas;
}
