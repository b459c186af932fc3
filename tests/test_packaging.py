"""What `pip install tb_saliency` gets: no torch, one version, the bundle and schemas in the wheel,
the dashboard's sources in the sdist, metadata in pyproject.toml alone, and a README whose links work
on PyPI."""

import ast
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import tb_saliency

ROOT = Path(__file__).resolve().parent.parent


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _build(kind, out):
    code = f"from setuptools import build_meta as b; print(b.build_{kind}({str(out)!r}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / result.stdout.strip().splitlines()[-1]


@pytest.mark.packaging
def test_the_wheel_holds_the_bundle_and_schemas_and_requires_no_torch(tmp_path):
    wheel = _build("wheel", tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    for path in ("tb_saliency/static/index.js", "tb_saliency/proto/layout.json", "tb_saliency/proto/colormaps.json",
                 "tb_saliency/proto/saliency.proto",
                 "tb_saliency/proto/saliency_pb2.py", "tb_saliency/http_api.md", "tb_saliency/plugin.py"):
        assert path in names, path
    requirements = [line for line in info.splitlines() if line.startswith("Requires-Dist:")]
    assert not [r for r in requirements if "torch" in r and "extra ==" not in r], requirements
    assert f"Version: {tb_saliency.__version__}" in info
    assert "saliency = tb_saliency.plugin:SaliencyPlugin" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "frontend/", "demo/"))]


@pytest.mark.packaging
def test_the_sdist_holds_the_dashboards_sources_without_node_modules(tmp_path):
    sdist = _build("sdist", tmp_path)
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for path in ("LICENSE", "README.md", "pyproject.toml", "setup.py", "frontend/package.json", "frontend/package-lock.json",
                 "frontend/src/index.ts", "frontend/scripts/build.mjs", "tb_saliency/static/index.js"):
        assert path in names, path
    assert not [n for n in names if "node_modules" in n]


def test_the_version_lives_in_one_place():
    project = _project()
    assert "version" in project["dynamic"] and "version" not in project
    assert metadata.version("tb_saliency") == tb_saliency.__version__


def test_setup_py_is_a_shim_that_holds_no_metadata():
    tree = ast.parse((ROOT / "setup.py").read_text())
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    calls = [node.value for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    assert [ast.unparse(node) for node in imports] == ["from setuptools import setup"]
    assert [ast.unparse(call) for call in calls] == ["setup()"], "metadata belongs in pyproject.toml"
    assert len(tree.body) == 2, "setup.py holds an import and a bare setup() call, nothing else"


def test_the_torch_floor_is_the_torch_ci_tests_and_the_readme_names_both_tested_versions():
    pinned = re.search(r"\btorch==([\d.]+)", (ROOT / ".ci" / "run").read_text()).group(1)
    newest = re.search(r"^TORCH=([\d.]+)$", (ROOT / ".ci" / "newest_torch.sh").read_text(), re.M).group(1)
    [requirement] = [r for r in map(Requirement, _project()["optional-dependencies"]["torch"]) if r.name == "torch"]
    [floor] = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    assert Version(floor) == Version(pinned), f"the torch extra allows torch>={floor}, CI's oldest is {pinned}"
    assert Version(newest) > Version(pinned)
    assert f"CI tests torch {pinned} and {newest}, and no other release" in " ".join((ROOT / "README.md").read_text().split())


def test_tqdm_comes_with_the_torch_extra_only():
    project = _project()
    assert "tqdm" in {Requirement(r).name for r in project["optional-dependencies"]["torch"]}
    assert "tqdm" not in {Requirement(r).name for r in project["dependencies"]}


def test_readme_links_and_image_work_on_pypi():
    readme = (ROOT / "README.md").read_text()
    headings = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", readme, re.M)}
    repository = _project()["urls"]["Homepage"]
    for target in re.findall(r"\]\(([^)\s]+)\)", readme):
        if target.startswith("#"):
            assert target[1:] in headings, f"README links to a missing section {target}"
            continue
        assert target.startswith("https://"), f"a relative link breaks on PyPI: {target}"
        for prefix in (f"{repository}/blob/main/", repository.replace("github.com", "raw.githubusercontent.com") + "/main/"):
            if target.startswith(prefix):
                path = target[len(prefix):].split("#", 1)[0]
                assert (ROOT / path).exists(), f"README links to a file that is not here: {target}"
