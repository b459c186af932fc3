"""The method registry: methods a user registers from outside the package are computed, checked,
logged and read back like the built-in ones, and every method set, check and table comes from it."""

import dataclasses
import pathlib
import re
import subprocess
import sys

import pytest
import torch

import tb_saliency
from tb_saliency.attribution import CAM_METHODS, METHODS, REGISTRY, catalog, explain, gradient_cam, input_method
from tb_saliency.attribution import method_with_passes, unregister
from tests.support.registry import custom_methods

ROOT = pathlib.Path(__file__).resolve().parents[2]
CUSTOM = ["gradcam_max", "gradient_squared", "blackout"]
TARGET = [0, 2]


@pytest.fixture
def custom():
    with custom_methods() as module:
        yield module


def probe(dtype=torch.float32):
    return torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(1), dtype=dtype)


def closed_forms(model, x):
    """The three custom maps and blackout's statistic, by hand: A = x, g = W[target], f(0) = b[target]."""
    weight, bias = model[2].weight.detach(), model[2].bias.detach()
    g = weight[TARGET].view(2, 3, 4, 4).to(x.dtype)
    gradcam_max = (g.amax(dim=(2, 3))[:, :, None, None] * x).sum(dim=1).clamp(min=0)
    gradient_squared = (g * g).sum(dim=1)
    drop = (g * x).flatten(1).sum(dim=1)  # f(x) - f(0) for a linear model
    blackout = (drop / 16)[:, None, None].expand(2, 4, 4)  # C copies of drop / (C·H·W), summed over C
    return {"gradcam_max": gradcam_max, "gradient_squared": gradient_squared, "blackout": blackout}, bias[TARGET]


def test_registered_methods_compute_their_closed_forms(custom):
    model = custom.linear_model()
    x = probe(torch.float64)
    model = model.double()
    result = explain(model, x, CUSTOM, target=TARGET, layer="0")
    expected, dark = closed_forms(model, x)
    assert list(result.maps) == CUSTOM
    for key in CUSTOM:
        torch.testing.assert_close(result.maps[key].values, expected[key], rtol=1e-12, atol=1e-12)
        assert result.maps[key].method == key
    # The non-uniform weights matter: the maps are not those of the built-in neighbours.
    assert not torch.allclose(result.maps["gradcam_max"].values,
                              explain(model, x, "gradcam", target=TARGET, layer="0").maps["gradcam"].values)
    torch.testing.assert_close(result.maps["blackout"].statistics["blackout_score"], dark.double())
    assert result.maps["gradcam_max"].options == {
        "relu": True, "upsampling": "none", "reshape": None, "model_mode": "eval", "weights": "max_ij g"}
    assert result.maps["gradient_squared"].options == {"channel_reduction": "signed_sum", "model_mode": "eval"}
    assert result.maps["blackout"].options == {"channel_reduction": "signed_sum", "model_mode": "eval", "fill": "zeros"}
    signed = explain(model, x, "gradcam_max", target=TARGET, layer="0", cam_relu=False).maps["gradcam_max"].values
    assert (signed < 0).any() and torch.equal(signed.clamp(min=0), result.maps["gradcam_max"].values)


def test_registered_methods_share_the_clean_pass_with_the_built_in_ones(custom):
    model, x = custom.linear_model(), probe()
    calls = []
    model[2].register_forward_hook(lambda module, args, output: calls.append(args[0].shape[0]))
    methods = ["gradient", "gradient_squared", "gradcam", "gradcam_max"]
    explain(model, x, methods, target=TARGET, layer="0")
    assert calls == [2], "one forward pass of the batch serves all four"
    calls.clear()
    explain(model, x, methods + ["blackout"], target=TARGET, layer="0")
    assert calls == [2, 2], "blackout adds its one dark copy of the batch"


def test_registered_methods_join_the_sets_checks_options_and_table(custom):
    assert tuple(METHODS)[-3:] == tuple(CUSTOM) and METHODS is tb_saliency.METHODS
    assert "gradcam_max" in CAM_METHODS and "blackout" not in CAM_METHODS
    assert "blackout" in catalog.CHUNKED_METHODS and "gradient_squared" in catalog.SHARED_INPUT_METHODS
    assert "gradcam_max" in catalog.GRADIENT_CAM_METHODS
    model, x = custom.linear_model(), probe()
    explain(model, x, "blackout", memory_limit=1)  # a chunked method takes memory_limit
    with pytest.raises(ValueError, match="ig_steps: not used by the requested methods .*integrated_gradients"):
        explain(model, x, "blackout", ig_steps=3)
    with pytest.raises(ValueError, match="layer: gradcam_max needs a layer"):
        explain(model, x, "gradcam_max")
    with pytest.raises(ValueError, match="inputs: gradient_squared, blackout need images"):
        explain(model, torch.randn(2, 48), ["gradient_squared", "blackout"])
    with pytest.raises(ValueError, match="cam_relu: not used .* it applies to .*gradcam_max"):
        explain(model, x, "blackout", cam_relu=False)
    assert "| `blackout` | input | (f(x) - f(0)) / (C·H·W) at every element; statistics" in catalog.markdown_table()


