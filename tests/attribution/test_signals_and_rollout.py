"""Signals (N×C×T): N×T maps, channels reduced as for images, Conv1d CAMs by the 1-D formulas,
sample_rate recorded; the 'l2' reduction; attention rollout against the paper's recipe."""

import pytest
import torch
from torch import nn

from tb_saliency.attribution import attribute, explain
from tb_saliency.attribution.rollout import rollout

from .helpers import assert_untouched, conv_net, images, snapshot


def conv1d_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.Conv1d(4, 5, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(5, 3)).eval()


def signals():
    return torch.randn(2, 2, 16, generator=torch.Generator().manual_seed(1))


def _layer_and_gradient(model, x, target):
    store = {}
    handle = model[2].register_forward_hook(lambda m, a, o: store.setdefault("a", o))
    try:
        out = model(x)
    finally:
        handle.remove()
    (g,) = torch.autograd.grad(out[:, target].sum(), store["a"])
    return store["a"].detach(), g


def test_signal_maps_are_n_by_t_and_record_the_sample_rate():
    model, x = conv1d_net(), signals()
    result = explain(model, x, ["gradient", "input_x_gradient", "integrated_gradients"], target=1,
                     sample_rate=8000, ig_steps=8, channel_reduction="l2")
    assert result.input_kind == "signal" and result.sample_rate == 8000.0
    x_leaf = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(x_leaf)[:, 1].sum(), x_leaf)
    torch.testing.assert_close(result.maps["gradient"].values, g.norm(dim=1))
    torch.testing.assert_close(result.maps["input_x_gradient"].values, (x * g).norm(dim=1))
    assert result.maps["gradient"].options["sample_rate"] == 8000.0
    assert result.maps["gradient"].options["channel_reduction"] == "l2"
    # input_kind="signal" without a rate is the same maps; an image N×H×W would be the same numbers here,
    # but named an image.
    same = attribute(model, x, "gradient", target=1, input_kind="signal", channel_reduction="l2")
    torch.testing.assert_close(same["gradient"], result.maps["gradient"].values)


def test_conv1d_cams_are_the_one_dimensional_formulas():
    model, x = conv1d_net(), signals()
    methods = ["gradcam", "gradcam_pp", "layercam", "hirescam", "xgradcam"]
    result = explain(model, x, methods, target=2, layer="2", input_kind="signal", cam_relu=False)
    a, g = _layer_and_gradient(model, x, 2)
    expected = {
        "gradcam": (g.mean(dim=2, keepdim=True) * a).sum(1),
        "layercam": (g.clamp(min=0) * a).sum(1),
        "hirescam": (g * a).sum(1),
        "xgradcam": (((g * a).sum(2) / a.sum(2))[:, :, None] * a).sum(1),
    }
    alpha = g**2 / (2 * g**2 + a.sum(2, keepdim=True) * g**3)
    alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
    expected["gradcam_pp"] = ((alpha * g.clamp(min=0)).sum(2, keepdim=True) * a).sum(1)
    for name, values in expected.items():
        assert result.maps[name].values.shape == (2, 16)
        torch.testing.assert_close(result.maps[name].values, values.detach(), rtol=1e-5, atol=1e-6, msg=name)


def test_scorecam_on_signals_masks_along_time():
    model, x = conv1d_net(), signals()
    maps = attribute(model, x, "scorecam", target=0, layer="2", sample_rate=100)
    assert maps["scorecam"].shape == (2, 16) and bool(torch.isfinite(maps["scorecam"]).all())


