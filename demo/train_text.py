"""Trains a tiny transformer on generated sentences and a 1-D conv net on pulses (CPU, under two
minutes) and logs where each looks as it learns.

    python demo/train_text.py                 # writes runs/demo_text/{text,signal}, then: tensorboard --logdir runs
    python demo/train_text.py --steps 40      # shorter (or TB_SALIENCY_DEMO_STEPS=40)

Text: each sentence is filler words and one keyword ("good" or "bad") at a random place, and the
keyword alone decides the class; the right answer of the token pointing game is known. Signals: a
noisy trace holds one pulse, and whether it sits in the first or the second half decides the class.
Every few steps the saliency of a fixed probe set is logged, so that the tab shows the maps moving
onto the keyword and the pulse. The built-in metrics do not take token or signal masks yet, so the
demo scores the maps itself and writes scalars: `text/keyword_share` (the keyword's share of each
map's total), `text/pointing_game` (is the strongest token the keyword?) and `signal/pulse_share`.
"""

import argparse
import os
import pathlib
import random
import sys
import time

import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tb_saliency import SummaryWriter  # noqa: E402

KEYWORDS = ("good", "bad")
FILLER = ("the", "movie", "was", "very", "plot", "actor", "scene", "long", "and", "it", "a", "film", "story",
          "music", "ending", "quite")
# "[PAD]" never appears in a sentence: its embedding is integrated gradients' baseline token.
VOCABULARY = ("[PAD]",) + KEYWORDS + FILLER
WORDS = 8
METHODS = ["gradient", "integrated_gradients"]
SAMPLE_RATE = 100.0
LENGTH = 128  # samples per signal
PULSE_WIDTH = 6


def sentences(count, rng):
    """(input_ids N×WORDS, keyword positions N, labels N)."""
    ids, positions, labels = [], [], []
    for _ in range(count):
        label = rng.randrange(len(KEYWORDS))
        words = [rng.choice(FILLER) for _ in range(WORDS - 1)]
        position = rng.randrange(WORDS)
        words.insert(position, KEYWORDS[label])
        ids.append([VOCABULARY.index(w) for w in words])
        positions.append(position)
        labels.append(label)
    return torch.tensor(ids), torch.tensor(positions), torch.tensor(labels)


class TinyTransformer(nn.Module):
    """Token and position embeddings, one encoder layer, mean pooling, a linear head."""

    def __init__(self, vocabulary=len(VOCABULARY), width=32, classes=len(KEYWORDS)):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, width)
        self.positions = nn.Parameter(torch.zeros(1, WORDS, width))
        self.encoder = nn.TransformerEncoderLayer(width, nhead=2, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.head = nn.Linear(width, classes)

    def get_input_embeddings(self):  # where tb_saliency takes the token gradients
        return self.tokens

    def forward(self, input_ids, attention_mask=None):
        hidden = self.encoder(self.tokens(input_ids) + self.positions[:, :input_ids.shape[1]])
        return self.head(hidden.mean(dim=1))


def pulses(count, generator):
    """(signals N×1×LENGTH, pulse masks N×LENGTH, labels N): the pulse's half is the class."""
    labels = torch.randint(0, 2, (count,), generator=generator)
    half = LENGTH // 2
    starts = torch.randint(0, half - PULSE_WIDTH, (count,), generator=generator) + labels * half
    time_index = torch.arange(LENGTH)[None, :]
    masks = (time_index >= starts[:, None]) & (time_index < starts[:, None] + PULSE_WIDTH)
    signals = 0.3 * torch.randn(count, LENGTH, generator=generator) + masks.float()
    return signals[:, None, :], masks, labels


class PulseNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 8, 7, padding=3), nn.ReLU(), nn.Conv1d(8, 16, 7, padding=3),
                                      nn.ReLU())
        self.head = nn.Linear(16 * LENGTH, 2)  # position-aware: the half decides the class

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def share(maps, masks):
    """Each sample's share of |map| on the mask, averaged."""
    values = maps.abs()
    return float(((values * masks).sum(1) / values.sum(1).clamp_min(1e-12)).mean())


