"""Adding a method: the `gradient_cam`, `activation_cam` and `input_method` decorators, and the `MethodWithPasses` base
class (with `method_with_passes`) for methods that run passes of their own. The built-in methods are
registered through them too.

    @tb_saliency.attribution.gradient_cam("gradcam_abs")
    def gradcam_abs(a, g):                  # A, g: N×K×h×w -> N×h×w, before `cam_relu`
        return (g.abs().mean(dim=(2, 3))[:, :, None, None] * a).sum(dim=1)

    @tb_saliency.attribution.input_method("gradient_squared")
    def gradient_squared(x, g):             # x, g: N×C×H×W -> N×C×H×W, before `channel_reduction`
        return g * g

    @tb_saliency.attribution.activation_cam("mean_activation")
    def mean_activation(a):                 # A: N×K×h×w -> N×h×w, no gradient needed
        return a.mean(dim=1)

All three read the one forward (and backward) pass on the clean inputs that the built-in gradient
methods share; when no requested method needs gradients it runs without an autograd graph. A method with passes of its own subclasses `MethodWithPasses` and defines `compute(context)`.

A method's own keyword options are `Option` records in `options=` (a class attribute for
`MethodWithPasses`); registering the method makes them known to `explain` and the writers:

    POWER = tb_saliency.attribution.Option("power", 2.0, check_power, "exponent of |g|")

    @tb_saliency.attribution.input_method("gradient_power", options=[POWER])
    def gradient_power(x, g, *, power):     # each own option arrives as a keyword, and is stored with the map
        return g.abs() ** power
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

from .catalog import ALL_INPUT_KINDS, REGISTRY, SPACES, Method, check_name, register
from .option_spec import Option
from .passes import copies_per_chunk, gradient_chunks, score_chunks
from .progress import NONE as NO_PROGRESS


def _free_name(name) -> str:
    check_name(name)
    if name in REGISTRY:
        raise ValueError(
            f"name: a method named {name!r} is registered already; choose another name (or unregister the old one first)"
        )
    return name


def _builtin(thing) -> bool:
    return getattr(thing, "__module__", "").startswith("tb_saliency.")


def _first_line(thing) -> str:
    return ((getattr(thing, "__doc__", None) or "").strip().splitlines() or [""])[0]


def _options(options) -> tuple:
    """The `options=` of a decorator: a sequence of `Option` records or names of known options."""
    if options is None:
        return ()
    if isinstance(options, (str, Option)) or not isinstance(options, Sequence):
        raise TypeError(f"options: expected a list of tb_saliency.attribution.Option records or option names, "
                        f"got {options!r}")
    return tuple(options)


def _clean_pass_method(name: str, definition: str, citation: str, record: Optional[dict], options, **fields) -> Callable:
    """The decorator that registers a function of the shared clean pass as the method `name`."""
    _free_name(name)
    own = _options(options)

    def add(function):
        register(Method(
            name=name, compute=function, shared_pass="clean", definition=definition or _first_line(function),
            citation=citation, record=record or {}, options=own, builtin=_builtin(function), **fields,
        ))
        return function

    return add


def gradient_cam(name: str, *, definition: str = "", citation: str = "", record: Optional[dict] = None,
                 options: Optional[Sequence] = None, input_kinds: tuple = ALL_INPUT_KINDS) -> Callable:
    """Registers `f(A, g) -> N×h×w` as the layer method `name`.

    A is the layer's output and g = ∂f/∂A, both N×K×h×w (N×K×T for a Conv1d or a transformer
    layer; write the function over `dim=tuple(range(2, a.dim()))` to serve both), from the one
    forward and backward pass on the clean inputs that the gradient CAMs share. The engine applies `cam_relu` to the result, checks
    it for NaN and Inf, and stores `record` (JSON values: how the method weighs channels) with every
    map. `definition` (default: the first line of the docstring) and `citation` describe it in tables.
    `options`: the method's own options (`Option` records, or names of known ones); the function
    receives each as a keyword argument, and its value is stored with every map.
    """
    return _clean_pass_method(name, definition, citation, record, options, space="layer", needs_images=False,
                              input_kinds=tuple(input_kinds))


def activation_cam(name: str, *, definition: str = "", citation: str = "", record: Optional[dict] = None,
                   options: Optional[Sequence] = None) -> Callable:
    """Registers `f(A) -> N×h×w` as the layer method `name`, which needs no gradient.

    A is the layer's output (N×K×h×w) from the one pass on the clean inputs; when no requested method
    needs gradients, that pass runs without an autograd graph. Otherwise as `gradient_cam`.
    """
    return _clean_pass_method(name, definition, citation, record, options, space="layer", needs_images=False,
                              needs_gradients=False)


def input_method(name: str, *, definition: str = "", citation: str = "", record: Optional[dict] = None,
                 options: Optional[Sequence] = None, input_kinds: tuple = ALL_INPUT_KINDS) -> Callable:
    """Registers `f(x, g) -> N×C×H×W` as the input method `name`.

    x is the input batch and g = ∂f/∂x (for token batches, x is the embedding output E, N×T×D, and
    g = ∂f/∂E), from the one forward and backward pass on the clean inputs
    that gradient and input_x_gradient share. The engine reduces the channels (`channel_reduction`),
    checks for NaN and Inf, and stores `record` with every map. `options` as for `gradient_cam`.
    """
    return _clean_pass_method(name, definition, citation, record, options, space="input",
                              input_kinds=tuple(input_kinds))


class MethodWithPasses:
    """Base class of a method that runs passes of its own (as smoothgrad, integrated_gradients and
    scorecam do). Subclass it, set the class attributes, define `compute`, and register the class
    with `@method_with_passes("name")`:

        @tb_saliency.attribution.method_with_passes("blackout")
        class Blackout(tb_saliency.attribution.MethodWithPasses):
            definition = "(f(x) - f(0)) / (C·H·W) at every element"
            needs_gradients = False
            chunked = False

            def compute(self, context):
                x = context.inputs
                with torch.no_grad():
                    dark = context.scorer(context.model(torch.zeros_like(x)))
                drop = (context.clean_scores - dark).to(context.dtype) / x[0].numel()
                return drop.view(-1, *[1] * (x.dim() - 1)).expand(x.shape)

    Class attributes (see `catalog.Method` for each): `space` ("input" or "layer"),
    `needs_gradients`, `chunked`, `options` (the options it reads beyond its space's and
    `memory_limit`: `Option` records it declares, or names of known ones such as "seed"; `compute`
    finds their values in `context.options` and stores what it wants in `context.record`),
    `statistics` (names of the per-sample statistics it sets), `citation`, `definition`, `record`
    (stored with every map), `needs_images`, `input_kinds`
    (default image and signal; a method that runs the model through `context.forward` rather than
    `context.model` also serves "tokens").
    """

    space = "input"
    needs_gradients = True
    chunked = True
    options: tuple = ()
    statistics: tuple = ()
    citation = ""
    definition = ""
    record: dict = {}
    needs_images = True
    input_kinds: tuple = ("image", "signal")
    model_requirements: tuple = ()

    def check_options(self, options: dict) -> None:
        """Checks between the resolved options (one that only makes sense with another's value), when
        they are resolved; errors name the option."""

    def check(self, inputs: torch.Tensor, options: dict) -> None:
        """Checks of options against the inputs, before the model runs; errors name the option."""

    def compute(self, context: "PassContext") -> torch.Tensor:
        """The map before the engine's last step: N×C×H×W (or the inputs' shape) for the input space,
        whose channels the engine reduces; N×h×w for the layer space, before `cam_relu`. Set the
        declared statistics in `context.statistics` and anything else to store in `context.record`."""
        raise NotImplementedError(f"{type(self).__name__}.compute")


def method_with_passes(name: str) -> Callable:
    """Registers a `MethodWithPasses` subclass (one instance of it) as the method `name`."""
    _free_name(name)

    def add(cls):
        if not (isinstance(cls, type) and issubclass(cls, MethodWithPasses)):
            raise TypeError(f"method_with_passes: expected a subclass of MethodWithPasses, got {cls!r}")
        if cls.space not in SPACES:
            raise ValueError(f"{cls.__name__}.space: expected one of {', '.join(map(repr, SPACES))}, got {cls.space!r}")
        instance = cls()
        overrides_check = type(instance).check is not MethodWithPasses.check
        overrides_check_options = type(instance).check_options is not MethodWithPasses.check_options
        if isinstance(cls.options, (str, Option)):
            raise TypeError(f"{cls.__name__}.options: expected a tuple of Option records or option names, "
                            f"got {cls.options!r}")
        register(Method(
            name=name, space=cls.space, compute=instance.compute, needs_gradients=cls.needs_gradients,
            shared_pass=None, chunked=cls.chunked, options=tuple(cls.options), statistics=tuple(cls.statistics),
            citation=cls.citation, definition=cls.definition or _first_line(cls), record=dict(cls.record),
            needs_images=cls.needs_images, check=instance.check if overrides_check else None,
            check_options=instance.check_options if overrides_check_options else None, builtin=_builtin(cls),
            input_kinds=tuple(cls.input_kinds), model_requirements=tuple(cls.model_requirements),
        ))
        return cls

    return add


class PassContext:
    """What `MethodWithPasses.compute` works with, for one map.

    model          the module, in eval mode (the engine restores everything afterwards)
    forward        `forward(rows)` -> the model's outputs for k·N rows at the point where gradients are
                   taken (copy-major): `model(rows)` for images and signals; for token batches rows are
                   embedding outputs, and the model runs on the batch repeated k times with them in
                   place of its embeddings' output
    batch          the input kind's view of the batch (`kinds.Batch`: kind, n, masks, record)
    inputs         the clean batch x, detached (N×C×H×W, or N×... for methods with needs_images=False;
                   for token batches the embedding output E, N×T×D)
    scorer         `scorer(outputs, copies=1, where=None)` -> the target scores of `copies` stacked
                   copies of the batch (copies·N rows, copy-major); `where` names them in errors
    clean_scores   the target scores on the clean inputs, Tensor[N]
    generator      the engine's own torch.Generator (None unless the method takes `seed`)
    noise_record   what to store about that generator ({"seed": ..., "generator": ...})
    options        the resolved options of the call
    dtype          the dtype maps accumulate in (float64 for float64 inputs, else float32)
    layer          the layer's name (layer space), else None
    layer_module   the layer's module (layer space), for methods that change its output with a hook
    activations    the layer's output on the clean inputs as N×K×h×w in `dtype` (layer space), else None
    record         a dict stored with the map, beside its options
    statistics     a dict to fill with the declared per-sample statistics, each a Tensor[N]
    progress       the call's `progress.Progress`: `gradient_chunks` and `score_chunks` draw their
                   bar with it (one per call of them, counting copies), so a method that runs its
                   passes through them shows progress without a line of its own
    """

    def __init__(self, *, method, model, inputs, scorer, clean_scores, bytes_per_copy, generator, noise_record,
                 options, dtype, layer=None, layer_module=None, activations=None, batch=None, progress=NO_PROGRESS):
        self.method = method
        self.batch = batch
        self.forward = model if batch is None else batch.forward
        self.model, self.inputs, self.scorer, self.clean_scores = model, inputs, scorer, clean_scores
        self.generator, self.noise_record, self.options, self.dtype = generator, noise_record, options, dtype
        self.layer, self.layer_module, self.activations = layer, layer_module, activations
        self.record: dict = {}
        self.statistics: dict = {}
        self._bytes_per_copy = bytes_per_copy
        self.progress = progress

    def chunk(self, total: int) -> int:
        """How many of `total` copies of the batch one pass may stack within `memory_limit` (≥ 1)."""
        if not self.method.chunked:
            raise RuntimeError(f"{self.method.name}: only methods registered with chunked = True run in chunks")
        return copies_per_chunk(self._bytes_per_copy, self.options["memory_limit"], total, self.scorer.max_copies)

    def gradient_chunks(self, make_rows, total: int, label: str):
        """Yield (start, stop, grads[k, N, ...]): ∂score/∂row for copies start..stop-1, in chunks.

        `make_rows(start, stop)` returns those copies' (stop - start)·N rows, copy-major; `label`
        names them in errors and on the progress bar ("occlusion's masked copies")."""
        return gradient_chunks(self.forward, self.scorer, make_rows, total, self.chunk(total), label,
                               self.progress)

    def score_chunks(self, make_rows, total: int, label: str):
        """Yield (start, stop, scores[k, N]) of forward-only passes over copies start..stop-1, in chunks."""
        return score_chunks(self.forward, self.scorer, make_rows, total, self.chunk(total), label,
                            self.progress)
