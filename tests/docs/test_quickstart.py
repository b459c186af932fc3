"""docs/quickstart.ipynb runs from top to bottom in a fresh ipykernel `python3` kernel, as a reader
runs it, in a temporary folder (its logdir lands there) and with fewer training steps; then the test
checks what the notebook promised: the tutorial's model logged with no layer named, its frames read
back and drawn inline. The notebook is committed without outputs, and never starts TensorBoard."""

import base64
import io
import json
import os

import pytest
from PIL import Image

from tests.support.scripts import ROOT

NOTEBOOK = ROOT / "docs" / "quickstart.ipynb"
STEPS = 40  # enough for the model to learn the generated digits; the notebook's default is 200
CELL_TIMEOUT_S = 900  # the training cell on two busy CPU cores

# Runs after the notebook's own cells, in its kernel: what it read back and drew, as JSON.
CHECK = """
import json
grad, act = quickstart["grad"], quickstart["act"]
print(json.dumps({
    "frames": [[frame.run, frame.tag, frame.step] for frame in quickstart["frames"]],
    "grad_options": grad.options["gradcam"],
    "grad_maps": {key: list(maps.shape) for key, maps in grad.maps.items()},
    "images": [list(grad.images.shape), str(grad.images.dtype)],
    "act": [act.activations.layer, list(act.activations.values.shape)],
    "overlays": [list(quickstart["gradcam_overlays"].shape), str(quickstart["gradcam_overlays"].dtype)],
    "ig_signed": list(quickstart["ig_signed"].shape),
    "metrics": {key: {name: [float(v) for v in metric["values"]] for name, metric in by_name.items()}
                for key, by_name in quickstart["methods"][-1].metrics.items()},
    "labels": quickstart["methods"][-1].labels,
    "predictions": quickstart["methods"][-1].predictions,
}))
"""


def _notebook():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def _source(cell):
    return "".join(cell["source"])


def test_the_notebook_is_committed_without_outputs():
    code_cells = [cell for cell in _notebook()["cells"] if cell["cell_type"] == "code"]
    assert code_cells
    dirty = [i for i, cell in enumerate(code_cells) if cell["outputs"] or cell["execution_count"] is not None]
    assert not dirty, f"code cells {dirty} of {NOTEBOOK.name} hold outputs: clear them before committing " \
                      "(Jupyter's Clear All Outputs, or jupyter nbconvert --clear-output --inplace)"


def test_the_notebook_shows_how_to_open_the_tab_without_starting_it():
    cells = _notebook()["cells"]
    text = "\n".join(_source(cell) for cell in cells if cell["cell_type"] == "markdown")
    assert "%load_ext tensorboard" in text and "%tensorboard --logdir runs/quickstart" in text
    assert "tensorboard --logdir runs/quickstart" in text.replace("%tensorboard", "")
    code = "\n".join(_source(cell) for cell in cells if cell["cell_type"] == "code")
    assert "%tensorboard" not in code and "tensorboard --logdir" not in code and "program.TensorBoard" not in code


@pytest.mark.training
def test_the_notebook_runs_top_to_bottom(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK))
    path = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path, "QUICKSTART_STEPS": str(STEPS)}
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend, which turns figures into outputs
    env.pop("QUICKSTART_LOGDIR", None)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)  # raises CellExecutionError, with the cell and its traceback, on any error

    [result] = [output["text"] for output in notebook.cells[-1].outputs if output.get("name") == "stdout"]
    result = json.loads(result)
    logged = (0, STEPS // 2, STEPS)
    assert result["frames"] == [["digits", tag, step] for tag in ("act", "grad", "methods") for step in logged]
    assert (tmp_path / "runs" / "quickstart" / "digits").is_dir()  # the logdir is the kernel's folder's

    # Grad-CAM and activations found the last convolution by themselves, and said which.
    assert result["grad_options"]["layer"] == "6"
    assert result["grad_options"]["layer_selection"].startswith("default")
    assert result["grad_maps"] == {"gradcam": [8, 7, 7]}
    assert result["act"] == ["6", [8, 16, 7, 7]]
    assert result["images"][0][:3] == [8, 28, 28] and result["images"][1] == "uint8"
    assert result["overlays"] == [[8, 28, 28, 3], "uint8"] and result["ig_signed"] == [8, 28, 28, 3]

    # Every map was scored, and the scores are what the metrics define.
    assert set(result["metrics"]) == {"gradcam", "integrated_gradients"}
    for by_name in result["metrics"].values():
        assert set(by_name) == {"deletion", "pointing_game"}
        assert len(by_name["deletion"]) == 8 and all(auc >= 0 for auc in by_name["deletion"])
        assert set(by_name["pointing_game"]) <= {0.0, 1.0}
    # Integrated gradients from a black baseline lie on the strokes, as the notebook says.
    assert sum(result["metrics"]["integrated_gradients"]["pointing_game"]) >= 6
    # The model learned the digits in the notebook's few steps.
    right = sum(label == prediction for label, prediction in zip(result["labels"], result["predictions"]))
    assert right >= 5, (result["labels"], result["predictions"])

    # The frame at the end of a cell drew itself inline: 8 samples × (input, gradcam, integrated gradients),
    # each 28-pixel tile enlarged by the whole factor that reaches 96 pixels (4: 112), 2-pixel gaps.
    [grid_cell] = [cell for cell in notebook.cells if _source(cell).strip().endswith("\nlast")]
    [png] = [output["data"]["image/png"] for output in grid_cell.outputs if "image/png" in output.get("data", {})]
    grid = Image.open(io.BytesIO(base64.b64decode(png)))
    assert grid.size == (3 * 112 + 2 * 2, 8 * 112 + 7 * 2)
    # Frame.show and the plt.imshow figures reached the notebook as pictures too.
    figures = [output for cell in notebook.cells for output in cell.get("outputs", [])
               if "image/png" in output.get("data", {})]
    assert len(figures) == 6  # the digits, the grid, the render figure, two show()s, the activations grid
