// The dashboard's stylesheet, injected as one <style> element (TensorBoard's CSP allows inline styles;
// it allows no external stylesheet or font). Palette, spacing and controls follow TensorBoard's own
// Material look; [data-theme=dark] switches every colour to TensorBoard's dark palette.

export const CSS = `
html, body { margin: 0; height: 100%; }
.tbs-root {
  --tbs-accent: #f57c00; --tbs-accent-weak: #ffa726; --tbs-accent-bg: #fff3e0;
  --tbs-text: #212121; --tbs-muted: #616161; --tbs-faint: #9e9e9e;
  --tbs-border: #ebebeb; --tbs-control-line: #8e98a3; --tbs-bg: #f5f5f5; --tbs-card: #fff; --tbs-surface: #fff;
  --tbs-hover: rgba(0,0,0,.06); --tbs-tile-bg: #eee; --tbs-shadow: 0 1px 2px rgba(0,0,0,.12);
  --tbs-error: #c62828; --tbs-error-bg: #ffebee; --tbs-notice-bg: #fff3e0; --tbs-code-bg: #f5f5f5;
  --tbs-tooltip-bg: rgba(33,33,33,.92); --tbs-tooltip-text: #fff;
  font-family: Roboto, "Helvetica Neue", Helvetica, Arial, sans-serif; font-size: 13px; color: var(--tbs-text);
  display: flex; height: 100vh; background: var(--tbs-bg); accent-color: var(--tbs-accent);
}
.tbs-root[data-theme=dark] {
  --tbs-accent: #ef6c00; --tbs-accent-weak: #ffa726; --tbs-accent-bg: rgba(255,167,38,.14);
  --tbs-text: rgba(255,255,255,.87); --tbs-muted: rgba(255,255,255,.6); --tbs-faint: rgba(255,255,255,.38);
  --tbs-border: #555; --tbs-control-line: #8e98a3; --tbs-bg: #3a3a3a; --tbs-card: #303030; --tbs-surface: #303030;
  --tbs-hover: rgba(255,255,255,.08); --tbs-tile-bg: #424242; --tbs-shadow: 0 1px 2px rgba(0,0,0,.5);
  --tbs-error: #ef9a9a; --tbs-error-bg: rgba(239,83,80,.16); --tbs-notice-bg: rgba(255,167,38,.12); --tbs-code-bg: #424242;
  --tbs-tooltip-bg: rgba(250,250,250,.95); --tbs-tooltip-text: #212121;
  color-scheme: dark;
}
.tbs-root [hidden], .tbs-tooltip[hidden] { display: none !important; }
.tbs-root *, .tbs-root *::before, .tbs-root *::after { box-sizing: border-box; }
.tbs-sidebar { width: 288px; min-width: 240px; flex: none; overflow-y: auto; background: var(--tbs-surface);
  border-right: 1px solid var(--tbs-border); padding: 8px 16px 24px; }
.tbs-main { flex: 1; overflow-y: auto; padding: 12px 16px 40px; min-width: 0; }
.tbs-section { border-bottom: 1px solid var(--tbs-border); padding: 10px 0 14px; }
.tbs-section:last-child { border-bottom: 0; }
.tbs-section h2 { font-size: 12px; font-weight: 500; text-transform: uppercase; letter-spacing: .04em; color: var(--tbs-muted); margin: 4px 0 10px; }
.tbs-field { display: flex; align-items: center; gap: 8px; margin: 8px 0; }
.tbs-field > label:first-child { flex: 0 0 96px; color: var(--tbs-muted); }
.tbs-field select, .tbs-field input[type=number], .tbs-field input[type=text] { flex: 1; min-width: 0; font: inherit; color: inherit;
  padding: 4px 2px; border: 0; border-bottom: 1px solid var(--tbs-control-line); border-radius: 0; background: transparent; }
.tbs-field select option, .tbs-field select optgroup { background: var(--tbs-surface); color: var(--tbs-text); }
.tbs-field select:focus, .tbs-field input:focus, .tbs-filter:focus { outline: none; border-bottom: 2px solid var(--tbs-accent); padding-bottom: 3px; }
.tbs-field input[type=range] { flex: 1; min-width: 0; }
.tbs-field input[type=checkbox] { width: 18px; height: 18px; margin: 0; flex: none; }
.tbs-check label { cursor: pointer; }
.tbs-field output { width: 38px; text-align: right; color: var(--tbs-muted); font-variant-numeric: tabular-nums; }
.tbs-filter { width: 100%; font: inherit; color: inherit; padding: 6px 2px; border: 0; border-bottom: 1px solid var(--tbs-control-line);
  background: transparent; margin: 2px 0 4px; }
.tbs-invalid, .tbs-filter.tbs-invalid { border-bottom-color: var(--tbs-error) !important; background: var(--tbs-error-bg); }
.tbs-filter-error { color: var(--tbs-error); font-size: 12px; margin: 0 0 6px; word-break: break-word; }
.tbs-filter-error:empty { display: none; }
.tbs-runs { list-style: none; margin: 4px 0 0; padding: 0; max-height: 280px; overflow-y: auto; }
.tbs-runs li { display: flex; align-items: center; gap: 6px; padding: 3px 0; }
.tbs-runs label { display: flex; align-items: center; gap: 8px; cursor: pointer; min-width: 0; flex: 1; }
.tbs-runs input[type=checkbox] { width: 18px; height: 18px; margin: 0; flex: none; }
.tbs-run-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tbs-run-error { color: var(--tbs-error); font-weight: 700; padding: 0 4px; cursor: help; }
.tbs-swatch { width: 12px; height: 12px; border-radius: 50%; flex: none; display: inline-block; }
.tbs-muted { color: var(--tbs-muted); }
.tbs-small { font-size: 12px; }
.tbs-row { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.tbs-spacer { flex: 1; }
.tbs-button { font: inherit; font-weight: 500; color: var(--tbs-accent); background: transparent; border: 0; border-radius: 4px;
  padding: 6px 10px; cursor: pointer; text-transform: uppercase; font-size: 12px; letter-spacing: .04em; }
.tbs-button:hover, .tbs-icon-button:hover { background: var(--tbs-hover); }
.tbs-button:focus-visible, .tbs-icon-button:focus-visible, .tbs-group-toggle:focus-visible { outline: 2px solid var(--tbs-accent); outline-offset: 1px; }
.tbs-icon-button { display: inline-flex; align-items: center; justify-content: center; width: 28px; height: 28px; padding: 0; border: 0;
  border-radius: 50%; background: transparent; color: var(--tbs-muted); cursor: pointer; flex: none; }
.tbs-icon-button[disabled] { opacity: .35; cursor: default; background: transparent; }
.tbs-icon-button[aria-pressed=true] { color: var(--tbs-accent); }
.tbs-icon { width: 18px; height: 18px; fill: currentColor; display: block; }
.tbs-toolbar { display: flex; align-items: center; gap: 12px; margin-bottom: 8px; color: var(--tbs-muted); font-size: 12px; }
.tbs-alerts .tbs-error { margin: 0 0 8px; }
.tbs-group { margin-bottom: 16px; background: var(--tbs-card); border: 1px solid var(--tbs-border); border-radius: 4px; }
.tbs-group-head { font-size: 14px; font-weight: 500; margin: 0; padding: 4px 8px; display: flex; gap: 8px; align-items: center;
  border-bottom: 1px solid var(--tbs-border); position: sticky; top: -12px; background: var(--tbs-card); z-index: 2; border-radius: 4px 4px 0 0; }
.tbs-collapsed .tbs-group-head { border-bottom: 0; }
.tbs-group-toggle { border: 0; background: transparent; color: var(--tbs-muted); width: 28px; height: 28px; border-radius: 50%; cursor: pointer;
  display: inline-flex; align-items: center; justify-content: center; padding: 0; }
.tbs-group-toggle:hover { background: var(--tbs-hover); }
.tbs-group-toggle .tbs-icon { transition: transform .15s; }
.tbs-collapsed .tbs-group-toggle .tbs-icon { transform: rotate(-90deg); }
.tbs-group-name { overflow-wrap: anywhere; }
.tbs-group-count { font-size: 12px; font-weight: 400; color: var(--tbs-muted); }
.tbs-pager { display: inline-flex; align-items: center; gap: 2px; font-size: 12px; font-weight: 400; color: var(--tbs-muted); }
.tbs-page-text { margin-right: 6px; font-variant-numeric: tabular-nums; }
.tbs-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 420px), 1fr)); gap: 12px; padding: 12px; align-items: start; }
.tbs-card { background: var(--tbs-card); border: 1px solid var(--tbs-border); border-radius: 4px; padding: 8px 12px 10px; min-width: 0;
  box-shadow: var(--tbs-shadow); min-height: 120px; }
.tbs-card-wide { grid-column: 1 / -1; }
.tbs-card:focus-visible { outline: 2px solid var(--tbs-accent); outline-offset: 1px; }
.tbs-card-head { display: flex; align-items: flex-start; gap: 8px; }
.tbs-card-titles { flex: 1; min-width: 0; }
.tbs-card-title { font-weight: 500; overflow-wrap: anywhere; line-height: 20px; }
.tbs-card-run { display: flex; align-items: center; gap: 6px; color: var(--tbs-muted); font-size: 12px; overflow-wrap: anywhere; min-width: 0; }
.tbs-card-actions { display: flex; gap: 0; margin: -2px -6px 0 0; }
.tbs-card-sub { color: var(--tbs-muted); font-size: 12px; overflow-wrap: anywhere; margin-top: 2px; }
.tbs-step { display: flex; align-items: center; gap: 8px; margin: 4px 0; font-size: 12px; color: var(--tbs-muted); }
.tbs-step input[type=range] { flex: 1; min-width: 60px; }
.tbs-step strong { color: var(--tbs-text); font-weight: 500; font-variant-numeric: tabular-nums; min-width: 2ch; }
.tbs-walltime { white-space: nowrap; }
.tbs-notice { background: var(--tbs-notice-bg); border-left: 3px solid var(--tbs-accent); padding: 6px 10px; margin: 4px 0; font-size: 12px; }
.tbs-notice code { white-space: nowrap; }
.tbs-notice code, .tbs-empty code { font-family: "Roboto Mono", Menlo, Consolas, monospace; font-size: 12px; }
.tbs-error { color: var(--tbs-error); background: var(--tbs-error-bg); border-left: 3px solid var(--tbs-error); padding: 6px 10px;
  margin: 4px 0; font-size: 12px; overflow-wrap: anywhere; white-space: pre-wrap; }
.tbs-loading { color: var(--tbs-faint); padding: 16px 0; font-size: 12px; }
.tbs-placeholder { max-height: 2400px; }
.tbs-body { min-width: 0; }
.tbs-grid-wrap { overflow-x: auto; }
.tbs-grid { border-collapse: separate; border-spacing: 3px; margin: 0 -3px; }
.tbs-grid.tbs-fit { table-layout: fixed; width: calc(100% + 6px); }
.tbs-grid.tbs-fit col.tbs-label-col, .tbs-grid.tbs-fit thead th:first-child { width: 84px; }
.tbs-card-wide .tbs-grid.tbs-fit thead th:first-child { width: 110px; }
.tbs-grid th { font-weight: 500; text-align: left; vertical-align: bottom; font-size: 12px; }
.tbs-grid td { padding: 0; vertical-align: top; }
.tbs-col-key { display: block; overflow-wrap: anywhere; }
.tbs-col-sub { display: block; font-weight: 400; color: var(--tbs-muted); font-size: 11px; overflow-wrap: anywhere; }
.tbs-rowlabel { font-weight: 400 !important; font-size: 11px; color: var(--tbs-muted); vertical-align: top !important;
  border-left: 3px solid transparent; padding-left: 5px !important; line-height: 1.45; overflow-wrap: anywhere; }
.tbs-rowlabel b { color: var(--tbs-text); font-weight: 500; }
.tbs-rowlabel .tbs-v { color: var(--tbs-text); }
tr.tbs-wrong .tbs-rowlabel { border-left-color: var(--tbs-error); }
.tbs-wrongmark { color: var(--tbs-error); font-weight: 500; }
.tbs-grid-wrap { position: relative; }
.tbs-grid-canvas { position: absolute; left: 0; top: 0; pointer-events: none; }
.tbs-grid-wrap > table { position: relative; }
.tbs-tile-box { position: relative; }
.tbs-tile { position: relative; display: block; cursor: zoom-in; border-radius: 2px; line-height: 0; }
.tbs-tile:focus-visible { outline: 2px solid var(--tbs-accent); outline-offset: 1px; }
.tbs-fit .tbs-tile { width: 100%; max-width: 320px; }
.tbs-native .tbs-tile { display: inline-block; }
.tbs-tile canvas { display: block; }
.tbs-big canvas { width: 100%; height: auto; }
.tbs-big .tbs-tile.tbs-has-input .tbs-layer { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
.tbs-big.tbs-view-overlay .tbs-has-input .tbs-layer { opacity: var(--tbs-opacity, .5); }
.tbs-big.tbs-view-heatmap .tbs-has-input .tbs-under { visibility: hidden; }
.tbs-big.tbs-view-masked .tbs-tile { isolation: isolate; }
.tbs-big.tbs-view-masked .tbs-has-input .tbs-layer { mix-blend-mode: multiply; }
.tbs-big.tbs-view-side .tbs-tile.tbs-has-input { display: flex; gap: 2px; }
.tbs-big.tbs-view-side .tbs-tile.tbs-has-input canvas { position: static; flex: 1 1 0; min-width: 0; }
.tbs-under, .tbs-input canvas { image-rendering: pixelated; }
.tbs-nearest .tbs-layer { image-rendering: pixelated; }
.tbs-tile-range { font-size: 10px; color: var(--tbs-muted); line-height: 14px; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tbs-evo { position: absolute; top: 2px; right: 2px; width: 22px; height: 22px; border: 0; border-radius: 50%; padding: 3px; cursor: pointer;
  background: rgba(0,0,0,.55); color: #fff; opacity: 0; transition: opacity .1s; line-height: 0; }
.tbs-evo .tbs-icon { width: 16px; height: 16px; }
.tbs-tile:hover .tbs-evo, .tbs-tile:focus-within .tbs-evo, .tbs-evo:focus-visible { opacity: 1; }
.tbs-evo:focus-visible { outline: 2px solid var(--tbs-accent); }
.tbs-colorbar { display: grid; grid-template-columns: auto minmax(16px, 56px) auto; justify-content: start; gap: 3px; align-items: center; font-size: 10px;
  color: var(--tbs-muted); font-weight: 400; margin-top: 2px; font-variant-numeric: tabular-nums; }
.tbs-cb { display: block; width: 100%; height: 8px; border-radius: 1px; }
.tbs-cb-permap { grid-template-columns: minmax(16px, 56px); }
.tbs-cb-permap .tbs-cb-lo, .tbs-cb-permap .tbs-cb-hi { display: none; }
.tbs-channels { display: grid; grid-template-columns: repeat(auto-fill, minmax(44px, 1fr)); gap: 3px; }
.tbs-channel { position: relative; line-height: 0; }
.tbs-channel-index { position: absolute; left: 2px; top: 2px; line-height: 1; font-size: 10px; background: rgba(0,0,0,.6);
  color: #fff; padding: 1px 3px; border-radius: 2px; }
.tbs-grid.tbs-activations.tbs-fit thead th:nth-child(2) { width: 72px; }
.tbs-tooltip { position: fixed; z-index: 1000; pointer-events: none; background: var(--tbs-tooltip-bg, rgba(33,33,33,.92)); color: var(--tbs-tooltip-text, #fff);
  font: 11px/1.5 Roboto, "Helvetica Neue", Helvetica, Arial, sans-serif; padding: 4px 8px; border-radius: 4px; max-width: 320px;
  font-variant-numeric: tabular-nums; box-shadow: 0 2px 6px rgba(0,0,0,.3); overflow-wrap: anywhere; }
.tbs-empty { max-width: 760px; margin: 40px auto; background: var(--tbs-card); border: 1px solid var(--tbs-border); border-radius: 4px; padding: 24px 28px; }
.tbs-empty h2 { font-size: 18px; font-weight: 500; margin: 0 0 10px; }
.tbs-empty pre { background: var(--tbs-code-bg); border: 1px solid var(--tbs-border); border-radius: 3px; padding: 12px 14px;
  white-space: pre-wrap; overflow-wrap: anywhere; font-family: "Roboto Mono", Menlo, Consolas, monospace; font-size: 12px; line-height: 1.6; }
.tbs-dialog { border: 0; border-radius: 4px; padding: 0; max-width: 96vw; max-height: 94vh; box-shadow: 0 8px 32px rgba(0,0,0,.3);
  background: var(--tbs-card); color: var(--tbs-text); }
.tbs-dialog::backdrop { background: rgba(0,0,0,.4); }
.tbs-dialog-body { padding: 12px 20px 20px; font-family: Roboto, "Helvetica Neue", Helvetica, Arial, sans-serif; font-size: 13px; }
.tbs-dialog-head { display: flex; align-items: center; gap: 12px; margin-bottom: 4px; }
.tbs-dialog-head h2 { font-size: 16px; font-weight: 500; margin: 0; flex: 1; overflow-wrap: anywhere; }
.tbs-tabs { display: flex; align-items: center; gap: 12px; border-bottom: 1px solid var(--tbs-border); margin-bottom: 12px; }
.tbs-tabs [role=tablist] { display: flex; gap: 4px; }
.tbs-tabs button { font: inherit; background: none; border: 0; border-bottom: 2px solid transparent; padding: 8px 12px; cursor: pointer;
  color: var(--tbs-muted); text-transform: uppercase; font-size: 12px; font-weight: 500; letter-spacing: .04em; }
.tbs-tabs button[aria-selected=true] { color: var(--tbs-accent); border-bottom-color: var(--tbs-accent); }
.tbs-keyhelp { margin-left: auto; }
.tbs-figures { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
.tbs-figure { margin: 0; display: flex; flex-direction: column; gap: 6px; align-items: flex-start; }
.tbs-figure figcaption { font-size: 12px; color: var(--tbs-muted); overflow-wrap: anywhere; max-width: 320px; }
.tbs-big { display: block; }
.tbs-scroll { overflow: auto; max-height: calc(94vh - 150px); }
.tbs-grid.tbs-evolution th.tbs-current, .tbs-grid.tbs-compare th.tbs-current { color: var(--tbs-accent); }
.tbs-grid.tbs-evolution .tbs-rowlabel, .tbs-grid.tbs-compare .tbs-rowlabel { min-width: 110px; max-width: 180px; }
.tbs-tile-metrics { font-size: 10px; line-height: 14px; color: var(--tbs-text); font-variant-numeric: tabular-nums; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; cursor: help; }
.tbs-tile-metrics .tbs-miss { color: var(--tbs-error); font-weight: 500; }
.tbs-tile-metrics .tbs-sep { color: var(--tbs-faint); }
.tbs-sortnote { font-size: 11px; color: var(--tbs-muted); margin: 2px 0 4px; overflow-wrap: anywhere; }
.tbs-field.tbs-inline { display: inline-flex; margin: 0; }
.tbs-field.tbs-inline > label:first-child { flex: none; }
.tbs-charts { margin: 4px 0 8px; }
.tbs-charts-head { display: flex; align-items: baseline; gap: 4px; font-size: 12px; flex-wrap: wrap; }
.tbs-charts-title { font-weight: 500; }
.tbs-charts-head .tbs-muted { font-size: 11px; }
.tbs-charts select { font: inherit; font-size: 12px; color: inherit; background: transparent; border: 0; border-bottom: 1px solid var(--tbs-control-line); max-width: 160px; }
.tbs-charts select option { background: var(--tbs-surface); color: var(--tbs-text); }
.tbs-chart-row { display: flex; flex-wrap: wrap; gap: 4px 12px; }
.tbs-chart-box { margin: 0; }
.tbs-chart-title { font-size: 11px; margin: 4px 0 0 4px; overflow-wrap: anywhere; max-width: 280px; }
.tbs-chart { display: block; overflow: visible; font-family: inherit; }
.tbs-chart.tbs-pickable { cursor: pointer; }
.tbs-chart .tbs-gridlines line { stroke: var(--tbs-border); stroke-width: 1; }
.tbs-chart .tbs-axis { stroke: var(--tbs-faint); fill: none; stroke-width: 1; }
.tbs-chart .tbs-ticks text { font-size: 10px; fill: var(--tbs-muted); font-variant-numeric: tabular-nums; }
.tbs-chart .tbs-axis-label text { font-size: 10px; fill: var(--tbs-muted); }
.tbs-chart .tbs-line { fill: none; stroke: var(--tbs-c); stroke-width: 1.5; stroke-linejoin: round; }
.tbs-chart .tbs-emphasis .tbs-line { stroke-width: 2.5; }
.tbs-chart .tbs-series:not(.tbs-emphasis) .tbs-line { opacity: .9; }
.tbs-chart .tbs-pt { fill: var(--tbs-c); stroke: var(--tbs-card); stroke-width: .75; }
.tbs-chart .tbs-hover-dots circle { fill: var(--tbs-c); stroke: var(--tbs-card); stroke-width: 1.5; }
.tbs-chart .tbs-guide, .tbs-chart .tbs-marker, .tbs-chart .tbs-hover-dots { pointer-events: none; }
.tbs-chart .tbs-guide { stroke: var(--tbs-muted); stroke-width: 1; }
.tbs-chart .tbs-marker { stroke: var(--tbs-accent); stroke-width: 1.5; stroke-dasharray: 3 2; }
.tbs-legend { list-style: none; display: flex; flex-wrap: wrap; gap: 2px 12px; margin: 4px 0 0; padding: 0; font-size: 11px; color: var(--tbs-muted); }
.tbs-legend li { display: inline-flex; align-items: center; gap: 5px; overflow-wrap: anywhere; }
.tbs-legend li.tbs-emphasis { color: var(--tbs-text); font-weight: 500; }
.tbs-legend-swatch { width: 12px; height: 3px; border-radius: 1px; background: var(--tbs-c); flex: none; }
.tbs-root { --tbs-c: #425066; }
.tbs-s0 { --tbs-c: #1f77b4; } .tbs-s1 { --tbs-c: #ff7f0e; } .tbs-s2 { --tbs-c: #2ca02c; } .tbs-s3 { --tbs-c: #d62728; } .tbs-s4 { --tbs-c: #9467bd; }
.tbs-s5 { --tbs-c: #8c564b; } .tbs-s6 { --tbs-c: #e377c2; } .tbs-s7 { --tbs-c: #7f7f7f; } .tbs-s8 { --tbs-c: #bcbd22; } .tbs-s9 { --tbs-c: #17becf; }
.tbs-root[data-theme=dark] .tbs-s0 { --tbs-c: #6baed6; } .tbs-root[data-theme=dark] .tbs-s1 { --tbs-c: #fdae6b; } .tbs-root[data-theme=dark] .tbs-s2 { --tbs-c: #74c476; }
.tbs-root[data-theme=dark] .tbs-s3 { --tbs-c: #fb6a4a; } .tbs-root[data-theme=dark] .tbs-s4 { --tbs-c: #b5a3de; } .tbs-root[data-theme=dark] .tbs-s5 { --tbs-c: #c49c94; }
.tbs-root[data-theme=dark] .tbs-s6 { --tbs-c: #f7b6d2; } .tbs-root[data-theme=dark] .tbs-s7 { --tbs-c: #c7c7c7; } .tbs-root[data-theme=dark] .tbs-s8 { --tbs-c: #dbdb8d; }
.tbs-root[data-theme=dark] .tbs-s9 { --tbs-c: #9edae5; }
.tbs-cascade-bar { display: flex; align-items: center; gap: 8px; font-size: 12px; color: var(--tbs-muted); margin: 2px 0 4px; flex-wrap: wrap; }
.tbs-cascade-bar select { font: inherit; color: var(--tbs-text); background: transparent; border: 0; border-bottom: 1px solid var(--tbs-control-line); padding: 2px; }
.tbs-cascade-bar select option { background: var(--tbs-surface); color: var(--tbs-text); }
.tbs-cascade-facts .tbs-v { color: var(--tbs-text); }
.tbs-cascade-caption { font-size: 11px; color: var(--tbs-muted); margin-top: 4px; }
.tbs-grid.tbs-cascade .tbs-rowlabel .tbs-col-sub { font-size: 10px; }
.tbs-metric-list { list-style: none; padding: 0; margin: 0 0 10px; font-size: 12px; color: var(--tbs-text); }
.tbs-metric-list li { margin: 2px 0; overflow-wrap: anywhere; }
.tbs-curves { display: flex; flex-wrap: wrap; gap: 16px 28px; align-items: flex-start; }
.tbs-curves .tbs-chart-title { max-width: 420px; font-size: 12px; }
.tbs-curves .tbs-legend { max-width: 420px; }
.tbs-tokens, .tbs-signals { width: 100%; }
.tbs-seq-cell { width: 100%; }
.tbs-seq-heads { display: flex; flex-wrap: wrap; gap: 4px 16px; }
.tbs-seq-head { display: flex; flex-direction: column; min-width: 140px; }
.tbs-seq-line { margin: 2px 0 8px; }
.tbs-seq-method { display: flex; align-items: center; gap: 4px; font-size: 11px; color: var(--tbs-muted); }
.tbs-seq-method .tbs-evo.tbs-seq-evo { position: static; opacity: .7; width: 18px; height: 18px; padding: 1px; }
.tbs-seq-metrics { font-size: 11px; color: var(--tbs-muted); }
.tbs-text { line-height: 1.9; overflow-wrap: anywhere; max-width: 100%; text-align: start; }
.tbs-tok { unicode-bidi: isolate; padding: 1px 2px; border-radius: 3px; white-space: pre-wrap; cursor: default; }
.tbs-tok-dim { opacity: .45; font-style: italic; background: transparent !important; color: var(--tbs-faint) !important; }
.tbs-tok:hover { outline: 1px solid var(--tbs-accent); }
.tbs-signal { display: flex; flex-direction: column; gap: 4px; }
.tbs-signal-plot { width: 100%; height: 90px; display: block; color: var(--tbs-text); cursor: crosshair; background: var(--tbs-tile-bg); }
.tbs-audio { height: 32px; max-width: 360px; }
.tbs-strip { display: flex; gap: 1px; }
.tbs-strip-cell { flex: 0 0 3.6em; width: 3.6em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 10px;
  padding: 2px 1px; text-align: center; unicode-bidi: isolate; border-radius: 2px; }
.tbs-strip-band { width: 480px; height: 20px; display: block; }
`;

export function injectStyles(doc: Document): void {
  if (doc.getElementById("tbs-styles")) return;
  const style = doc.createElement("style");
  style.id = "tbs-styles";
  style.textContent = CSS;
  doc.head.appendChild(style);
}
