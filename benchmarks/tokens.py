"""Token integrated gradients: tb_saliency against captum's LayerIntegratedGradients, side by side.

    python benchmarks/tokens.py [--repeats 7] [--steps 32] [--threads N]

One tiny BertForSequenceClassification built from a config (nothing downloaded), one right-padded
batch with special tokens, one target per sample. Reported per implementation: the median wall time
over interleaved rounds, and the median ratio to the compute floor, steps × the unit (one forward and
backward pass of the batch with gradients at the word embeddings, median of 3, timed right before
each case). The largest difference between the two maps is printed first.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from tb_saliency.attribution import attribute  # noqa: E402

BATCH, LENGTH, VOCAB, PAD, CLS, SEP = 16, 48, 1000, 0, 1, 2


def build():
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=128, max_position_embeddings=64, num_labels=4,
                                     pad_token_id=PAD)
    model = transformers.BertForSequenceClassification(config).eval()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, VOCAB, (BATCH, LENGTH), generator=g)
    lengths = torch.randint(LENGTH // 2, LENGTH + 1, (BATCH,), generator=g)
    positions = torch.arange(LENGTH)[None, :]
    ids[:, 0] = CLS
    ids[torch.arange(BATCH), lengths - 1] = SEP
    ids[positions >= lengths[:, None]] = PAD
    attention = (positions < lengths[:, None]).long()
    special = ((ids == CLS) | (ids == SEP)).long()
    return model, {"input_ids": ids, "attention_mask": attention, "special_tokens_mask": special}


def one_pass(model, batch, target):
    """One forward and backward pass of the batch, gradients at the word embeddings: the floor's unit."""
    layer = model.get_input_embeddings()
    store = {}

    def hook(module, args, output):
        store["e"] = output.detach().requires_grad_(True)
        return store["e"]

    handle = layer.register_forward_hook(hook)
    try:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    finally:
        handle.remove()
    torch.autograd.grad(logits.gather(1, target[:, None]).sum(), store["e"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch's intra-op threads (default: torch's own); on a loaded machine 1 is steadier")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from captum.attr import LayerIntegratedGradients

    model, batch = build()
    target = torch.arange(BATCH) % 4
    keep = batch["special_tokens_mask"].bool() | (batch["attention_mask"] == 0)
    baseline_ids = torch.where(keep, batch["input_ids"], torch.full_like(batch["input_ids"], PAD))
    lig = LayerIntegratedGradients(lambda ids, mask: model(input_ids=ids, attention_mask=mask).logits,
                                   model.get_input_embeddings())

    def ours():
        return attribute(model, batch, "integrated_gradients", target=target, ig_steps=args.steps)[
            "integrated_gradients"]

    def captum():
        return lig.attribute(batch["input_ids"], baseline_ids, target=target, n_steps=args.steps,
                             method="gausslegendre",
                             additional_forward_args=(batch["attention_mask"],)).sum(-1).detach()

    theirs = captum()
    difference = float((ours() - theirs).abs().max())
    scale = float(theirs.abs().max())
    names = ("tb_saliency", "captum LayerIntegratedGradients")
    times = {name: [] for name in names}
    ratios = {name: [] for name in names}
    units = []
    for _ in range(args.repeats):
        for name, fn in zip(names, (ours, captum)):
            # The unit is timed right before each case, so that load on a shared machine hits both alike.
            unit = []
            for _ in range(3):
                start = time.perf_counter()
                one_pass(model, batch, target)
                unit.append(time.perf_counter() - start)
            units.append(statistics.median(unit))
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
            times[name].append(elapsed)
            ratios[name].append(elapsed / (args.steps * units[-1]))
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads; BERT 2×64, batch {BATCH}×{LENGTH} tokens, {args.steps} steps, "
          f"{args.repeats} rounds")
    print(f"max |tb_saliency − captum| = {difference:.2e} (maps up to {scale:.2e})")
    print(f"unit (one forward+backward of the batch to the embeddings): median {statistics.median(units):.4f} s")
    print("| implementation | median s | median × floor (steps × unit) |")
    print("| --- | --- | --- |")
    for name in names:
        print(f"| {name} | {statistics.median(times[name]):.3f} | {statistics.median(ratios[name]):.2f} |")

if __name__ == "__main__":
    main()