def train_text(writer, steps, every, rng):
    train_ids, _, train_labels = sentences(2048, rng)
    probe_ids, probe_positions, probe_labels = sentences(6, rng)
    probe = {"input_ids": probe_ids, "attention_mask": torch.ones_like(probe_ids)}
    probe_tokens = [[VOCABULARY[i] for i in row] for row in probe_ids.tolist()]
    keyword_masks = nn.functional.one_hot(probe_positions, WORDS).float()
    model = TinyTransformer()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shares = []
    for step in range(1, steps + 1):
        index = torch.randint(0, len(train_ids), (64,))
        loss = nn.functional.cross_entropy(model(train_ids[index]), train_labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        writer.add_scalar("text/loss", loss.item(), step)
        if step == 1 or step % every == 0 or step == steps:
            maps = writer.add_saliency("text", model, probe, methods=METHODS, tokens=probe_tokens,
                                       target=probe_labels, labels=probe_labels, class_names=list(KEYWORDS),
                                       ig_steps=16, baseline_token=0, global_step=step)
            for key, values in maps.items():
                writer.add_scalar(f"text/keyword_share/{key}", share(values, keyword_masks), step)
                pointing = (values.abs().argmax(1) == probe_positions).float().mean().item()
                writer.add_scalar(f"text/pointing_game/{key}", pointing, step)
            shares.append(share(maps["integrated_gradients"], keyword_masks))
    return shares


def train_signal(writer, steps, every, generator):
    train_signals, _, train_labels = pulses(2048, generator)
    probe_signals, probe_masks, probe_labels = pulses(6, generator)
    model = PulseNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shares = []
    for step in range(1, steps + 1):
        index = torch.randint(0, len(train_signals), (64,), generator=generator)
        loss = nn.functional.cross_entropy(model(train_signals[index]), train_labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        writer.add_scalar("signal/loss", loss.item(), step)
        if step == 1 or step % every == 0 or step == steps:
            maps = writer.add_saliency("signal", model, probe_signals, methods=["input_x_gradient", "gradient"],
                                       sample_rate=SAMPLE_RATE, target=probe_labels, labels=probe_labels,
                                       class_names=["early", "late"], global_step=step)
            for key, values in maps.items():
                writer.add_scalar(f"signal/pulse_share/{key}", share(values, probe_masks.float()), step)
            shares.append(share(maps["input_x_gradient"], probe_masks.float()))
    return shares


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/demo_text", help="run directory (default runs/demo_text)")
    parser.add_argument("--steps", type=int, default=int(os.environ.get("TB_SALIENCY_DEMO_STEPS", 300)),
                        help="training steps of each model (default 300, or $TB_SALIENCY_DEMO_STEPS)")
    parser.add_argument("--every", type=int, default=None, help="log saliency every N steps (default steps/10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    every = args.every or max(1, args.steps // 10)

    torch.manual_seed(args.seed)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    started = time.monotonic()
    with SummaryWriter(os.path.join(args.logdir, "text")) as writer:
        text = train_text(writer, args.steps, every, random.Random(args.seed))
    with SummaryWriter(os.path.join(args.logdir, "signal")) as writer:
        signal = train_signal(writer, args.steps, every, torch.Generator().manual_seed(args.seed))
    print(f"keyword share of the integrated-gradients maps: {text[0]:.2f} → {text[-1]:.2f}\n"
          f"pulse share of the input×gradient maps:         {signal[0]:.2f} → {signal[-1]:.2f}\n"
          f"Done in {time.monotonic() - started:.0f}s. Now run:\n\n    tensorboard --logdir "
          f"{pathlib.Path(args.logdir).parent} --samples_per_plugin=saliency=0\n\nand open the Saliency tab.",
          file=sys.stderr)


if __name__ == "__main__":
    main()
