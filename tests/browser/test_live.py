"""While training runs: the tab picks up new steps, keeps the user's place, and notices a run that
was deleted and written again."""

import shutil
import time

import numpy as np
import pytest

from tests.support.tensorboard import get_json, tensorboard


class Training:
    """One open writer per run, as a training loop keeps it, flushed after each step.

    One writer per step would start a new event file each time; torch numbers those files with a
    per-process counter, and once it gains a digit within the same second ("...9" then "...10") the
    names sort out of order and TensorBoard's Python loader never reads the newer file."""

    def __init__(self, logdir):
        self.logdir = logdir
        self.writers = {}
        self.rng = np.random.default_rng(0)

    def write(self, run, steps):
        from tb_saliency import SummaryWriter

        if run not in self.writers:
            self.writers[run] = SummaryWriter(f"{self.logdir}/{run}")
        writer = self.writers[run]
        for step in steps:
            writer.add_saliency_map("probe", self.rng.uniform(size=(2, 3, 8, 8)).astype(np.float32),
                                    {"gradient": self.rng.normal(size=(2, 8, 8)).astype(np.float32)},
                                    global_step=step)
        writer.flush()

    def close(self):
        for writer in self.writers.values():
            writer.close()


def wait_for_step(url, run, step, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        steps = get_json(f"{url}data/plugin/saliency/steps?run={run}&tag=probe")["steps"]
        if steps and steps[-1]["step"] == step:
            return
        time.sleep(0.2)
    raise AssertionError(f"TensorBoard never loaded step {step} of {run}")


def step_of(card):
    return int(card.locator(".tbs-step strong").inner_text())


def wait_for_text(locator, expected, timeout_s=15):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if locator.inner_text() == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"{locator} shows {locator.inner_text()!r}, expected {expected!r}")


@pytest.fixture
def training(tmp_path):
    training = Training(tmp_path)
    yield training
    training.close()


def test_new_steps_appear_and_the_users_place_is_kept(open_tab, tmp_path, training):
    training.write("follow", [0, 1])
    training.write("stay", [0, 1])
    with tensorboard(tmp_path, load_fast=False, reload_interval=1) as url:
        tab = open_tab(url)
        follow = tab.card("follow")
        stay = tab.card("stay")
        for card in (follow, stay):
            card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
            assert step_of(card) == 1
        tab.settled()
        # The user moves one card back to step 0.
        stay.locator(".tbs-step input[type=range]").focus()
        tab.page.keyboard.press("Home")
        assert step_of(stay) == 0

        training.write("follow", [2])
        training.write("stay", [2])
        wait_for_step(url, "follow", 2)
        wait_for_step(url, "stay", 2)

        # TensorBoard's own reload button reaches the plugin through its message port.
        tab.page.locator("button.reload-button").click()
        wait_for_text(follow.locator(".tbs-step strong"), "2")
        assert step_of(stay) == 0, "a card the user moved stays where it is"
        assert stay.locator(".tbs-step input[type=range]").get_attribute("max") == "2"

        # The dashboard's own refresh button works too.
        training.write("follow", [3])
        wait_for_step(url, "follow", 3)
        tab.frame.get_by_role("button", name="Reload saliency data").click()
        wait_for_text(follow.locator(".tbs-step strong"), "3")
        assert not tab.errors, tab.errors


def write_maps(logdir, run, steps, images, maps):
    from tb_saliency import SummaryWriter

    writer = SummaryWriter(f"{logdir}/{run}")
    try:
        for step in steps:
            writer.add_saliency_map("probe", images, maps, global_step=step)
    finally:
        writer.close()


def wait_until(condition, what, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(what)


def column_keys(card):
    return card.locator("thead .tbs-col-key").all_inner_texts()


@pytest.mark.parametrize("load_fast", [False, True], ids=["python-loader", "rust-loader"])
def test_a_run_deleted_and_written_again_shows_its_new_maps(open_tab, tmp_path, load_fast):
    # Blob keys name (run, tag, step, index), so the rewritten steps reuse the old steps' keys for
    # new bytes: only the new wall times tell them apart.
    rng = np.random.default_rng(7)
    images = rng.uniform(size=(2, 3, 8, 8)).astype(np.float32)
    first = {"gradient": rng.normal(size=(2, 8, 8)).astype(np.float32),
             "gradcam": rng.uniform(size=(2, 4, 4)).astype(np.float32)}
    # The same columns with new values: the step list names the very same blob keys as before.
    same_columns = {"gradient": rng.normal(size=(2, 8, 8)).astype(np.float32),
                    "gradcam": rng.uniform(size=(2, 4, 4)).astype(np.float32)}
    # One column, a ramp from 1 to 64: its top-left cell reads exactly 1, which noise does not.
    one_column = {"gradient": np.tile(np.arange(1, 65, dtype=np.float32).reshape(8, 8), (2, 1, 1))}
    write_maps(tmp_path, "rewritten", [0, 1], images, first)
    with tensorboard(tmp_path, load_fast=load_fast, reload_interval=1) as url:
        tags_url = f"{url}data/plugin/saliency/tags"
        steps_url = f"{url}data/plugin/saliency/steps?run=rewritten&tag=probe"
        tab = open_tab(url)
        card = tab.card("rewritten")
        card.locator("table.tbs-grid .tbs-tile").first.wait_for(timeout=20_000)
        assert column_keys(card) == ["input", "gradient", "gradcam"]
        gradient = tab.tile(card, 0, 0)
        tab.settled()

        def frame_of(step):
            return get_json(f"{url}data/plugin/saliency/frame?run=rewritten&tag=probe&step={step}")

        def rewrite(maps):
            """Deletes the run, writes steps 0 and 1 again with `maps`, and presses Refresh."""
            wall_times = [s["wall_time"] for s in get_json(steps_url)["steps"]]
            shutil.rmtree(tmp_path / "rewritten")
            wait_until(lambda: "rewritten" not in get_json(tags_url)["runs"],
                       "TensorBoard never noticed that the run was deleted")
            write_maps(tmp_path, "rewritten", [0, 1], images, maps)

            def loaded():
                if "rewritten" not in get_json(tags_url)["runs"]:
                    return False
                steps = get_json(steps_url)["steps"]
                return [s["step"] for s in steps] == [0, 1] and all(
                    [m["key"] for m in frame_of(s["step"]).get("maps", [])] == list(maps) for s in steps)

            wait_until(loaded, "TensorBoard never loaded the rewritten run")
            assert not {s["wall_time"] for s in get_json(steps_url)["steps"]} & set(wall_times)
            tab.frame.get_by_role("button", name="Reload saliency data").click()

        before = tab.tile_pixels(gradient)
        rewrite(same_columns)
        after = tab.wait_tile_changed(gradient, before, "the card still draws the old maps", timeout_ms=15_000)
        assert column_keys(card) == ["input", "gradient", "gradcam"]

        rewrite(one_column)
        wait_until(lambda: column_keys(card) == ["input", "gradient"],
                   f"the card still shows the old columns: {column_keys(card)}", timeout_s=15)
        assert step_of(card) == 1
        tab.settled()
        assert tab.tile_pixels(gradient)["hash"] != after["hash"], "the card still draws the old map"
        gradient.hover(position={"x": 1, "y": 1})
        readout = tab.frame.locator(".tbs-tooltip").inner_text()
        assert "cell (0, 0)" in readout and "value 1\n" in readout + "\n", readout
        assert not tab.errors, tab.errors

