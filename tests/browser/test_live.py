"""New steps while training runs: the tab picks them up and keeps the user's place."""

import time

import numpy as np

from tests.support.tensorboard import get_json, tensorboard


def write_steps(logdir, run, steps):
    from tb_saliency import SummaryWriter

    rng = np.random.default_rng(len(steps))
    writer = SummaryWriter(f"{logdir}/{run}")
    try:
        for step in steps:
            writer.add_saliency_map("probe", rng.uniform(size=(2, 3, 8, 8)).astype(np.float32),
                                    {"gradient": rng.normal(size=(2, 8, 8)).astype(np.float32)},
                                    global_step=step)
    finally:
        writer.close()


def wait_for_step(url, run, step, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frames = get_json(f"{url}data/plugin/saliency/frames?run={run}&tag=probe")["frames"]
        if frames and frames[-1]["step"] == step:
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


def test_new_steps_appear_and_the_users_place_is_kept(open_tab, tmp_path):
    write_steps(tmp_path, "follow", [0, 1])
    write_steps(tmp_path, "stay", [0, 1])
    with tensorboard(tmp_path, load_fast=False, reload_interval=1) as url:
        tab = open_tab(url)
        follow = tab.card("follow")
        stay = tab.card("stay")
        for card in (follow, stay):
            card.locator("table.tbs-grid canvas").first.wait_for(timeout=20_000)
            assert step_of(card) == 1
        # The user moves one card back to step 0.
        stay.locator(".tbs-step input[type=range]").focus()
        tab.page.keyboard.press("Home")
        assert step_of(stay) == 0

        write_steps(tmp_path, "follow", [2])
        write_steps(tmp_path, "stay", [2])
        wait_for_step(url, "follow", 2)
        wait_for_step(url, "stay", 2)

        # TensorBoard's own reload button reaches the plugin through its message port.
        tab.page.locator("button.reload-button").click()
        wait_for_text(follow.locator(".tbs-step strong"), "2")
        assert step_of(stay) == 0, "a card the user moved stays where it is"
        assert stay.locator(".tbs-step input[type=range]").get_attribute("max") == "2"

        # The dashboard's own refresh button works too.
        write_steps(tmp_path, "follow", [3])
        wait_for_step(url, "follow", 3)
        tab.frame.get_by_role("button", name="Reload saliency data").click()
        wait_for_text(follow.locator(".tbs-step strong"), "3")
        assert not tab.errors, tab.errors
