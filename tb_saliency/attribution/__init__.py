"""The attribution engine: saliency maps and activations from a PyTorch model. Pure torch, no I/O.

    maps = attribute(model, images, ["gradient", "gradcam"], target=labels, layer="layer4")
    # {"gradient": Tensor[N, H, W], "gradcam": Tensor[N, h, w]}: raw, unnormalised, on the inputs' device

Methods (`methods`, a name or a list of names)
    Input space, one N×H×W map at the input's resolution, channels reduced by `channel_reduction`:
      gradient              ∂f/∂x (Simonyan et al. 2014), signed
      input_x_gradient      x · ∂f/∂x
      smoothgrad            E[∂f/∂x(x + ε)], ε ~ N(0, σ²) (Smilkov et al. 2017); also E[g²] and Var[g]
      integrated_gradients  (x - x0) · ∫₀¹ ∂f/∂x(x0 + α(x - x0)) dα (Sundararajan et al. 2017), by
                            quadrature; statistics["completeness_gap"] = Σ attribution - (f(x) - f(x0))
      occlusion             mean over the occlusion_window² patches covering a pixel of f(x) - f(x, patch set
                            to `baseline`), patches every occlusion_stride pixels (Zeiler & Fergus 2014;
                            equals captum's Occlusion); one value per pixel, forward passes only
      rise                  Σ_i f(x ⊙ M_i) M_i / (N·p), M_i random rise_cells² grids kept with probability
                            rise_p, upsampled bilinearly, shifted at random (Petsiuk et al. 2018); masks
                            drawn from the engine's generator (`seed`); forward passes only
    Layer space, one N×h×w map at the layer's resolution (no upsampling), after the method's ReLU,
    from A = the layer's output and g = ∂f/∂A:
      gradcam     ReLU(Σ_k mean_ij(g_k) A_k)                  (Selvaraju et al. 2017)
      gradcam_pp  ReLU(Σ_k Σ_ij α ReLU(g_k) A_k), α = g²/(2g² + Σ_ab A_ab g³)   (Chattopadhyay et al. 2018)
      layercam    ReLU(Σ_k ReLU(g_k) ⊙ A_k)                   (Jiang et al. 2021)
      hirescam    ReLU(Σ_k g_k ⊙ A_k)                         (Draelos & Carin 2020)
      xgradcam    ReLU(Σ_k (Σ_ij g A / Σ_ij A) A_k)           (Fu et al. 2020)
      scorecam    ReLU(Σ_k softmax_k(f(x ⊙ M_k)) A_k), M_k = A_k upsampled bilinearly to the input and
                  min-max normalised (Wang et al. 2020); one forward-only masked copy of the batch per channel
      eigencam    ReLU(Ā v₁), Ā the h·w × K activations centred per channel, v₁ its first right singular
                  vector, signed to correlate positively with the mean activation (Muhammad & Yeasin 2020);
                  no gradient: one forward pass without a graph when no other method needs one
      ablationcam ReLU(Σ_k (y - y_k)/y A_k), y_k the score with channel k zeroed (Desai & Ramaswamy 2020);
                  one forward-only copy per ablated channel; ablation_ratio < 1 ablates only each sample's
                  channels of largest mean activation (the others weigh 0)
      Over a Conv1d's N×K×T output, or a transformer layer's N×T×D (hidden units as channels), every
      CAM is the same formula over the one axis T (Grad-CAM's weights are the mean over time of g):
      an N×T map.
    Model space, a map the model computes itself (no layer, no channel reduction, no ReLU):
      attention_rollout  the row of one token in Π_l (0.5·mean_heads(A_l) + 0.5·I), rows renormalised,
                  product from the first layer up (Abnar & Zuidema 2020); for models that return their
                  attentions when called with output_attentions=True (Hugging Face, attn_implementation
                  "eager"); folded into the patch grid with reshape="vit". Not in ANY_MODEL_METHODS, the
                  methods that serve any model.

    The table in the README is generated from the methods' records: `python -m tb_saliency.attribution --markdown`.

Adding a method (see `extending`): every method is one `Method` record in `REGISTRY` (name ->
record, in registration order); `METHODS`, `CAM_METHODS`, the engine's dispatch, the argument checks
and which option applies to which method all follow from the records, so a registered method is
computed, logged, read back and drawn like a built-in one.
    @gradient_cam("name")        f(A, g) -> N×h×w, from the shared clean pass, before `cam_relu`
    @activation_cam("name")      f(A) -> N×h×w, from the shared clean pass, which needs no gradient
    @input_method("name")        f(x, g) -> N×C×H×W, from the shared clean pass, before `channel_reduction`
    @method_with_passes("name")  on a subclass of `MethodWithPasses`, for passes of its own: class
                                 attributes say its space, options and statistics; `compute(context)`
                                 gets a `PassContext` (model, inputs, scorer, clean scores, generator,
                                 options, chunk-size helper and chunked pass iterators)
    unregister("name")           frees a name a user registered (built-in names stay), and the
                                 options that no other method takes
Names are simple identifiers; a name that is taken is an error.

A method's own keyword options are `Option(name, default, check, help)` records in its `options`
(the decorators' `options=`, the class attribute of `MethodWithPasses`), beside names of options
declared elsewhere ("seed"). Registering the method adds them to `OPTIONS`, so `explain` and the
writers validate them with `check(name, value)`, refuse them for methods that do not take them, and
(for the decorated functions, which receive each as a keyword argument) store their values with the
maps. A name declared by another method or shared must be declared by the same (or an equal)
`Option`; anything else is an error naming `options`. SmoothGrad and integrated gradients declare
theirs in their own files; the options below that are not theirs are shared (`options.py`).

Arguments
    model     a torch.nn.Module. It runs in eval mode (BatchNorm uses its running statistics, Dropout
              is off); afterwards its modes, parameters, buffers, `.grad`, `requires_grad`, hooks and
              the global RNG are exactly as before, also when a method raises and inside torch.no_grad().
              Activation checkpointing inside it must be non-reentrant (torch.utils.checkpoint with
              use_reentrant=False): the reentrant kind only works with .backward(), which would write every
              parameter's .grad, so it is refused with that advice (the gradient-free methods, occlusion,
              rise, scorecam, eigencam and ablationcam, work with either). Frozen models (requires_grad=False everywhere) work.
    inputs    one of the input kinds (`kinds`; a method declares the kinds it supports in its record's
              `input_kinds`, and a call with another kind fails naming both):
              image   a floating-point tensor N×C×H×W (or N×H×W); CAM-only calls accept any floating N×...
                      Of the dtype and on the device of the model's parameters, which is checked before
                      the model runs when those are one dtype (and autocast is off) and one device.
              signal  a floating-point tensor N×C×T (or N×T), given with input_kind="signal" or
                      sample_rate= (a 3-D tensor is otherwise an image N×H×W); maps N×T
              tokens  a Mapping (dict, BatchEncoding) with integer input_ids N×T and other model
                      arguments, called model(**batch) (tokenizer-only keys such as special_tokens_mask
                      are left out); gradients at the output of `embeddings`; maps N×T (see token_kind)
    input_kind  None (recognised: a Mapping is tokens, a tensor with sample_rate a signal, else an
              image) | 'image' | 'signal' | 'tokens'
    embeddings  tokens: the module (or its dotted name) whose output E is where gradients are taken;
              None: model.get_input_embeddings() (or, where that module never runs itself, as BART's
              shared embedding, the first module sharing its weight that does). Its first call in a
              pass is the gradient point; later calls (a decoder's) are left alone.
    tokenizer  tokens: a tokenizer whose all_special_ids are the special tokens, when the batch has no
              special_tokens_mask; special tokens and padding (attention_mask == 0) keep their own
              embedding in the integrated-gradients baseline
    sample_rate  signals: samples per second, recorded in the maps' options and the Explanation
    target    None (the class predicted on the clean inputs), an int (one class for all), a sequence
              or 1-D tensor of N ints, or a callable outputs -> Tensor[N] (any scalar per sample). A
              callable always receives the outputs of exactly N rows in sample order, also for the
              perturbed copies of path and noise methods. For None, ints and N ints, a model that does not
              return the N×C logits tensor itself must return a Mapping with a "logits" tensor (a Hugging
              Face ModelOutput, a dict), an object with a `.logits` tensor, or a tuple or list whose first
              element is the logits; other outputs need a callable, which receives the outputs as they are.
              Token classification: N (position, class) pairs, scoring logits[n, position, class] of
              N×T×C logits. Causal language models: tb_saliency.targets.sequence_logprob(continuation_ids),
              the continuation's log-probability (targets from tb_saliency.targets read the logits alone,
              so perturbed copies still stack).
    layer     a module of the model or its dotted name, or a list of them (CAM methods only). With
              several layers each CAM key is "method@layer". None: the model's last 2-D convolution
              (options "layer" and "layer_selection" say so); an error listing candidate layers for a
              model without one or with attention (a transformer names its token layer and `reshape`).

Options (keyword; unknown names, and names no requested method uses, are errors). The README's
table of them is generated: `python -m tb_saliency.attribution --options`.
    channel_reduction     'signed_sum' (default) | 'abs_sum' | 'max_abs' | 'l2'       input-space methods;
                          token batches default to 'l2' for gradient and smoothgrad (captum's
                          normed LayerGradientXActivation), 'signed_sum' for the others
    smoothgrad_samples    50 (at most 10,000)                                         smoothgrad
    smoothgrad_noise      0.15  σ as a fraction of each sample's max - min, or σ itself
    smoothgrad_noise_type 'relative' (default, the paper's) | 'absolute'
    smoothgrad_variant    'mean' (default) | 'mean_of_squares' | 'variance'
    ig_steps              50 (at most 10,000)                                         integrated_gradients
    ig_rule               'gauss_legendre' (default) | 'riemann_left' | 'riemann_right' |
                          'riemann_middle' | 'riemann_trapezoid'
    baseline              'zeros' (default) | 'blur' | 'uniform' | a number | a tensor broadcastable to inputs
    blur_sigma            None: a tenth of the larger image side (pixels), at most that side; only with
                          baseline='blur'; for signals the blur runs along time, a tenth of T by default
    baseline_token        tokens: None (the config's pad_token_id) or the id whose embedding replaces
                          every token but special and padding ones in integrated gradients' baseline
                          (image and signal batches take `baseline` instead, token batches refuse it)
    rollout_from          0 (the class token) | a position | 'last' (each sample's last token that is
                          not padding)                                             attention_rollout
    occlusion_window      None: an eighth of the shorter image side, rounded up     occlusion
    occlusion_stride      None: half the window, at least 1; at most the window
    rise_masks            1000 (at most 10,000)                                       rise
    rise_cells            7     rise_p  0.5
    ablation_ratio        1.0: the fraction of each sample's channels ablated           ablationcam
    seed                  0: seeds the engine's own generator on the inputs' device (SmoothGrad noise,
                          RISE masks, 'uniform' baseline); None draws a fresh seed (recorded). The global RNG is never
                          used. Copy i's noise is torch.randn(inputs.shape, generator=g), drawn in copy
                          order, so a seed gives the same maps whatever the chunk size. The stream depends
                          on the inputs' dtype and device: for one seed, float64 inputs get other noise
                          than float32 inputs (torch draws normals per dtype), not a more precise copy.
    generator             None, or a torch.Generator on the inputs' device to use instead of seed
    cam_relu              True: apply each CAM's final ReLU; False keeps signed maps             CAM methods
    reshape               None | 'vit' (drop the class token of N×T×D, fold T-1 tokens into a square
                          grid) | 'tokens' (fold all T) | 'fpn' (a dict of N×K×h×w levels, each resized
                          bilinearly to the largest and averaged) | a callable N×... (or the dict) ->
                          N×K×h×w that only rearranges elements (applied to activations and gradients alike)
    memory_limit          134217728 (128 MiB): bytes of autograd graph one chunk of perturbed copies may
                          hold (every method with copies of its own); a chunk holds ≥ 1 copy

Progress (keyword `progress`, not an option: any method takes it)
    None (default): a tqdm bar when stderr is a terminal or in a Jupyter notebook; True: always;
    False: never. Each method with passes of its own (smoothgrad, integrated_gradients, scorecam, a
    registered `MethodWithPasses`) gets one bar counting its perturbed copies of the batch. Never on a
    torch.distributed rank other than zero. tqdm comes with the `torch` extra; without it there is no
    bar and no error.

NaN and Inf are errors, never results: in the inputs (`inputs:`), in the model's outputs or a layer's
activations on the clean inputs or any perturbed copy, in a gradient or a map (`model:`), or in the
scores of a callable target (`target:`), they fail the call with a message naming the samples (and the
copies), as soon as they appear.

Sharing work: gradient, input_x_gradient and every gradient CAM on the given layers come from one
forward and one backward pass (gradient CAMs alone run the model up to their layers without an
autograd graph); smoothgrad, integrated_gradients and scorecam stack as many perturbed copies of the
batch per pass as `memory_limit` allows. Because the model runs in eval mode, every sample is
independent of the rest of its batch; a model whose eval-mode output mixes samples is not supported.

Wrappers: a DataParallel or DistributedDataParallel model runs as its `.module`, with no collective
call, so rank zero may call alone while the other ranks train; names in either ("module.layer4",
"layer4") resolve, and maps are named by the inner one. A DDP model's inputs must be on its device.
FSDP models (FullyShardedDataParallel, fully_shard) run as they are, and give the maps of the unsharded
model: each forward pass gathers parameters from every rank, so every rank must make the same call at
the same point (same methods, options and input shape, so that all run the same passes). A call that
fails on one rank only (NaN in its inputs) leaves the others waiting in a collective until the process
group's timeout. Layer names may leave out FSDP1's "_fsdp_wrapped_module." (and checkpoint_wrapper's
"_checkpoint_wrapped_module.") components, and maps are named without them.

Threads: calls on one model (or on wrappers of it) take turns, each holding `model_lock(model)`, so a
logging thread and several writers may share a model. A call runs the model in eval mode while it
lasts: a training thread running the same model should hold `model_lock(model)` around its step.
The global RNG is restored after each call, so numbers another thread draws from it during a call
are drawn again; give such threads a torch.Generator of their own.
"""

