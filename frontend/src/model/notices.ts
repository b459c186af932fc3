// What a card says about the steps TensorBoard holds, from /steps' `written` and `sampling`: how many
// steps sampling dropped (and the flag that keeps them, only when a limit applies), and that steps
// were logged more than once (a resumed run), which is not sampling and needs no flag.

/** A notice as text runs; `code` runs show as code. */
export type Run = { text: string } | { code: string };

export interface Notice {
  kind: "sampling" | "relogged" | "loading";
  runs: Run[];
}

export interface StepCounts {
  written: { frames: number; steps: number };
  sampling: { limit: number | null; stored: number };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function stepNotices(counts: StepCounts, flag: string): Notice[] {
  const { frames, steps } = counts.written;
  const { limit, stored } = counts.sampling;
  const notices: Notice[] = [];
  if (steps > stored) {
    if (limit !== null) {
      notices.push({
        kind: "sampling",
        runs: [
          { text: `Showing ${stored} of ${plural(steps, "logged step")}: TensorBoard keeps ${plural(limit, "step")} of each saliency tag. Start it with ` },
          { code: flag },
          { text: " to keep them all." },
        ],
      });
    } else {
      notices.push({ kind: "loading", runs: [{ text: `TensorBoard has loaded ${stored} of the ${plural(steps, "step")} logged so far.` }] });
    }
  }
  if (frames > steps) {
    const extra = frames - steps;
    notices.push({
      kind: "relogged",
      runs: [
        {
          text:
            `${plural(extra, "frame")} logged a step that was already logged (a run resumed from a checkpoint, or frames ` +
            "logged without global_step): each step shows its newest frame. Nothing was dropped by sampling.",
        },
      ],
    });
  }
  return notices;
}
