"""Options a method declares itself: a method registered from outside the package brings its own
option, which is validated, passed to it, stored with its maps, refused for other methods, and
forgotten with it; the built-in methods declare theirs in their own files; the README's options
table is the one the records give."""

import pathlib
import re
import subprocess
import sys

import pytest
import torch

import tb_saliency
from tb_saliency.attribution import OPTIONS, REGISTRY, MethodWithPasses, Option, explain, input_method
from tb_saliency.attribution import method_with_passes, options, unregister
from tb_saliency.attribution import integrated_gradients, smoothgrad
from tests.support.registry import custom_methods

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = [0, 2]


@pytest.fixture
def power_method():
    with custom_methods("tests.support.option_method") as module:
        yield module


def linear_model(seed=0):
    """A layer "0" that passes the input on, then one linear layer: g = W[target] for every sample.
    (As custom_method.linear_model, which cannot be imported without registering that module's methods.)"""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Identity(), torch.nn.Flatten(), torch.nn.Linear(48, 3))


def probe():
    return torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def expected_map(model, power):
    g = model[2].weight.detach()[TARGET].view(2, 3, 4, 4)
    return (g.abs() ** power).sum(dim=1)


def test_an_own_option_is_passed_to_the_method_and_stored_with_its_maps(power_method):
    model, x = linear_model().double(), probe()
    for given, power in (({}, 2.0), ({"power": 3}, 3.0), ({"power": 0.5}, 0.5)):
        result = explain(model, x, "gradient_power", target=TARGET, **given).maps["gradient_power"]
        torch.testing.assert_close(result.values, expected_map(model, power), rtol=1e-12, atol=0)
        assert result.options == {"channel_reduction": "signed_sum", "model_mode": "eval", "power": power}
    assert OPTIONS["power"] is power_method.POWER
    assert REGISTRY["gradient_power"].all_options == ("channel_reduction", "power")


def test_an_own_option_is_validated_by_its_check_and_refused_where_unused(power_method):
    model, x = linear_model(), probe().float()
    for bad in (-1, 0, 9, "2", True, None):
        with pytest.raises(ValueError, match=r"power: expected a number in \(0, 8\], got"):
            explain(model, x, "gradient_power", target=TARGET, power=bad)
    with pytest.raises(ValueError, match=r"power: not used by the requested methods \(gradient, smoothgrad\); "
                                         r"it applies to gradient_power"):
        explain(model, x, ["gradient", "smoothgrad"], target=TARGET, power=3)
    with pytest.raises(ValueError, match="smoothgrad_samples: not used by the requested methods .gradient_power."):
        explain(model, x, "gradient_power", smoothgrad_samples=3)
    with pytest.raises(TypeError, match=r"powr: unknown option \(did you mean 'power'\?\)"):
        explain(model, x, "gradient_power", powr=3)
    # Both methods take it: one explain call serves them.
    result = explain(model, x, ["gradient", "gradient_power"], target=TARGET, power=1)
    assert result.maps["gradient_power"].options["power"] == 1.0 and "power" not in result.maps["gradient"].options


def test_an_own_option_is_logged_read_back_and_checked_when_the_writer_is_set_up(power_method, tmp_path):
    model, x = linear_model(), probe().float()
    writer = tb_saliency.SummaryWriter(str(tmp_path / "run"))
    try:
        tb_saliency.log_saliency(writer, "probe", model, x, methods="gradient_power", target=TARGET, power=3,
                                 global_step=1, dtype="float32")
        with pytest.raises(ValueError, match=r"power: expected a number in \(0, 8\], got -1"):
            tb_saliency.log_saliency(writer, "probe", model, x, methods="gradient_power", power=-1)
    finally:
        writer.close()
    (frame,) = tb_saliency.read(str(tmp_path))
    assert frame.options["gradient_power"]["power"] == 3.0
    torch.testing.assert_close(torch.from_numpy(frame.maps["gradient_power"]).double(),
                               expected_map(model.double(), 3.0), rtol=1e-6, atol=0)


def test_unregistering_forgets_an_option_no_other_method_takes(power_method):
    @input_method("gradient_power_too", options=[power_method.POWER])  # the same object: shared
    def gradient_power_too(x, g, *, power):
        return g * power

    unregister("gradient_power")
    assert "power" in OPTIONS, "gradient_power_too still takes it"
    assert explain(linear_model(), probe().float(), "gradient_power_too", target=TARGET,
                   power=4).maps["gradient_power_too"].options["power"] == 4.0
    unregister("gradient_power_too")
    assert "power" not in OPTIONS and "power" not in options.markdown_table()
    with pytest.raises(TypeError, match="power: unknown option"):
        explain(linear_model(), probe().float(), "gradient", power=3)
    # Shared options stay whoever leaves.
    assert {"seed", "generator", "memory_limit", "cam_relu", "reshape", "channel_reduction"} <= set(OPTIONS)


