// The dashboard's stylesheet, injected as one <style> element (TensorBoard's CSP allows inline
// styles; it allows no external stylesheet or font). Palette and spacing follow TensorBoard's own.

export const CSS = `
:root { color-scheme: light; }
html, body { margin: 0; height: 100%; }
.tbs-root {
  --tbs-accent: #f57c00; --tbs-accent-2: #ff7043; --tbs-text: #212121; --tbs-muted: #616161;
  --tbs-faint: #9e9e9e; --tbs-border: #ebebeb; --tbs-bg: #f5f6f7; --tbs-card: #fff; --tbs-error: #c62828;
  font-family: Roboto, "Helvetica Neue", Helvetica, Arial, sans-serif; font-size: 13px; color: var(--tbs-text);
  display: flex; height: 100vh; background: var(--tbs-bg); accent-color: var(--tbs-accent);
}
.tbs-root [hidden] { display: none !important; }
.tbs-root *, .tbs-root *::before, .tbs-root *::after { box-sizing: border-box; }
.tbs-sidebar { width: 300px; min-width: 240px; flex: none; overflow-y: auto; background: #fff;
  border-right: 1px solid var(--tbs-border); padding: 12px 16px 24px; }
.tbs-main { flex: 1; overflow-y: auto; padding: 16px 20px 40px; min-width: 0; }
.tbs-section { border-bottom: 1px solid var(--tbs-border); padding: 10px 0 14px; }
.tbs-section:last-child { border-bottom: 0; }
.tbs-section h2 { font-size: 12px; font-weight: 500; text-transform: uppercase; letter-spacing: .04em;
  color: var(--tbs-muted); margin: 4px 0 10px; }
.tbs-field { display: flex; align-items: center; gap: 8px; margin: 6px 0; }
.tbs-field > label:first-child { flex: 0 0 96px; color: var(--tbs-muted); }
.tbs-field select, .tbs-field input[type=number] { flex: 1; min-width: 0; font: inherit; padding: 3px 4px;
  border: 1px solid #ccc; border-radius: 3px; background: #fff; color: inherit; }
.tbs-field input[type=range] { flex: 1; min-width: 0; }
.tbs-field output { width: 38px; text-align: right; color: var(--tbs-muted); font-variant-numeric: tabular-nums; }
.tbs-filter { width: 100%; font: inherit; padding: 6px 8px; border: 1px solid #ccc; border-radius: 3px; margin: 2px 0 4px; }
.tbs-filter:focus, .tbs-field select:focus { outline: 2px solid var(--tbs-accent); outline-offset: -1px; border-color: transparent; }
.tbs-filter.tbs-invalid { border-color: var(--tbs-error); background: #ffebee; }
.tbs-filter-error { color: var(--tbs-error); font-size: 12px; min-height: 0; margin: 0 0 6px; word-break: break-word; }
.tbs-runs { list-style: none; margin: 4px 0 0; padding: 0; max-height: 280px; overflow-y: auto; }
.tbs-runs li { display: flex; align-items: center; gap: 6px; padding: 3px 0; }
.tbs-runs label { display: flex; align-items: center; gap: 6px; cursor: pointer; min-width: 0; flex: 1; }
.tbs-run-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tbs-swatch { width: 12px; height: 12px; border-radius: 50%; flex: none; display: inline-block; }
.tbs-muted { color: var(--tbs-muted); }
.tbs-small { font-size: 12px; }
.tbs-row { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.tbs-button { font: inherit; font-weight: 500; color: var(--tbs-accent); background: transparent; border: 1px solid #ddd;
  border-radius: 4px; padding: 5px 12px; cursor: pointer; text-transform: uppercase; font-size: 12px; letter-spacing: .03em; }
.tbs-button:hover { background: #fff3e0; }
.tbs-button:focus-visible { outline: 2px solid var(--tbs-accent); }
.tbs-toolbar { display: flex; align-items: center; gap: 12px; margin-bottom: 12px; color: var(--tbs-muted); }
.tbs-toolbar .tbs-spacer { flex: 1; }
.tbs-group { margin-bottom: 24px; }
.tbs-group > h3 { font-size: 15px; font-weight: 500; margin: 0 0 10px; display: flex; gap: 10px; align-items: baseline; }
.tbs-group > h3 .tbs-kind { font-size: 11px; font-weight: 400; color: var(--tbs-muted); border: 1px solid var(--tbs-border);
  border-radius: 10px; padding: 1px 8px; text-transform: uppercase; letter-spacing: .04em; }
.tbs-cards { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.tbs-card { background: var(--tbs-card); border: 1px solid var(--tbs-border); border-radius: 4px; padding: 12px 14px;
  box-shadow: 0 1px 2px rgba(0,0,0,.06); max-width: 100%; min-width: 280px; min-height: 160px; }
/* The grid alone sets a card's width; notices, titles and the slider wrap or stretch to it. */
.tbs-card > .tbs-step, .tbs-card > div:not(.tbs-card-head):not(.tbs-body) { width: 0; min-width: 100%; }
.tbs-card:focus-visible { outline: 2px solid var(--tbs-accent); outline-offset: 1px; }
.tbs-card-head { display: flex; align-items: center; gap: 8px; margin-bottom: 6px; }
.tbs-card-title { font-weight: 500; overflow-wrap: anywhere; }
.tbs-card-sub { color: var(--tbs-muted); font-size: 12px; overflow-wrap: anywhere; margin-bottom: 4px; }
.tbs-step { display: flex; align-items: center; gap: 10px; margin: 6px 0 8px; font-size: 12px; color: var(--tbs-muted); }
.tbs-step input[type=range] { flex: 1; min-width: 80px; }
.tbs-step strong { color: var(--tbs-text); font-weight: 500; font-variant-numeric: tabular-nums; }
.tbs-notice { background: #fff3e0; border-left: 3px solid var(--tbs-accent); padding: 6px 10px; margin: 6px 0; font-size: 12px; }
.tbs-notice code { white-space: nowrap; }
.tbs-notice code, .tbs-empty code { font-family: "Roboto Mono", Menlo, Consolas, monospace; font-size: 12px; }
.tbs-error { color: var(--tbs-error); background: #ffebee; border-left: 3px solid var(--tbs-error); padding: 6px 10px;
  margin: 6px 0; font-size: 12px; overflow-wrap: anywhere; white-space: pre-wrap; }
.tbs-loading { color: var(--tbs-faint); padding: 20px 0; font-size: 12px; }
.tbs-grid { border-collapse: separate; border-spacing: 6px 6px; margin: 0 -6px; }
.tbs-grid th { font-weight: 500; text-align: left; vertical-align: bottom; font-size: 12px; }
.tbs-grid thead th { padding-bottom: 2px; }
.tbs-grid td { padding: 0; vertical-align: top; }
.tbs-col-key { display: block; overflow-wrap: anywhere; }
.tbs-col-sub { display: block; font-weight: 400; color: var(--tbs-muted); font-size: 11px; overflow-wrap: anywhere; }
.tbs-rowlabel { font-weight: 400 !important; font-size: 12px; color: var(--tbs-muted); min-width: 92px; max-width: 140px;
  vertical-align: top !important; border-left: 3px solid transparent; padding-left: 6px !important; line-height: 1.5; }
.tbs-rowlabel b { color: var(--tbs-text); font-weight: 500; }
.tbs-rowlabel .tbs-v { color: var(--tbs-text); overflow-wrap: anywhere; }
tr.tbs-wrong .tbs-rowlabel { border-left-color: var(--tbs-error); }
.tbs-wrongmark { color: var(--tbs-error); font-weight: 500; }
.tbs-tile { display: inline-flex; gap: 2px; cursor: zoom-in; border-radius: 2px; line-height: 0; background: #fafafa; }
.tbs-tile:focus-visible { outline: 2px solid var(--tbs-accent); outline-offset: 1px; }
.tbs-tile canvas { display: block; background: #eee; }
.tbs-fit canvas { width: 128px; height: auto; }
.tbs-pixelated canvas, canvas.tbs-pixelated { image-rendering: pixelated; }
.tbs-colorbar { display: grid; grid-template-columns: auto 56px auto; justify-content: start; gap: 4px; align-items: center; font-size: 10px;
  color: var(--tbs-muted); font-weight: 400; margin-top: 3px; font-variant-numeric: tabular-nums; }
.tbs-colorbar canvas { width: 56px; height: 8px; image-rendering: auto; border-radius: 1px; display: block; }
.tbs-readout { font-size: 11px; color: var(--tbs-muted); min-height: 16px; margin-top: 4px; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.tbs-channels { display: flex; flex-wrap: wrap; gap: 4px; max-width: 620px; }
.tbs-channel { position: relative; line-height: 0; }
.tbs-channel canvas { width: 56px; height: 56px; display: block; }
.tbs-channel span { position: absolute; left: 2px; top: 2px; line-height: 1; font-size: 10px; background: rgba(0,0,0,.6);
  color: #fff; padding: 1px 3px; border-radius: 2px; }
.tbs-empty { max-width: 760px; margin: 40px auto; background: #fff; border: 1px solid var(--tbs-border); border-radius: 4px; padding: 24px 28px; }
.tbs-empty h2 { font-size: 18px; font-weight: 500; margin: 0 0 10px; }
.tbs-empty pre { background: #f5f5f5; border: 1px solid var(--tbs-border); border-radius: 3px; padding: 12px 14px;
  white-space: pre-wrap; overflow-wrap: anywhere; font-family: "Roboto Mono", Menlo, Consolas, monospace; font-size: 12px; line-height: 1.6; }
.tbs-dialog { border: 0; border-radius: 6px; padding: 0; max-width: 96vw; max-height: 94vh; box-shadow: 0 8px 32px rgba(0,0,0,.3); }
.tbs-dialog::backdrop { background: rgba(0,0,0,.4); }
.tbs-dialog-body { padding: 16px 20px 20px; font-family: Roboto, "Helvetica Neue", Helvetica, Arial, sans-serif; font-size: 13px; color: #212121; }
.tbs-dialog-head { display: flex; align-items: center; gap: 12px; margin-bottom: 12px; }
.tbs-dialog-head h2 { font-size: 16px; font-weight: 500; margin: 0; flex: 1; overflow-wrap: anywhere; }
.tbs-tabs { display: flex; gap: 4px; border-bottom: 1px solid #ebebeb; margin-bottom: 12px; }
.tbs-tabs button { font: inherit; background: none; border: 0; border-bottom: 2px solid transparent; padding: 6px 12px; cursor: pointer;
  color: #616161; text-transform: uppercase; font-size: 12px; font-weight: 500; }
.tbs-tabs button[aria-selected=true] { color: #f57c00; border-bottom-color: #f57c00; }
.tbs-figures { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
.tbs-figure { margin: 0; display: flex; flex-direction: column; gap: 6px; }
.tbs-figure figcaption { font-size: 12px; color: #616161; overflow-wrap: anywhere; max-width: 320px; }
.tbs-strip { display: flex; gap: 8px; overflow-x: auto; padding-bottom: 6px; }
.tbs-strip canvas { width: 128px; height: auto; }
`;

export function injectStyles(doc: Document): void {
  if (doc.getElementById("tbs-styles")) return;
  const style = doc.createElement("style");
  style.id = "tbs-styles";
  style.textContent = CSS;
  doc.head.appendChild(style);
}
