// What a new user sees before any saliency data exists: exactly how to log a first map.

import { h } from "../dom";

export const SNIPPET = [
  "from tb_saliency import SummaryWriter",
  'writer = SummaryWriter("runs/exp1")',
  'writer.add_saliency("probe", model, images, target=labels, methods=["gradient", "gradcam"], layer="layer4", global_step=step)',
].join("\n");

export function emptyState(): HTMLElement {
  return h(
    "section",
    { className: "tbs-empty", attrs: { "aria-labelledby": "tbs-empty-title" } },
    h("h2", { attrs: { id: "tbs-empty-title" }, text: "No saliency data was found." }),
    h("p", null, "Log saliency maps from your PyTorch training loop with tb_saliency's drop-in ", h("code", { text: "SummaryWriter" }), ":"),
    h("pre", { className: "tbs-snippet" }, h("code", { text: SNIPPET })),
    h(
      "p",
      null,
      "Then point TensorBoard at the log directory (",
      h("code", { text: "tensorboard --logdir runs" }),
      ") and reload. ",
      h("code", { text: "layer" }),
      " names the module that CAM methods such as gradcam explain; gradient methods need none.",
    ),
  );
}
