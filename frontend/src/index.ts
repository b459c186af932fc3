// The ES module TensorBoard's plugin_entry.html imports; it calls render() once, with no arguments.

import { App } from "./app";
import { injectStyles } from "./styles";

let app: App | null = null;

export function render(): void {
  if (app) return;
  performance.mark("tbs:render");
  injectStyles(document);
  app = new App(document.body);
  app.start();
}