def test_a_taken_or_malformed_name_is_an_error_naming_the_argument(custom):
    for decorator in (gradient_cam, input_method, method_with_passes):
        for taken in ("gradcam", "gradient_squared"):
            with pytest.raises(ValueError, match=f"name: a method named '{taken}' is registered already"):
                decorator(taken)
        for bad in ("", "grad cam", "gradcam@layer4", "1cam", "é", "x" * 65, None, 3):
            with pytest.raises(ValueError, match="name: expected a simple identifier"):
                decorator(bad)
    with pytest.raises(ValueError, match="name: 'gradcam' is built into tb_saliency"):
        unregister("gradcam")
    with pytest.raises(TypeError, match="expected a subclass of MethodWithPasses"):
        method_with_passes("not_a_class")(lambda context: None)
    with pytest.raises(ValueError, match="options: smoothgrad_sample not known"):
        @method_with_passes("typo")
        class Typo(tb_saliency.attribution.MethodWithPasses):
            options = ("smoothgrad_sample",)
    assert "typo" not in REGISTRY


def test_unregistering_frees_the_name():
    with custom_methods():
        assert "blackout" in METHODS
    assert "blackout" not in METHODS and "blackout" not in REGISTRY
    with pytest.raises(ValueError, match="methods: unknown method 'blackout'"):
        explain(torch.nn.Linear(3, 2), torch.randn(2, 3), "blackout")
    with pytest.raises(ValueError, match="name: no method named 'blackout' is registered"):
        unregister("blackout")


def test_a_kind_the_dispatch_does_not_know_is_an_error_not_another_methods_map(custom):
    from tb_saliency.attribution.engine import _Run

    with pytest.raises(ValueError, match="space: expected one of 'input', 'layer', 'model', got 'audio'"):
        dataclasses.replace(REGISTRY["gradient_squared"], space="audio")
    with pytest.raises(ValueError, match="shared_pass: expected None or one of 'clean', got 'noisy'"):
        dataclasses.replace(REGISTRY["gradient_squared"], shared_pass="noisy")
    # A record changed behind the registry's back: the engine refuses it rather than run a default.
    object.__setattr__(REGISTRY["gradient_squared"], "shared_pass", "noisy")
    with pytest.raises(ValueError, match="methods: 'gradient_squared' reads the shared pass 'noisy'.*cannot compute"):
        explain(custom.linear_model(), probe(), "gradient_squared")
    object.__setattr__(REGISTRY["gradient_squared"], "space", "audio")
    with pytest.raises(ValueError, match="methods: 'gradient_squared' has space 'audio'"):
        _Run.map(_Run.__new__(_Run), REGISTRY["gradient_squared"], None, "gradient_squared")


def test_undeclared_statistics_are_an_error(custom):
    @method_with_passes("chatty")
    class Chatty(tb_saliency.attribution.MethodWithPasses):
        chunked = False

        def compute(self, context):
            context.statistics["surprise"] = context.clean_scores
            return context.inputs

    try:
        with pytest.raises(RuntimeError, match=r"chatty: returned statistics \['surprise'\], but its record declares \[\]"):
            explain(custom.linear_model(), probe(), "chatty")
    finally:
        unregister("chatty")


def test_registered_methods_are_logged_and_read_back(custom, tmp_path):
    model, x = custom.linear_model(), probe()
    expected, dark = closed_forms(model, x)
    writer = tb_saliency.SummaryWriter(str(tmp_path / "run"))
    try:
        tb_saliency.log_saliency(writer, "probe", model, x, methods=CUSTOM, layer="0", target=TARGET,
                                 global_step=3, dtype="float32")
        writer.add_saliency("other", model, x, methods="blackout", target=TARGET, global_step=4, dtype="float32")
    finally:
        writer.close()
    frames = {frame.tag: frame for frame in tb_saliency.read(str(tmp_path))}
    frame = frames["probe"]
    assert frame.step == 3 and list(frame.maps) == CUSTOM
    for key in CUSTOM:
        torch.testing.assert_close(torch.from_numpy(frame.maps[key]).float(), expected[key].float())
    assert frame.options["gradcam_max"]["weights"] == "max_ij g"
    assert frame.options["blackout"]["fill"] == "zeros"
    torch.testing.assert_close(torch.as_tensor(frame.statistics["blackout"]["blackout_score"]).float(), dark.float())
    assert list(frames["other"].maps) == ["blackout"]


def test_the_readme_method_table_is_the_one_the_records_give():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^\| method \| map \|.*?\n(?=\n)", readme, flags=re.S | re.M)
    assert match, "README.md has no method table"
    generated = subprocess.run([sys.executable, "-m", "tb_saliency.attribution", "--markdown"], check=True,
                               capture_output=True, text=True, cwd=ROOT).stdout
    assert match.group(0) == generated, "regenerate it: python -m tb_saliency.attribution --markdown"