def test_signal_errors_and_the_model_left_untouched():
    model, x = conv1d_net(), signals()
    with pytest.raises(ValueError, match="sample_rate: expected a finite number of samples per second > 0"):
        attribute(model, x, "gradient", sample_rate=-1)
    with pytest.raises(ValueError, match=r"inputs: expected a signal batch shaped N×C×T \(or N×T\), got shape"):
        attribute(model, x[None], "gradient", input_kind="signal")
    with pytest.raises(ValueError, match="input_kind: expected None or one of 'image', 'signal', 'tokens', "
                                         "got 'audio'"):
        attribute(model, x, "gradient", input_kind="audio")
    with pytest.raises(ValueError, match="methods: 'attention_rollout' does not support signal inputs"):
        attribute(model, x, "attention_rollout", sample_rate=10)
    model.train()
    before = snapshot(model)
    attribute(model, x, ["smoothgrad", "integrated_gradients", "gradcam"], layer="2", sample_rate=10,
              smoothgrad_samples=2, ig_steps=2, baseline="blur")
    assert_untouched(model, before)


def test_blur_baseline_of_a_signal_blurs_along_time_only():
    from tb_saliency.attribution.kinds import SignalBatch

    x = torch.zeros(1, 2, 21)
    x[0, 0, 10] = 1.0
    batch = SignalBatch(conv1d_net(), x, [], 10)
    x0, record = batch.baseline({"baseline": "blur", "blur_sigma": 2.0}, None)
    assert record["blur_axis"] == "time" and torch.equal(x0[0, 1], torch.zeros(21))
    assert abs(float(x0[0, 0].sum()) - 1.0) < 1e-6 and float(x0[0, 0, 10]) < 1.0


def _paper_rollout(attentions, token):
    """Abnar & Zuidema 2020, written out per sample: mean over heads, 0.5·W + 0.5·I, rows renormalised,
    Ã(l_i) = Â(l_i) Ã(l_{i-1}) with Ã(l_1) = Â(l_1)."""
    n = attentions[0].shape[0]
    rows = []
    for i in range(n):
        total = None
        for layer in attentions:
            w = layer[i].double().mean(dim=0)
            a = 0.5 * w + 0.5 * torch.eye(w.shape[0], dtype=torch.float64)
            a = a / a.sum(dim=1, keepdim=True)
            total = a if total is None else a @ total
        rows.append(total[token])
    return torch.stack(rows)


def test_rollout_follows_the_paper():
    g = torch.Generator().manual_seed(0)
    attentions = [torch.softmax(torch.randn(2, 3, 5, 5, generator=g), dim=-1) for _ in range(4)]
    torch.testing.assert_close(rollout(attentions, 0).double(), _paper_rollout(attentions, 0))
    torch.testing.assert_close(rollout(attentions, -1).double(), _paper_rollout(attentions, 4))
    # Rows of a product of row-stochastic matrices sum to one.
    torch.testing.assert_close(rollout(attentions, 2).sum(dim=1), torch.ones(2))


@pytest.mark.transformers
def test_rollout_of_a_bert_and_of_a_vit():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=16, attn_implementation="eager")
    model = transformers.BertForSequenceClassification(config).eval()
    ids = torch.randint(3, 30, (2, 6))
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    result = explain(model, {"input_ids": ids, "attention_mask": mask}, "attention_rollout", rollout_from="last")
    out = model(input_ids=ids, attention_mask=mask, output_attentions=True)
    expected = torch.stack([_paper_rollout(out.attentions, 5)[0], _paper_rollout(out.attentions, 3)[1]])
    torch.testing.assert_close(result.maps["attention_rollout"].values.double(), expected, rtol=1e-5, atol=1e-6)
    assert float(result.maps["attention_rollout"].values[1, 4:].abs().max()) < 1e-6  # padding is never reached

    vit_config = transformers.ViTConfig(image_size=8, patch_size=4, num_channels=3, hidden_size=16,
                                        num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                                        num_labels=3, attn_implementation="eager")
    vit = transformers.ViTForImageClassification(vit_config).eval()
    pictures = torch.randn(2, 3, 8, 8)
    folded = attribute(vit, pictures, "attention_rollout", reshape="vit")["attention_rollout"]
    out = vit(pictures, output_attentions=True)
    reference = _paper_rollout(out.attentions, 0)[:, 1:].reshape(2, 2, 2)
    torch.testing.assert_close(folded.double(), reference, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="model: attention_rollout calls the model with output_attentions=True"):
        attribute(conv_net(), images(), "attention_rollout")
