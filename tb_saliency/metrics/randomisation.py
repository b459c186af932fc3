"""The model-parameter randomisation test (Adebayo et al. 2018): do the maps change when the weights
they claim to explain are destroyed?"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn

from tb_saliency.attribution.checks import check_module
from tb_saliency.attribution.engine import check_call, explain, map_entries
from tb_saliency.attribution.forward import run_model
from tb_saliency.attribution.layers import resolve_layers
from tb_saliency.attribution.progress import resolve as resolve_progress
from tb_saliency.attribution.safety import untouched
from tb_saliency.attribution.token_kind import TOKENIZER_ONLY_KEYS
from tb_saliency.value_checks import check_bool, check_choice, check_int

from .ranks import average_ranks, pearson
from .results import RandomisationResult

ORDERS = ("cascading", "independent")


def randomisation(
    model,
    inputs,
    methods,
    *,
    target=None,
    layer=None,
    order="cascading",
    absolute=True,
    layers=None,
    reinit_seed=0,
    original=None,
    progress=None,
    **options,
) -> RandomisationResult:
    """The model-parameter randomisation test (Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim 2018,
    "Sanity Checks for Saliency Maps", NeurIPS).

    On a deep copy of the model (the model itself is never modified), the parameterised layers are
    re-initialised one after another, from the output back: cumulatively (order="cascading", the
    paper's cascading randomisation) or one at a time with the others original ("independent").
    After each stage the maps of `methods` are computed with the engine (`explain`) on the same
    inputs and targets, and compared with the original model's by the Spearman rank correlation per
    sample, ρ = Pearson correlation of the ranks of the map's values (ties get their average rank),
    computed on |map| by default (`absolute`), at the map's own resolution (a CAM at its layer's,
    not upsampled: interpolated pixels would add correlated values of their own). A method that
    passes the sanity check gives low correlations once the layers it depends on are random.

    Args:
        model, inputs, methods, layer, **options: as for `attribute`: the engine's methods, the CAM
            layer(s) and method options. `layer` is looked up by name in the copy (a module given
            is turned into its name), so a CAM layer may itself be randomised. The engine's `seed`
            (SmoothGrad noise, the 'uniform' baseline) is the same at every stage, so the noise does
            not differ between the models: seed=None draws one seed for all stages (recorded); a
            `generator` is refused, since each stage would draw different noise from it.
        target: as for `attribute`. The classes are fixed on the original model (target=None: its
            prediction on the clean inputs) and the randomised models explain those same classes,
            as in the paper; a callable target is applied to each model's own outputs.
        order: "cascading" (default) or "independent".
        absolute: True (default): correlate |map| (the paper's "absolute value" panels, Quantus's
            default); False: the raw signed maps (the paper's "no absolute value" panels).
        layers: None (default): every module that owns parameters (`parameters(recurse=False)`),
            has a `reset_parameters()` method and runs in a forward pass of `inputs`, ordered by when
            it last finishes in that pass, the last first. Other parameterised modules are listed in
            `.skipped` with the reason. Or a list of modules of the model or their dotted names, each
            with parameters and `reset_parameters()`, randomised in the given order.
        reinit_seed: an int ≥ 0. Layer i of `model.named_modules()` is re-initialised by its own
            `reset_parameters()`, on the CPU, with the CPU's default generator seeded with
            reinit_seed + i, then moved back to its device: a layer gets the same weights whatever
            the order and the device. The generator's state is saved before and restored right
            after, so the global RNG is as it was; no other device's generator is used.
        original: None, or the `Explanation` that `explain` gave for this model, inputs and arguments:
            its maps are the original model's, instead of computing them again (log_saliency passes
            the maps it logs, so the cascade starts from exactly those).
        progress: None (default: when stderr is a terminal or in a notebook), True or False: a tqdm
            bar over the stages (one per randomised layer); the passes of each stage's methods draw
            bars of their own that clear when the stage ends. Never on a rank other than zero.

    Cost: one deep copy of the model, a forward pass to find the layers (when `layers` is None), and
    per layer one `explain` of `methods` (gradient and the gradient CAMs: one forward and backward
    pass of the batch; smoothgrad and integrated gradients: one per copy; Score-CAM: one forward
    pass per channel), besides the original maps unless `original` gives them.

    Returns a `RandomisationResult`: per key, correlations L×N, the original maps and each stage's
    maps (L×N×h×w), the layer order, the targets and every option used; tensors on the inputs' device.
    The model's parameters, buffers, .grad, modes, hooks and the global RNG are left exactly as they
    were. Memory: one deep copy of the model.
    """
    shown = resolve_progress(progress)
    chosen = check_randomisable(model, layers, options)
    # The engine's checks, once: a DDP or DataParallel wrapper runs as its module (its forward would
    # call collectives), and layer names of the wrapper ("module.layer4") still resolve.
    call = check_call(model, inputs, methods, target=target, layer=layer, **options)
    model, methods, x = call.model, call.methods, call.inputs
    if isinstance(inputs, Mapping):
        x = inputs  # a token batch: every stage's explain takes the batch itself
    layer_names = [name for name, _ in call.layers] or None
    order = check_choice("order", order, ORDERS)
    absolute = check_bool("absolute", absolute)
    reinit_seed = check_int("reinit_seed", reinit_seed, 0)

    if original is not None and set(original.maps) != {key for key, _, _ in map_entries(methods, call.layers)}:
        raise ValueError(
            f"original: expected the explanation of methods {methods}, got one of maps {sorted(original.maps)}"
        )
    with untouched(model):
        first = original if original is not None else explain(model, x, methods, target=target, layer=layer_names,
                                                              progress=shown.inner(), **options)
        stage_options = dict(options)
        seeds = [m.options["seed"] for m in first.maps.values() if m.options.get("seed") is not None]
        if "seed" in options and options["seed"] is None and seeds:
            stage_options["seed"] = seeds[0]
        stage_target = first.targets if first.targets is not None else target

        clone = _deep_copy(model)
    # The stages touch only the copy: the user's model is free again (a training thread waits no longer).
    with untouched(clone):
        positions = {name: i for i, (name, _) in enumerate(clone.named_modules())}
        modules = dict(clone.named_modules())
        if chosen is None:
            names, skipped = _discover(clone, x)
        else:
            names, skipped = chosen, {}
        if not names:
            raise ValueError(
                "layers: the model has no module that owns parameters, has reset_parameters() and runs in the "
                f"forward pass, so nothing can be randomised (skipped: {skipped or 'none'})"
            )

        original = {key: m.values for key, m in first.maps.items()}
        stages = {key: [] for key in original}
        correlations = {key: [] for key in original}
        reference = {key: average_ranks((v.abs() if absolute else v).flatten(1)) for key, v in original.items()}
        saved = None
        stage_ranges = ((stage, stage + 1) for stage in range(len(names)))
        for stage, _ in shown.ranges(stage_ranges, len(names), "randomisation's stages"):
            name = names[stage]
            module = modules[name]
            if order == "independent" and saved is not None:
                previous, state = saved
                previous.load_state_dict(state)
            if order == "independent":
                saved = (module, {k: v.clone() for k, v in module.state_dict().items()})
            _reinitialise(name, module, reinit_seed + positions[name])
            result = explain(clone, x, methods, target=stage_target, layer=layer_names, progress=shown.inner(),
                             **stage_options)
            for key, m in result.maps.items():
                stages[key].append(m.values)
                b = m.values.abs() if absolute else m.values
                correlations[key].append(pearson(reference[key], average_ranks(b.flatten(1))).to(b.dtype))
    del clone

    return RandomisationResult(
        layers=tuple(names),
        order=order,
        correlations={key: torch.stack(values) for key, values in correlations.items()},
        original=original,
        maps={key: torch.stack(values) for key, values in stages.items()},
        targets=first.targets,
        skipped=skipped,
        options={
            "order": order,
            "absolute": absolute,
            "similarity": "spearman, average ranks for ties",
            "reinit": "reset_parameters() on the CPU, seeded",
            "reinit_seed": reinit_seed,
            "layer_seeds": {name: reinit_seed + positions[name] for name in names},
            "layer_selection": "given" if chosen is not None else "parameterised, reset_parameters(), forward order",
            "methods": {key: m.options for key, m in first.maps.items()},
        },
    )


def check_randomisable(model, layers, options) -> list | None:
    """What the test refuses of a call beyond the engine's checks, before any map is computed: a
    noise generator (each stage needs the same noise) and `layers` that the model (or the module its
    wrapper holds) lacks or cannot re-initialise. The names of the layers given, or None for every
    parameterised layer that runs (found as the model runs)."""
    if options.get("generator") is not None:
        raise ValueError(
            "generator: randomisation runs the engine once per stage and needs the same noise at each; "
            "give seed (an int, or None for one fresh seed shared by all stages) instead"
        )
    return None if layers is None else _chosen_layers(check_module(model), layers, wrapper=model)


def _chosen_layers(model: nn.Module, layers, wrapper) -> list:
    if isinstance(layers, (list, tuple)) and not layers:
        raise ValueError("layers: expected at least one layer to randomise, got an empty list")
    raw = {module: name for name, module in model.named_modules()}
    names = []
    for name, module in resolve_layers(model, layers, needed=True, methods=["randomisation"], wrapper=wrapper,
                                       argument="layers"):
        if not callable(getattr(module, "reset_parameters", None)):
            raise ValueError(
                f"layers: {name!r} ({type(module).__name__}) has no reset_parameters() method, so it cannot be "
                "re-initialised; choose modules such as Conv2d, Linear or BatchNorm2d"
            )
        if next(module.parameters(), None) is None:
            raise ValueError(f"layers: {name!r} ({type(module).__name__}) has no parameters to randomise")
        names.append(raw[module])
    return names


def _deep_copy(model: nn.Module) -> nn.Module:
    try:
        return copy.deepcopy(model)
    except Exception as error:  # a module holding something that cannot be copied (a lock, a file)
        raise TypeError(
            f"model: randomisation works on a deep copy of the model, and copy.deepcopy failed: {error}"
        ) from error


def _discover(model: nn.Module, x):
    """(names to randomise, output first; {skipped name: reason}) for the modules that own parameters."""
    owners = [(name, m) for name, m in model.named_modules() if next(m.parameters(recurse=False), None) is not None]
    finished = {}
    counter = [0]
    handles = []

    def make_hook(name):
        def hook(module, args, output):
            finished[name] = counter[0]  # the last time it finishes counts
            counter[0] += 1

        return hook

    try:
        for name, module in owners:
            handles.append(module.register_forward_hook(make_hook(name)))
        with torch.no_grad():
            if isinstance(x, Mapping):
                model(**{k: v for k, v in x.items() if k not in TOKENIZER_ONLY_KEYS})
            else:
                run_model(model, x)
    finally:
        for handle in handles:
            handle.remove()
    skipped = {}
    ran = []
    for name, module in owners:
        label = name or "(the model itself)"
        if not callable(getattr(module, "reset_parameters", None)):
            skipped[label] = "no reset_parameters() method"
        elif name not in finished:
            skipped[label] = "did not run in the forward pass"
        elif name == "":
            skipped[label] = "the model itself (its reset_parameters() would reset every layer at once)"
        else:
            ran.append(name)
    ran.sort(key=lambda name: finished[name], reverse=True)
    return ran, skipped


def _reinitialise(name: str, module: nn.Module, seed: int) -> None:
    """module.reset_parameters() on the CPU under the CPU generator seeded with `seed`, restored after."""
    devices = {t.device for t in list(module.parameters()) + list(module.buffers())}
    if len(devices) > 1:
        raise ValueError(
            f"layers: {name!r} holds tensors on several devices ({', '.join(sorted(map(str, devices)))}); "
            "randomise modules whose parameters share one device"
        )
    device = devices.pop() if devices else torch.device("cpu")
    state = torch.get_rng_state()
    try:
        module.to("cpu")
        torch.default_generator.manual_seed(seed)  # not torch.manual_seed: it would seed every CUDA device too
        module.reset_parameters()
        module.to(device)
    finally:
        torch.set_rng_state(state)
