// What a card says in words: its notices, a step's wall time, and an error as the card shows it.

import { ApiError } from "../api";
import { h } from "../dom";
import type { Notice } from "../model/notices";

export function noticeElement(n: Notice): HTMLElement {
  return h(
    "div",
    { className: `tbs-notice tbs-${n.kind}`, attrs: { role: "note" } },
    ...n.runs.map((r) => ("code" in r ? h("code", { text: r.code }) : r.text)),
  );
}

export function formatWallTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return "";
  const d = new Date(seconds * 1000);
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function message(e: unknown): string {
  // The backend's own errors for a frame start with the phrase the card already says.
  if (e instanceof Error && !(e instanceof ApiError)) return e.message.replace(/^this frame cannot be shown: /, "");
  // A 404 for something the step list named a moment ago means the run changed on disk since.
  if (e instanceof ApiError && e.status === 404) return `${e.message} (the run may have been deleted or rewritten; press Refresh)`;
  return e instanceof Error ? e.message : String(e);
}
