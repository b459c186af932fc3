"""Models whose outputs hold the logits (Hugging Face ModelOutput, dicts, objects, tuples) work with
class targets like models that return the logits tensor itself."""

from collections import OrderedDict
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from tb_saliency.attribution import activations, attribute, explain

from .helpers import N, conv_net, images


class FakeModelOutput(OrderedDict):
    """What transformers' ModelOutput is to this engine: an OrderedDict whose keys are also attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


WRAPS = {
    "ModelOutput": lambda logits, x: FakeModelOutput(logits=logits, hidden_states=(x,)),
    "dict": lambda logits, x: {"aux": x.mean(), "logits": logits},
    "object": lambda logits, x: SimpleNamespace(loss=None, logits=logits),
    "tuple": lambda logits, x: (logits, x.mean()),
    "list": lambda logits, x: [logits, x],
}


class Wrapped(nn.Module):
    def __init__(self, wrap):
        super().__init__()
        self.net = conv_net()
        self.wrap = wrap

    def forward(self, x):
        return self.wrap(self.net(x), x)


METHODS = ["gradient", "smoothgrad", "integrated_gradients", "gradcam", "scorecam"]
OPTIONS = {"smoothgrad_samples": 3, "ig_steps": 4}


@pytest.mark.parametrize(
    "kind, target", [("ModelOutput", None), ("dict", 2), ("object", [0, 4, 1]), ("tuple", None), ("list", 3)]
)
def test_class_targets_read_the_logits_and_fill_the_prediction_facts(kind, target):
    model = Wrapped(WRAPS[kind])
    batches = []
    hook = model.register_forward_pre_hook(lambda m, args: batches.append(args[0].shape[0]))
    result = explain(model, images(), METHODS, target=target, layer="net.6", **OPTIONS)
    hook.remove()
    reference = explain(model.net, images(), METHODS, target=target, layer="6", **OPTIONS)
    for key, m in reference.maps.items():
        torch.testing.assert_close(result.maps[key].values, m.values, rtol=1e-5, atol=1e-7)
    for fact in ("outputs", "targets", "target_scores", "predictions", "probabilities"):
        torch.testing.assert_close(getattr(result, fact), getattr(reference, fact))
    # The chunked methods stack all their copies in one pass: the logits are sliced, not the outputs.
    assert batches == [N, 3 * N, N, 4 * N, 6 * N]


@pytest.mark.parametrize("kind", WRAPS)
def test_activations_fill_the_prediction_facts_from_the_logits(kind):
    result = activations(Wrapped(WRAPS[kind]), images(), layer="net.6", max_channels=2)
    reference = activations(conv_net(), images(), layer="6", max_channels=2)
    assert torch.equal(result.predictions, reference.predictions)
    torch.testing.assert_close(result.probabilities, reference.probabilities)
    torch.testing.assert_close(result.outputs, reference.outputs)


def test_a_callable_target_still_receives_the_outputs_as_the_model_returned_them():
    seen = []

    def target(outputs):
        seen.append(type(outputs))
        return outputs.logits[:, 3]

    model = Wrapped(WRAPS["ModelOutput"])
    maps = attribute(model, images(), ["gradient", "integrated_gradients"], target=target, ig_steps=3)
    reference = attribute(model.net, images(), ["gradient", "integrated_gradients"], target=3, ig_steps=3)
    assert set(seen) == {FakeModelOutput}
    for key in reference:
        torch.testing.assert_close(maps[key], reference[key])


@pytest.mark.transformers
def test_a_tiny_hugging_face_vit_built_from_its_config():
    import transformers  # a test extra: pip install -e ".[test]"
    config = transformers.ViTConfig(
        image_size=12, patch_size=4, num_channels=3, hidden_size=8, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=16, num_labels=4,
    )
    torch.manual_seed(0)
    model = transformers.ViTForImageClassification(config)
    x = images()
    # The first encoder block's output, N×T×D: a class token and a 3×3 grid of patches. Its name
    # changed in transformers 5.
    names = dict(model.named_modules())
    layer = "vit.layers.0" if "vit.layers.0" in names else "vit.encoder.layer.0.output"
    result = explain(model, x, ["gradient", "gradcam", "integrated_gradients"], layer=layer, reshape="vit",
                     ig_steps=4)
    with torch.no_grad():
        logits = model.eval()(pixel_values=x).logits
    assert torch.equal(result.predictions, logits.argmax(1))
    torch.testing.assert_close(result.outputs, logits)
    assert result.maps["gradcam"].values.shape == (N, 3, 3)
    picked = logits.argmax(1)
    by_hand = attribute(model, x, ["gradient", "gradcam", "integrated_gradients"], layer=layer, reshape="vit",
                        ig_steps=4, target=lambda out: out.logits[torch.arange(N), picked])
    for key, values in by_hand.items():
        torch.testing.assert_close(result.maps[key].values, values)