import tb_saliency.needs_torch  # noqa: F401  (first: a clear ImportError without torch)

from . import builtin  # noqa: F401  (registers the built-in methods, in the order of METHODS)
from .activations import activations
from .catalog import ANY_MODEL_METHODS, CAM_METHODS, METHODS, REGISTRY, Method, unregister
from .engine import explain
from .extending import (
    MethodWithPasses,
    PassContext,
    activation_cam,
    gradient_cam,
    input_method,
    method_with_passes,
)
from .option_spec import Option
from .options import OPTIONS
from .results import ActivationResult, Explanation, MapResult
from .safety import model_lock

__all__ = [
    "METHODS",
    "ANY_MODEL_METHODS",
    "CAM_METHODS",
    "REGISTRY",
    "Method",
    "Option",
    "OPTIONS",
    "gradient_cam",
    "activation_cam",
    "input_method",
    "MethodWithPasses",
    "method_with_passes",
    "PassContext",
    "unregister",
    "attribute",
    "explain",
    "activations",
    "MapResult",
    "Explanation",
    "ActivationResult",
    "model_lock",
]


def attribute(model, inputs, methods, *, target=None, layer=None, progress=None, **options) -> dict:
    """{key: Tensor[N, h, w]} for `methods`: raw, unnormalised, float32 (float64 for float64 inputs),
    on the inputs' device. The same as `{k: m.values for k, m in explain(...).maps.items()}`."""
    result = explain(model, inputs, methods, target=target, layer=layer, progress=progress, **options)
    return {key: m.values for key, m in result.maps.items()}
