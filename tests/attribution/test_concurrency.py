"""Attribution calls from several threads on one model: a logging thread beside training, several writers."""

import gc
import threading
import time
import weakref

import pytest
import torch
from torch import nn

from tb_saliency.attribution import activations, attribute, model_lock

from .helpers import assert_untouched, conv_net, images, snapshot, train_like


class Yield(nn.Module):
    """The identity, after giving up the GIL, so that the threads' forward passes interleave."""

    def forward(self, x):
        time.sleep(0.002)
        return x


def sleepy_net():
    base = train_like(conv_net())
    return nn.Sequential(*list(base)[:5], Yield(), *list(base)[5:])  # the last conv block is now "7"


CALLS = {
    "gradients": lambda model: attribute(model, images(), ["gradient", "gradcam"], layer="7"),
    "chunked": lambda model: attribute(model, images(), ["integrated_gradients", "scorecam"], layer="module.7"
                                       if isinstance(model, nn.DataParallel) else "7", ig_steps=3, memory_limit=1),
    "activations": lambda model: {"activations": activations(model, images(), layer="7", max_channels=2).values},
}


def run_threads(targets, rounds=3):
    errors, results = [], []
    start = threading.Barrier(len(targets))

    def worker(name, call, model):
        try:
            start.wait(timeout=30)
            for _ in range(rounds):
                results.append((name, call(model)))
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=worker, args=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors, results


def test_concurrent_calls_on_one_model_take_turns_and_restore_its_modes():
    model = sleepy_net()
    before = snapshot(model)
    reference = {name: call(model) for name, call in CALLS.items()}
    wrapper = nn.DataParallel(model)  # another writer given the wrapper: the same model, the same lock
    targets = [(name, call, model) for name, call in CALLS.items()] + [("chunked", CALLS["chunked"], wrapper)]
    errors, results = run_threads(targets)
    assert not errors, errors
    assert len(results) == 3 * len(targets)
    for name, maps in results:
        for key, values in maps.items():
            assert torch.equal(values, reference[name][key]), (name, key)
    assert_untouched(model, before)
    assert model.training and not model[1].training


def test_a_training_thread_holding_the_lock_keeps_calls_out_of_its_step():
    model = sleepy_net()
    events = []
    holding = threading.Event()

    def training_step():
        with model_lock(nn.DataParallel(model)):
            holding.set()
            for _ in range(5):
                model(images())  # in train mode: BatchNorm updates its statistics
                assert model.training, "a call put the model in eval mode during the training step"
            events.append("step done")

    def logging():
        holding.wait(timeout=30)
        attribute(model, images(), "gradcam", layer="7")
        events.append("maps done")

    errors, _ = run_threads([("train", lambda m: training_step(), model), ("log", lambda m: logging(), model)],
                            rounds=1)
    assert not errors, errors
    assert events == ["step done", "maps done"]


def test_locks_are_shared_by_wrappers_and_do_not_keep_models_alive():
    model = conv_net()
    assert model_lock(model) is model_lock(nn.DataParallel(model))
    assert model_lock(model) is not model_lock(conv_net())
    attribute(model, images(), "gradient")
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_a_callable_target_may_call_the_engine_on_the_same_model():
    model = conv_net()
    inner = []

    def target(outputs):
        inner.append(attribute(model, images(), "gradient", target=1)["gradient"])
        return outputs[:, 1]

    maps = attribute(model, images(), "gradient", target=target)
    torch.testing.assert_close(maps["gradient"], inner[0])


@pytest.mark.parametrize("layer", ["module.6", "6"])
def test_data_parallel_runs_its_module_and_takes_both_layer_names(layer):
    model = train_like(conv_net())
    before = snapshot(model)
    result = attribute(nn.DataParallel(model), images(), ["gradient", "gradcam"], layer=layer)
    reference = attribute(model, images(), ["gradient", "gradcam"], layer="6")
    for key in reference:
        assert torch.equal(result[key], reference[key])
    assert_untouched(model, before)
    assert activations(nn.DataParallel(model), images(), layer=layer).layer == "6"
