"""The deletion and insertion games (Petsiuk et al. 2018, RISE): how fast the class score falls as
the most salient pixels are removed, or rises as they are put back."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F

from tb_saliency.attribution.baselines import BASELINE, BLUR_SIGMA, check_blur_sigma_use, make_baseline
from tb_saliency.attribution.checks import check_inputs_match_model, check_module
from tb_saliency.attribution.engine import seeded_generator
from tb_saliency.attribution.forward import run_model
from tb_saliency.attribution.options import OPTIONS
from tb_saliency.attribution.passes import chunk_ranges, copies_per_chunk
from tb_saliency.attribution.progress import resolve as resolve_progress
from tb_saliency.attribution.reductions import accumulation_dtype
from tb_saliency.attribution.safety import untouched
from tb_saliency.attribution.targets import Scorer, check_target, find_logits
from tb_saliency.targets import Target
from tb_saliency.value_checks import check_bool, check_choice, check_int

from .checks import check_images, check_maps
from .memory import ActivationMeter
from .results import PerturbationCurve

SCORES = ("probability", "raw")
# 64 MiB: on a 2-core CPU a batch of 16 RGB 48×48 images through the benchmarks' conv net outputs
# 50 MiB of activations, and stacking two such copies per pass made each row about 15 % slower
# than one copy per pass (benchmarks/README.md); smaller batches still stack. On a GPU a larger bound
# saves launches.
DEFAULT_MEMORY_LIMIT = 64 * 2**20


def deletion(
    model,
    inputs,
    maps,
    *,
    target=None,
    steps=20,
    baseline="zeros",
    blur_sigma=None,
    seed=0,
    score=None,
    relative=False,
    memory_limit=DEFAULT_MEMORY_LIMIT,
    progress=None,
    baseline_token=None,
    tokenizer=None,
) -> PerturbationCurve:
    """The deletion game (Petsiuk, Das & Saenko 2018, "RISE: Randomized Input Sampling for Explanation
    of Black-box Models", BMVC): remove the most salient pixels first and watch the score fall.

    Each map is upsampled bilinearly (align_corners=False) to the input's H×W and its pixels ordered
    by value, highest first, ties by pixel index (row-major; a stable sort). At step k = 0..steps the
    first ⌊k·H·W/steps⌋ pixels, all channels, are replaced by the baseline's; curve[:, k] is the
    softmax probability of the target class on that input (k = 0: the clean input; k = steps: the
    baseline). The AUC is the trapezoidal rule over k/steps in [0, 1]: lower is better.

    Args:
        model: a torch.nn.Module returning N×C class scores (logits); it runs in eval mode under
            no_grad and is left exactly as it was (parameters, buffers, .grad, modes, hooks, RNG).
        inputs: a floating-point batch N×C×H×W (or N×H×W).
        maps: N×h×w saliency maps (N×1×h×w accepted), tensor or array, any resolution; or a dict
            {key: such maps}, as `tb_saliency.attribute` returns, scored together: the clean and the
            baseline passes are shared, and the perturbed copies of every map stack into the same
            passes.
        target: None (the class predicted on the clean inputs), an int, N ints, a target of
            `tb_saliency.targets` (`classes(ids)` as ids; `box_score` for a detector, `segment` for
            a segmentation model: what they choose on the clean inputs scores every step), or a
            callable outputs -> Tensor[N]; the same classes score every step. A callable target's
            output has no softmax: it needs score="raw", and then is the curve itself (return a
            probability from it, e.g. `lambda out: out.softmax(1)[:, 3]`, to keep Petsiuk's curve).
        steps: steps after the clean input (≥ 1); the curve has steps + 1 points.
        baseline: what deleted pixels become: "zeros" (default, Petsiuk's deletion), "blur" (a
            Gaussian blur of the input), "uniform" (uniform noise over each sample's [min, max]), a
            number, or a tensor broadcastable to the inputs: the engine's integrated-gradients baselines.
        blur_sigma: σ in pixels of the "blur" baseline; None: a tenth of the larger image side.
        seed: seeds the "uniform" baseline's own generator (the global RNG is never used); None
            draws a fresh seed (recorded in `options`).
        score: "probability" (the softmax probability of the target class) or "raw" (the target's
            pre-softmax score, or the callable's output); None (default): "raw" for a target of
            `tb_saliency.targets` other than `classes` (a box or segment score has no softmax), else
            "probability".
        relative: False (default, Petsiuk's curve) or True: every point divided by the clean input's
            probability, so that the curves of a model with confidence 0.99 and of one with 0.4 (early
            in training) compare: 1 means the score is untouched. With score="probability" only. A
            relative curve is computed in float64, where a probability rounds to 0 only once its
            logit trails the largest by about 745 (float32: 104); a clean probability of 0 is an error
            naming the samples.
        memory_limit: bytes of activations one forward pass of stacked perturbed copies may hold,
            measured on the clean pass (the sizes of every module's outputs, summed); at least one
            copy of the batch runs per pass. 64 MiB by default; on a GPU a larger bound saves launches.
        progress: None (default: when stderr is a terminal or in a notebook), True or False: a tqdm
            bar over the perturbed copies of the batch, never on a rank other than zero (see
            `tb_saliency.attribute`).
        baseline_token, tokenizer: token batches (`inputs` a dict with "input_ids", maps N×T): the
            token id that replaced tokens become (default the config's pad_token_id; `baseline` is
            not used), and the tokenizer whose special ids are never replaced (as is padding); see
            `tb_saliency.metrics.token_perturbation`. `pixels` is then N×(steps+1) tokens.

    Cost: forward passes only (no backward), of 2 + M·(steps - 1) copies of the batch for M maps (the
    clean input and the baseline once, shared by all maps; each map's interior steps), stacked into
    as few passes as `memory_limit` allows.

    Returns a `PerturbationCurve` (curve N×(steps+1), auc N, on the inputs' device; float32, or
    float64 for float64 inputs); for a dict of maps, {key: PerturbationCurve}.
    """
    if isinstance(inputs, Mapping):
        return _token_game("deletion", model, inputs, maps, target=target, steps=steps, baseline_token=baseline_token,
                           tokenizer=tokenizer, score=score, relative=relative)
    _no_token_options(baseline_token, tokenizer)
    return _game("deletion", model, inputs, maps, target, steps, baseline, blur_sigma, seed, score, relative,
                 memory_limit, progress)


def insertion(
    model,
    inputs,
    maps,
    *,
    target=None,
    steps=20,
    baseline="blur",
    blur_sigma=None,
    seed=0,
    score=None,
    relative=False,
    memory_limit=DEFAULT_MEMORY_LIMIT,
    progress=None,
    baseline_token=None,
    tokenizer=None,
) -> PerturbationCurve:
    """The insertion game (Petsiuk, Das & Saenko 2018, RISE, BMVC): start from the baseline and put
    the most salient pixels back first; watch the score rise.

    As `deletion`, except that at step k the first ⌊k·H·W/steps⌋ pixels in saliency order, all
    channels, are taken from the input onto the baseline (k = 0: the baseline; k = steps: the clean
    input), and the default baseline is "blur" (Petsiuk's blurred canvas). Higher AUC is better.
    Arguments and result as for `deletion`.
    """
    if isinstance(inputs, Mapping):
        return _token_game("insertion", model, inputs, maps, target=target, steps=steps, baseline_token=baseline_token,
                           tokenizer=tokenizer, score=score, relative=relative)
    _no_token_options(baseline_token, tokenizer)
    return _game("insertion", model, inputs, maps, target, steps, baseline, blur_sigma, seed, score, relative,
                 memory_limit, progress)


def _token_game(kind, model, inputs, maps, **options):
    from .token_perturbation import token_game

    keyed = isinstance(maps, Mapping)
    if keyed and not maps:
        raise ValueError("maps: expected one map per sample, or a dict {key: maps}; got an empty dict")
    curves = token_game(kind, model, inputs, maps if keyed else {None: maps}, **options)
    return curves if keyed else curves[None]


def _no_token_options(baseline_token, tokenizer):
    for name, value in (("baseline_token", baseline_token), ("tokenizer", tokenizer)):
        if value is not None:
            raise ValueError(f"{name}: only for token batches (a dict with input_ids), got image inputs")


def resolve_score(score, target, target_spec):
    """`score` checked; None is "raw" for a target of tb_saliency.targets (box and segment scores have
    no softmax) and "probability" for the rest."""
    if score is None:
        score = "raw" if target_spec[0] == "callable" and isinstance(target, Target) else "probability"
    return check_choice("score", score, SCORES)


def _game(kind, model, inputs, maps, target, steps, baseline, blur_sigma, seed, score, relative, memory_limit,
          progress):
    # A DDP or DataParallel wrapper runs as its module: its own forward would call collectives that
    # rank zero, logging alone, cannot make.
    model = check_module(model)
    x = check_images(inputs)
    check_inputs_match_model(model, x)
    keyed = isinstance(maps, Mapping)
    if keyed:
        if not maps:
            raise ValueError("maps: expected one map per sample, or a dict {key: maps}; got an empty dict")
        maps = {key: check_maps(value, x.shape[0], f"maps[{key!r}]") for key, value in maps.items()}
    else:
        maps = {None: check_maps(maps, x.shape[0])}
    steps = check_int("steps", steps, 1)
    baseline = BASELINE.check("baseline", baseline)
    blur_sigma = BLUR_SIGMA.check("blur_sigma", blur_sigma)
    check_blur_sigma_use(baseline, blur_sigma)
    seed = OPTIONS["seed"].check("seed", seed)
    target_spec = check_target(target)
    score = resolve_score(score, target, target_spec)
    relative = check_bool("relative", relative)
    if relative and score != "probability":
        raise ValueError("relative: divides by the clean input's probability, so it needs score='probability', "
                         f"got score={score!r}")
    memory_limit = check_int("memory_limit", memory_limit, 1)
    shown = resolve_progress(progress)
    if target_spec[0] == "callable" and score == "probability":
        raise ValueError(
            "score: a callable target gives one score per sample, which has no softmax probability; pass "
            "score='raw' to use the callable's output as the curve (return a probability from it to keep "
            "Petsiuk's curve, e.g. lambda outputs: outputs.softmax(1)[:, c])"
        )

    n, height, width = x.shape[0], x.shape[-2], x.shape[-1]
    dtype = accumulation_dtype(x)
    generator = None
    if isinstance(baseline, str) and baseline == "uniform":  # the only baseline that draws noise
        generator, seed = seeded_generator(seed, x.device)
    x0, baseline_record = make_baseline(baseline, x, blur_sigma=blur_sigma, generator=generator)
    ranks = torch.stack([pixel_ranks(m.to(x.device), (height, width)) for m in maps.values()])
    pixels = torch.arange(steps + 1, device=x.device) * (height * width) // steps
    # Both ends of every curve are map-independent: the clean input, and the baseline (every pixel
    # deleted, or none inserted). Only the steps between depend on the map.
    clean_at, baseline_at = (0, steps) if kind == "deletion" else (steps, 0)
    interior = steps - 1
    # The perturbed rows, stacked into passes: the baseline once, then each map's interior steps.
    row_map_list = [0] + [index for index in range(len(maps)) for _ in range(interior)]
    row_pixels = torch.cat([pixels[baseline_at : baseline_at + 1], pixels[1:steps].repeat(len(maps))])

    with untouched(model, gradients=False):
        meter = ActivationMeter()
        meter.add(x)
        with meter.measuring(model):
            outputs = run_model(model, x)
        scorer = Scorer(target_spec, outputs, n)
        # A relative curve divides by the clean probability, which float32 rounds to 0 once a logit
        # trails the largest by about 104: in float64 that takes a gap of about 745.
        value_dtype = torch.float64 if relative else dtype
        read = _reader(scorer, score, outputs, n, value_dtype)
        clean = read(outputs, 1)
        if relative and bool((clean == 0).any()):
            samples = (clean == 0).nonzero().flatten().tolist()
            raise ValueError(
                f"relative: the target class has probability 0 on the clean input of sample(s) {samples[:10]} "
                "(its logit trails the largest by over 700), so no curve can be relative to it; explain the "
                "predicted class (target=None) or pass relative=False"
            )

        total = len(row_map_list)
        chunk = copies_per_chunk(meter.bytes, memory_limit, total, scorer.max_copies)
        channel_axis = (slice(None), slice(None), None) if x.dim() == 4 else (slice(None), slice(None))
        keep, put = (x, x0) if kind == "deletion" else (x0, x)
        row_values = torch.empty(total, n, dtype=value_dtype, device=x.device)
        for start, stop in shown.ranges(chunk_ranges(total, chunk), total, f"{kind}'s perturbed copies"):
            # masked[k, n, pixel]: row k has deleted (inserted) the pixel. Compared row by row, so that
            # no copy of the ranks (8 bytes a pixel) is made beside the inputs the memory bound counts.
            masked = torch.empty(stop - start, n, height * width, dtype=torch.bool, device=x.device)
            for k, row in enumerate(range(start, stop)):
                torch.lt(ranks[row_map_list[row]], row_pixels[row], out=masked[k])
            masked = masked.view(stop - start, n, height, width)
            rows = torch.where(masked[channel_axis], put.unsqueeze(0), keep.unsqueeze(0))
            where = f"in {kind}'s perturbed rows {start}–{stop - 1}"
            outputs = run_model(model, rows.reshape(-1, *x.shape[1:]), where=where)
            row_values[start:stop] = read(outputs, stop - start).view(stop - start, n)

    options = {
        "steps": steps,
        "score": score,
        "relative": relative,
        "order": "descending, ties by pixel index",
        "memory_limit": memory_limit,
        "copies_per_pass": chunk,
        "model_mode": "eval",
        **baseline_record,
    }
    if baseline_record["baseline"] == "uniform":
        options["seed"] = seed
    curves = {}
    for index, (key, map_values) in enumerate(maps.items()):
        curve = torch.empty(n, steps + 1, dtype=value_dtype, device=x.device)
        curve[:, clean_at] = clean
        curve[:, baseline_at] = row_values[0]
        curve[:, 1:steps] = row_values[1 + index * interior : 1 + (index + 1) * interior].t()
        if relative:
            curve = curve / clean.unsqueeze(1)
        curves[key] = PerturbationCurve(
            kind=kind,
            curve=curve,
            auc=torch.trapezoid(curve, dx=1.0 / steps, dim=1),
            pixels=pixels,
            targets=scorer.targets,
            options={
                **options,
                "upsampling": "bilinear, align_corners=False"
                if tuple(map_values.shape[1:]) != (height, width) else "none",
                "map_size": [int(map_values.shape[1]), int(map_values.shape[2])],
            },
        )
    return curves if keyed else curves[None]


def pixel_ranks(maps: torch.Tensor, size) -> torch.Tensor:
    """rank[n, p]: the position of pixel p (row-major) of map n, upsampled to `size`, when the pixels
    are sorted by value, highest first, ties by pixel index. long N×(H·W)."""
    values = upsample(maps, size).flatten(1)
    order = torch.argsort(values, dim=1, descending=True, stable=True)
    rank = torch.empty_like(order)
    positions = torch.arange(order.shape[1], device=order.device).expand_as(order)
    return rank.scatter_(1, order, positions)


def upsample(maps: torch.Tensor, size) -> torch.Tensor:
    """N×h×w maps as floats at `size`, bilinearly (align_corners=False); unchanged values at their own size."""
    dtype = torch.float64 if maps.dtype == torch.float64 else torch.float32
    maps = maps.to(dtype)
    if tuple(maps.shape[1:]) == tuple(size):
        return maps
    return F.interpolate(maps[:, None], size=tuple(size), mode="bilinear", align_corners=False)[:, 0]


def _reader(scorer, score, outputs, n, dtype):
    """outputs of `copies` stacked copies -> the curve's value per row, Tensor[copies * N]. The class
    scores are the outputs' logits (a tensor, a ModelOutput's or dict's "logits", a tuple's first)."""
    if score == "raw":
        return lambda out, copies: scorer(out, copies).detach().to(dtype)
    logits = find_logits(outputs)
    if scorer.targets is None or logits is None or logits.dim() != 2:
        shape = tuple(logits.shape) if logits is not None else type(outputs).__name__
        raise ValueError(
            f"score: 'probability' needs class scores shaped N×C from the model, it returned {shape}; "
            "use score='raw' (the model's own score)"
        )
    targets = scorer.targets

    def read(out, copies):
        probabilities = torch.softmax(find_logits(out).to(dtype).view(copies, n, -1), dim=2)
        return probabilities.gather(2, targets.view(1, n, 1).expand(copies, n, 1)).reshape(copies * n)

    return read
