"""`activations`: a layer's most active channels per sample, from one forward pass without gradients."""

from __future__ import annotations

import numbers

import torch

from .checks import check_batch, check_inputs_match_model, check_module
from .finite import check_finite
from .forward import run_model
from .layers import DEFAULT_LAYER, as_maps, capture, captured, reshape_record, resolve_layers
from .options import OPTIONS, describe
from .reductions import accumulation_dtype
from .results import ActivationResult, detached_logits, prediction_facts
from .safety import untouched
from .targets import check_outputs


def activations(model, inputs, *, layer=None, max_channels=16, reshape=None, **options) -> ActivationResult:
    """The `max_channels` channels of `layer` with the largest mean activation, per sample, most active first.

    Args:
        model: a torch.nn.Module; it runs once, in eval mode, under no_grad, and is left as it was.
        inputs: the batch, a tensor N×... (any dtype the model accepts).
        layer: one module of the model, or its dotted name; None (default): the model's last 2-D
            convolution (see `layers.default_layer`), an error for a model without one.
        max_channels: how many channels to keep per sample (K = min(max_channels, channels)).
        reshape: None, 'vit', 'tokens' or a callable, as for `explain`, for layers whose output is not N×K×h×w.
    """
    if options:
        name = next(iter(options))
        raise TypeError(f"{name}: unknown option for activations; accepted: layer, max_channels, reshape")
    given, model = model, check_module(model)
    check_batch(inputs)
    check_inputs_match_model(model, inputs)
    if isinstance(max_channels, bool) or not isinstance(max_channels, numbers.Integral) or max_channels < 1:
        raise ValueError(f"max_channels: expected an int >= 1, got {describe(max_channels)}")
    reshape = OPTIONS["reshape"].check("reshape", reshape)
    if isinstance(layer, (list, tuple)):
        raise TypeError(f"layer: activations take one layer, got {len(layer)}")
    [(name, module)] = resolve_layers(model, layer, needed=True, methods=["activations"], wrapper=given,
                                      reshape=reshape)

    with untouched(model, gradients=False), capture([(name, module)]) as store:
        outputs = run_model(model, inputs)
        maps = as_maps(captured(store, name), reshape, name)
    n, channels, h, w = maps.shape
    check_finite(maps, n, argument="model", what=f"activations of layer {name!r}")
    check_outputs(outputs, n)
    dtype = accumulation_dtype(maps)
    means = maps.to(dtype).mean(dim=(2, 3))
    keep = min(int(max_channels), channels)
    # A stable sort keeps ties in channel order, so equal inputs give equal frames.
    index = torch.argsort(means, dim=1, descending=True, stable=True)[:, :keep]
    values = maps.to(dtype).gather(1, index[:, :, None, None].expand(n, keep, h, w)).contiguous()

    predictions, probabilities = prediction_facts(outputs, dtype)
    return ActivationResult(
        layer=name,
        values=values,
        channel_index=index,
        channel_mean=means.gather(1, index).contiguous(),
        total_channels=channels,
        options={
            "max_channels": int(max_channels),
            "order": "mean_activation_descending",
            "reshape": reshape_record(reshape),
            "layer_selection": "given" if layer is not None else DEFAULT_LAYER,
            "model_mode": "eval",
        },
        outputs=detached_logits(outputs),
        predictions=predictions,
        probabilities=probabilities,
    )