def test_a_different_option_under_a_taken_name_is_an_error_and_registers_nothing(power_method):
    other_power = Option("power", 1.0, power_method.check_power, "another exponent")
    with pytest.raises(ValueError, match="options: 'power' of method 'cube' differs from the option 'power' that "
                                         "gradient_power declared"):
        @input_method("cube", options=[other_power])
        def cube(x, g, *, power):
            return g**3

    with pytest.raises(ValueError, match="options: 'seed' of method 'reseeded' differs from the option 'seed'"):
        @method_with_passes("reseeded")
        class Reseeded(MethodWithPasses):
            options = (Option("seed", 1, lambda name, value: value),)

    with pytest.raises(ValueError, match="options: 'smoothgrad_samples' of method 'more_samples' differs"):
        input_method("more_samples", options=[Option("smoothgrad_samples", 9, options.copies)])(lambda x, g: g)
    assert not {"cube", "reseeded", "more_samples"} & set(REGISTRY)
    assert OPTIONS["power"] is power_method.POWER and OPTIONS["seed"].default == 0
    # An equal record is the same option.
    twin = Option("power", 2.0, power_method.check_power, "exponent of |∂f/∂x|")
    input_method("twin", options=[twin])(lambda x, g, *, power: g)
    try:
        assert OPTIONS["power"] is power_method.POWER
    finally:
        unregister("twin")


def test_a_method_with_passes_declares_options_and_checks_between_them():
    lo = Option("clip_low", 0.0, lambda name, value: float(value), "lower clip")
    hi = Option("clip_high", 1.0, lambda name, value: float(value), "upper clip")

    @method_with_passes("clipped_input")
    class ClippedInput(MethodWithPasses):
        options = (lo, hi)
        chunked = False
        needs_gradients = False

        def check_options(self, options):
            if options["clip_low"] >= options["clip_high"]:
                raise ValueError(f"clip_low: expected less than clip_high ({options['clip_high']}), "
                                 f"got {options['clip_low']}")

        def compute(self, context):
            low, high = context.options["clip_low"], context.options["clip_high"]
            context.record.update(low=low, high=high)
            return context.inputs.clamp(low, high)

    try:
        x = probe().float()
        result = explain(linear_model(), x, "clipped_input", clip_high=0.5).maps["clipped_input"]
        torch.testing.assert_close(result.values, x.clamp(0.0, 0.5).sum(dim=1))
        assert result.options["low"] == 0.0 and result.options["high"] == 0.5
        with pytest.raises(ValueError, match=r"clip_low: expected less than clip_high \(0.5\), got 0.7"):
            explain(linear_model(), x, "clipped_input", clip_low=0.7, clip_high=0.5)
        assert "| `clip_high` | 1.0 | clipped_input | upper clip |" in options.markdown_table()
    finally:
        unregister("clipped_input")
    assert "clip_low" not in OPTIONS and "clip_high" not in OPTIONS


@pytest.mark.parametrize("bad, error, message", [
    (dict(name="tag"), ValueError, "name: 'tag' is an argument of explain or the writers"),
    (dict(name="not an identifier"), ValueError, "name: expected an option name that is a Python identifier"),
    (dict(name="lambda"), ValueError, "name: expected an option name that is a Python identifier"),
    (dict(check="not callable"), TypeError, "check: expected a callable check.name, value. -> value, got str"),
    (dict(help=3), TypeError, "help: expected a str, got int"),
])
def test_a_malformed_option_is_an_error_naming_its_field(bad, error, message):
    fields = dict(name="power", default=1.0, check=lambda name, value: value, help="")
    with pytest.raises(error, match=message):
        Option(**{**fields, **bad})


def test_malformed_options_of_a_method_are_errors_naming_options():
    with pytest.raises(TypeError, match="options: expected a list of tb_saliency.attribution.Option records"):
        input_method("loose", options=Option("power", 1.0, lambda n, v: v))
    with pytest.raises(ValueError, match="options: no_such_option not known; known options: channel_reduction"):
        input_method("loose", options=["no_such_option"])(lambda x, g: g)
    assert "loose" not in REGISTRY


def test_the_reserved_option_names_are_the_writers_own_keywords():
    import inspect

    from tb_saliency.attribution.option_spec import RESERVED_NAMES

    parameters = inspect.signature(tb_saliency.log_saliency).parameters
    keywords = {name for name, p in parameters.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    assert keywords <= RESERVED_NAMES and not RESERVED_NAMES & set(OPTIONS)


def test_the_built_in_methods_declare_their_own_options_in_their_files():
    assert REGISTRY["smoothgrad"].declared_options == (smoothgrad.SAMPLES, smoothgrad.NOISE, smoothgrad.NOISE_TYPE,
                                                       smoothgrad.VARIANT)
    assert [o.name for o in REGISTRY["integrated_gradients"].declared_options] == [
        "ig_steps", "ig_rule", "baseline", "blur_sigma", "baseline_token"]
    assert OPTIONS["ig_steps"] is integrated_gradients.STEPS
    shared = {o.name for o in options.SHARED_OPTIONS}
    assert shared == {"channel_reduction", "cam_relu", "reshape", "memory_limit", "seed", "generator"}
    assert not shared & {o.name for record in REGISTRY.values() for o in record.declared_options}


def test_the_readme_options_table_is_the_one_the_records_give():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^\| option \| default \| for \| meaning \|.*?\n(?=\n)", readme, flags=re.S | re.M)
    assert match, "README.md has no options table"
    generated = subprocess.run([sys.executable, "-m", "tb_saliency.attribution", "--options"], check=True,
                               capture_output=True, text=True, cwd=ROOT).stdout
    assert match.group(0) == generated, "regenerate it: python -m tb_saliency.attribution --options"
    assert "| `memory_limit` | 128 MiB | smoothgrad, integrated_gradients, occlusion, rise, scorecam, ablationcam |" in generated
