"""The `layer` argument: finding modules, capturing their outputs, and shaping them as N×K×h×w."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext

import torch
import torch.nn.functional as F
from torch import nn

from .catalog import CAM_METHODS
from .options import describe

_CONV_LIKE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)


def candidate_layers(model: nn.Module, limit: int = 10) -> list:
    """Names worth suggesting: the convolutions (last ones first) and the top-level children."""
    convs = [plain_name(name) for name, m in model.named_modules() if isinstance(m, _CONV_LIKE)]
    children = [name for name, _ in model.named_children()]
    names = list(dict.fromkeys(list(reversed(convs))[: limit // 2 or 1] + children))
    return names[:limit]


# Layers whose output is a 2-D map (N×K×h×w), the kind a CAM or an activation tile shows.
_SPATIAL_CONVS = (nn.Conv2d, nn.ConvTranspose2d)
# Recorded in a map's options ("layer_selection") when no layer was given, beside the layer's name.
DEFAULT_LAYER = "default: the last 2-D convolution"


def default_layer(model: nn.Module):
    """(name, module) of the layer used when none is given: the last 2-D convolution, which keeps a
    spatial map (the first candidate of `candidate_layers` in a convolutional network); None for a
    model without one, and for a transformer, whose patch embedding is a convolution but whose maps
    live in its token layers (those need layer= and reshape=)."""
    if any(_is_attention(m) for m in model.modules()):
        return None
    convs = [(plain_name(name), m) for name, m in model.named_modules() if isinstance(m, _SPATIAL_CONVS)]
    return convs[-1] if convs else None


def _is_attention(module: nn.Module) -> bool:
    return isinstance(module, (nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)) or (
        "Attention" in type(module).__name__
    )


# What wrappers that keep running around their module (FSDP1's, checkpoint_wrapper's) insert into
# module names: "_fsdp_wrapped_module.layer4" is also found, and named, as "layer4".
_WRAPPER_COMPONENTS = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.")


def plain_name(name: str) -> str:
    for component in _WRAPPER_COMPONENTS:
        name = name.replace(component, "")
    return name


def _one_layer(model: nn.Module, layer, wrapper: nn.Module, argument: str) -> tuple:
    if isinstance(layer, str) and layer and wrapper is not model:
        # A name in the wrapper ("module.layer4") is the module it names, known by its name in the model.
        layer = dict(wrapper.named_modules()).get(layer, layer)
    if isinstance(layer, nn.Module):
        for name, module in model.named_modules():
            if module is layer:
                if name == "":
                    raise ValueError(f"{argument}: the model itself is not a layer; give one of its submodules")
                return plain_name(name), module
        raise ValueError(
            f"{argument}: the given {type(layer).__name__} module is not part of the model; candidate layers: "
            f"{', '.join(candidate_layers(model))}"
        )
    if isinstance(layer, str):
        modules = dict(model.named_modules())
        modules.update({plain_name(name): m for name, m in modules.items() if plain_name(name) not in modules})
        if layer and layer in modules:
            return plain_name(layer), modules[layer]
        close = difflib.get_close_matches(layer, [n for n in modules if n], n=5, cutoff=0.5)
        hint = f"close names: {', '.join(close)}; " if close else ""
        raise ValueError(
            f"{argument}: no module named {layer!r} in the model; {hint}candidate layers: "
            f"{', '.join(candidate_layers(model))}"
        )
    raise TypeError(f"{argument}: expected a module, a dotted module name or a list of them, got {describe(layer)}")


def resolve_layers(model: nn.Module, layer, *, needed: bool, methods, wrapper=None, argument="layer",
                   reshape=None) -> list:
    """[(dotted name in `model`, module)] in the given order. Names may also be those in `wrapper`, a
    DataParallel or DDP wrapper of `model` ("module.layer4" and "layer4" are one layer, named "layer4"),
    and FSDP1 or checkpoint_wrapper components may be left out of them (see `plain_name`)."""
    if layer is None:
        if not needed:
            return []
        if reshape is not None:
            raise ValueError(
                f"layer: reshape={reshape_record(reshape)!r} is for a token layer, which is never the default; name "
                f"the layer (a module or its dotted name); candidate layers: {', '.join(candidate_layers(model))}"
            )
        default = default_layer(model)
        if default is not None:
            return [default]
        users = [m for m in methods if m in CAM_METHODS] or ["activations"]
        verb = "needs" if len(users) == 1 else "need"
        why = (
            "a transformer's maps are in its token layers, given with reshape= ('vit', 'tokens' or a callable)"
            if any(_is_attention(m) for m in model.modules())
            else "the model has no 2-D convolution to default to"
        )
        raise ValueError(
            f"layer: {', '.join(users)} {verb} a layer (a module or its dotted name); {why}; "
            f"candidate layers: {', '.join(candidate_layers(model))}"
        )
    if not needed:
        raise ValueError(
            f"layer: none of the requested methods ({', '.join(methods)}) uses a layer; "
            f"layers are for {', '.join(sorted(CAM_METHODS))}"
        )
    layers = list(layer) if isinstance(layer, (list, tuple)) else [layer]
    if not layers:
        raise ValueError("layer: expected at least one layer, got an empty list")
    resolved = [_one_layer(model, item, model if wrapper is None else wrapper, argument) for item in layers]
    names = [name for name, _ in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"{argument}: each layer may be given once, got {names}")
    return resolved


@contextmanager
def capture(layers, *, graph_from_layers: bool = False, need_grad: bool = False):
    """Record each layer's output during a forward pass; the hooks are always removed on exit.

    The module's output is kept and a clone goes on downstream, so that an in-place operation after
    the layer (ReLU(inplace=True)) cannot overwrite the captured activations or their autograd node.
    While gradients are on, a captured output that does not require grad (a frozen model whose graph
    starts at another layer, a branch that does not depend on the inputs) becomes a leaf: nothing
    that requires grad is upstream of it, so no other captured layer is either.

    With `graph_from_layers`, the body runs under no_grad and the first layer to run turns gradients
    back on, its output becoming a leaf: when only gradients with respect to the layers are wanted,
    nothing upstream of them needs an autograd graph. The grad mode is restored on exit.

    With `need_grad` (the layers' gradients will be taken), a layer that runs where the model itself
    turned gradients off is an error, not a silent zero map.
    """
    store = {name: [] for name, _ in layers}
    handles = []
    switched_on = []

    def differentiable(name, output):
        if graph_from_layers and not switched_on and not torch.is_grad_enabled():
            torch.set_grad_enabled(True)
            switched_on.append(name)
        if need_grad and not torch.is_grad_enabled():
            raise _gradients_off(name)
        if torch.is_grad_enabled() and not output.requires_grad:
            output = output.detach().requires_grad_(True)
        return output

    def make_hook(name):
        def hook(module, args, output):
            if _is_levels(output):
                # An FPN's dict of levels: each level is captured (and passed on) as a tensor output is.
                levels = {key: differentiable(name, level) if level.is_floating_point() else level
                          for key, level in output.items()}
                store[name].append(type(output)(levels.items()))
                return type(output)((key, level.clone()) for key, level in levels.items())
            if not isinstance(output, torch.Tensor):
                store[name].append(output)
                return None
            if output.is_floating_point():
                output = differentiable(name, output)
            store[name].append(output)
            return output.clone()

        return hook

    try:
        for name, module in layers:
            handles.append(module.register_forward_hook(make_hook(name)))
        with torch.no_grad() if graph_from_layers else nullcontext():
            yield store
            # Gradients that a layer turned on and that are off again were turned off by the model
            # around that layer (a reentrant checkpoint restores the mode it was entered with).
            if need_grad and switched_on and not torch.is_grad_enabled():
                raise _gradients_off(switched_on[0])
    finally:
        for handle in handles:
            handle.remove()


def _gradients_off(name: str) -> Exception:
    return ValueError(
        f"model: layer {name!r} runs where the model turns gradients off (inside torch.utils.checkpoint with "
        "use_reentrant=True, a custom autograd.Function or a torch.no_grad() block), so no gradient can reach it; "
        "expected a layer on the autograd graph: checkpoint with use_reentrant=False, or choose a layer outside "
        "that region"
    )


def captured(store, name: str) -> torch.Tensor:
    """The one output a layer produced in the last forward pass."""
    outputs = store[name]
    if not outputs:
        raise ValueError(f"layer: {name!r} did not run during the forward pass, so it has no activations")
    if len(outputs) > 1:
        raise ValueError(f"layer: {name!r} ran {len(outputs)} times in one forward pass; choose a layer that runs once")
    output = outputs[0]
    if not isinstance(output, torch.Tensor) and not _is_levels(output):
        raise TypeError(
            f"layer: {name!r} returned {type(output).__name__}, not a tensor; choose a layer whose output is a tensor "
            "(or a dict of tensors, with reshape='fpn' or a callable)"
        )
    return output


def _is_levels(output) -> bool:
    return isinstance(output, Mapping) and bool(output) and all(isinstance(v, torch.Tensor) for v in output.values())


def output_tensors(output) -> list:
    """The tensors of a layer's output: the tensor itself, or the levels of a dict, in order."""
    return list(output.values()) if _is_levels(output) else [output]


def like_output(output, tensors: list):
    """`tensors` (one per tensor of `output`, as `output_tensors` lists them) in the structure of `output`."""
    return type(output)(zip(output.keys(), tensors)) if _is_levels(output) else tensors[0]


def average_levels(levels, name: str) -> torch.Tensor:
    """reshape='fpn': the levels of a feature pyramid (a dict of N×K×h×w), each resized bilinearly to the
    largest level's h×w and averaged, as pytorch-grad-cam's Faster R-CNN tutorial combines them (it
    resizes to the smallest level, takes |·| and stacks the channels instead)."""
    if not _is_levels(levels):
        raise ValueError(f"reshape: 'fpn' expects a dict of N×K×h×w levels from layer {name!r}, got "
                         f"{type(levels).__name__}")
    shapes = {key: tuple(level.shape) for key, level in levels.items()}
    if any(len(s) != 4 for s in shapes.values()) or len({s[:2] for s in shapes.values()}) != 1:
        raise ValueError(f"reshape: 'fpn' expects levels of one N×K and any h×w from layer {name!r}, got {shapes}")
    size = max((s[2:] for s in shapes.values()), key=lambda hw: hw[0] * hw[1])
    resized = [level if tuple(level.shape[2:]) == size else
               F.interpolate(level, size=size, mode="bilinear", align_corners=False) for level in levels.values()]
    return torch.stack(resized).mean(dim=0)


def _fold_tokens(tokens: torch.Tensor, drop: int, name: str, how: str) -> torch.Tensor:
    if tokens.dim() != 3:
        raise ValueError(
            f"reshape: {how!r} expects token outputs shaped N×T×D from layer {name!r}, got shape {tuple(tokens.shape)}"
        )
    n, t, d = tokens.shape
    side = math.isqrt(max(t - drop, 0))
    if side * side != t - drop or side == 0:
        other = "'tokens' (no class token)" if how == "vit" else "'vit' (drop a class token)"
        raise ValueError(
            f"reshape: {how!r} needs {t - drop} tokens to form a square grid, layer {name!r} has "
            f"T={t} tokens; try {other} or a callable"
        )
    return tokens[:, drop:, :].reshape(n, side, side, d).permute(0, 3, 1, 2)


def as_maps(tensor: torch.Tensor, reshape, name: str) -> torch.Tensor:
    """The layer output (or its gradient) as N×K×h×w."""
    if reshape == "fpn":
        return average_levels(tensor, name)
    if _is_levels(tensor) and not callable(reshape):
        raise ValueError(f"layer: {name!r} returns a dict of levels ({', '.join(map(str, tensor))}); give "
                         "reshape='fpn' (resize every level to the largest and average) or a callable")
    if reshape is None:
        if tensor.dim() != 4:
            raise ValueError(
                f"layer: the output of {name!r} has shape {tuple(tensor.shape)}, not N×K×h×w; for token layers give "
                "reshape='vit' (drop the class token, fold the rest into a square grid), reshape='tokens' or a callable"
            )
        return tensor
    if reshape == "vit":
        return _fold_tokens(tensor, 1, name, "vit")
    if reshape == "tokens":
        return _fold_tokens(tensor, 0, name, "tokens")
    result = reshape(tensor)
    if not isinstance(result, torch.Tensor) or result.dim() != 4 or result.shape[0] != output_tensors(tensor)[0].shape[0]:
        got = tuple(result.shape) if isinstance(result, torch.Tensor) else type(result).__name__
        raise ValueError(f"reshape: the callable must return N×K×h×w for layer {name!r}, it returned {got}")
    return result


def reshape_record(reshape):
    if reshape is None or isinstance(reshape, str):
        return reshape
    return "callable:" + getattr(reshape, "__qualname__", type(reshape).__name__)
