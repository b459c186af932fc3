"""What TensorBoard and users import: light at start-up, lazy names, the registered entry point."""

import subprocess
import sys
from importlib import metadata


def _run(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_plugin_does_not_import_torch_or_the_generated_proto():
    loaded = _run(
        "import sys, tb_saliency.plugin; "
        "print(sorted(m for m in ('torch', 'PIL', 'tb_saliency.proto.saliency_pb2') "
        "if m in sys.modules))"
    )
    assert loaded == "[]"


def test_public_names_load_lazily():
    assert _run("import sys, tb_saliency; print('torch' in sys.modules)") == "False"
    assert _run(
        "from tb_saliency import SummaryWriter, attribute, METHODS; "
        "import torch.utils.tensorboard as t; print(issubclass(SummaryWriter, t.SummaryWriter))"
    ) == "True"


def test_targets_import_without_torch_and_are_registered_by_name():
    assert _run(
        "import sys, tb_saliency; t = tb_saliency.targets.sequence_logprob([5, 6]); "
        "print('torch' in sys.modules, list(tb_saliency.targets.TARGETS), t.reads, t.record['continuation_ids'])"
    ) == "False ['classes', 'segment', 'sequence_logprob', 'box_score', 'each_box'] logits [5, 6]"


def test_unknown_attribute_is_an_attribute_error():
    assert _run(
        "import tb_saliency\ntry:\n    tb_saliency.nope\nexcept AttributeError as e:\n    print(e)"
    ) == "module 'tb_saliency' has no attribute 'nope'"


def test_entry_point_is_registered_for_tensorboard():
    points = [p for p in metadata.entry_points(group="tensorboard_plugins") if p.name == "saliency"]
    assert [p.value for p in points] == ["tb_saliency.plugin:SaliencyPlugin"]
    assert points[0].load().plugin_name == "saliency"
