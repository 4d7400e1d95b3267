"""watch.health: dead and saturated units read as planted, gradient norms as a manual autograd pass, and
watching a run changes nothing it learns (no random draw, no write to the model)."""
from __future__ import annotations

import pytest
import torch
from support import requires_fmnist
from torch.nn import functional as F

from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.engine import Trainer, fit
from cnnkit.events import MetricPoint, Reporter
from cnnkit.models.registry import build_model
from cnnkit.plan import plan_run
from cnnkit.store import CHECKPOINT_NAME
from cnnkit.watch.health import ActivationHealth, LayerHealth, layer_labels
from cnnkit.watch.names import SPLIT
from cnnkit.watch.watcher import Watcher


def lenet(activation: str = "relu", seed: int = 0, **options) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model("lenet", activation=activation, **options).eval()


def images(n: int = 32, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def probe(net: torch.nn.Module, x: torch.Tensor) -> dict[str, float]:
    return ActivationHealth(net).measure(lambda: net(x))


class Points(Reporter):
    def __init__(self) -> None:
        self.points: list[MetricPoint] = []

    def log(self, points: list[MetricPoint]) -> None:
        self.points += points

    def health(self, name: str) -> list[MetricPoint]:
        return [p for p in self.points if p.split == SPLIT and p.name == name]

    def training(self) -> list[tuple]:
        """Every point but the health ones and the timings, without wall times."""
        return [(p.step, p.epoch, p.split, p.name, p.value) for p in self.points
                if p.split != SPLIT and p.name not in ("epoch_seconds", "images_per_sec")]


def test_layers_and_activations_are_named_by_kind_and_rank() -> None:
    assert list(layer_labels(lenet("sigmoid")).values()) == [
        "conv1", "conv1.sigmoid", "conv2", "conv2.sigmoid", "fc1", "fc1.sigmoid", "fc2", "fc2.sigmoid", "fc3"]
    labels = layer_labels(lenet("relu", batchnorm=True))
    assert list(labels.values())[:4] == ["conv1", "bn1", "bn1.relu", "conv2"]
    assert LayerHealth(lenet()).labels == ["conv1", "conv2", "fc1", "fc2", "fc3"]


def test_a_relu_after_a_large_negative_bias_reads_all_dead() -> None:
    net = lenet("relu")
    healthy = probe(net, images())
    assert healthy["conv1.relu.dead"] < 0.5 and healthy["fc1.relu.dead"] < 0.5
    with torch.no_grad():
        net[0].bias.fill_(-100.0)
    planted = probe(net, images())
    assert planted["conv1.relu.dead"] == 1.0 and planted["conv1.relu.mean"] == 0.0
    assert "conv1.relu.saturated" not in planted, "a ReLU does not saturate"


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_sigmoid_or_tanh_after_a_large_bias_reads_all_saturated(activation: str) -> None:
    net = lenet(activation)
    assert probe(net, images())["conv1." + activation + ".saturated"] < 0.5
    with torch.no_grad():
        net[0].bias.fill_(100.0)
    planted = probe(net, images())
    assert planted[f"conv1.{activation}.saturated"] == 1.0
    assert planted[f"conv1.{activation}.std"] == pytest.approx(0.0, abs=1e-6)
    assert "conv1.sigmoid.dead" not in planted


def test_activation_statistics_pool_the_chunks_of_the_probe_batch() -> None:
    net, x = lenet("sigmoid"), images(40)
    whole = probe(net, x)
    chunked = ActivationHealth(net).measure(lambda: [net(part) for part in x.split(16)])
    assert chunked == pytest.approx(whole, rel=1e-6, abs=1e-9)
    with torch.no_grad():
        out = torch.sigmoid(net[0](x))
    assert whole["conv1.sigmoid.mean"] == pytest.approx(float(out.mean()), rel=1e-5)
    assert whole["conv1.sigmoid.std"] == pytest.approx(float(out.std(unbiased=False)), rel=1e-4)


@requires_fmnist
def test_a_planted_dead_layer_reads_dead_in_a_real_run(fmnist: loading.Data) -> None:
    config = RunConfig(model_options={"activation": "relu"}, lr=0.1, epochs=1, subset=0.01, test_subset=0.02,
                       device="cpu")
    trainer = Trainer(plan_run(config), fmnist, None)
    with torch.no_grad():
        trainer.model[0].bias.fill_(-100.0)  # nothing flows back through a dead ReLU: it stays dead
    reporter = Points()
    trainer.train(reporter, lambda: False)
    assert [p.value for p in reporter.health("conv1.relu.dead")] == [1.0]
    assert all(p.value == 0.0 for p in reporter.health("conv1.grad_norm"))
    assert reporter.health("fc3.grad_norm")[-1].value > 0


@requires_fmnist
def test_gradient_norms_equal_a_manual_autograd_pass_on_the_same_batch(fmnist: loading.Data) -> None:
    config = RunConfig(model_options={"activation": "sigmoid"}, init="xavier", lr=0.9, epochs=1, batch_size=64,
                       subset=0.02, test_subset=0.02, shuffle=False, reports_per_epoch=100, device="cpu")
    reporter = Points()
    fit(config, reporter, dataset=fmnist)
    plan = plan_run(config)
    model, _ = plan.build_model()  # the run's initial weights (same seed, same scheme)
    data = loading.variant(fmnist, config.subset, config.test_subset, seed=config.seed)
    F.cross_entropy(model(plan.transform(data.train_x[:64])), data.train_y[:64]).backward()  # the first step
    layers = {"conv1": model[0], "conv2": model[3], "fc1": model[7], "fc2": model[9], "fc3": model[11]}
    for label, layer in layers.items():
        grads = torch.cat([p.grad.flatten() for p in layer.parameters()])
        weights = torch.cat([p.detach().flatten() for p in layer.parameters()])
        stepped = weights - config.lr * grads  # plain SGD
        first = {q: reporter.health(f"{label}.{q}")[0] for q in ("grad_norm", "weight_norm", "update_ratio")}
        assert first["grad_norm"].step == 1
        assert first["grad_norm"].value == pytest.approx(float(grads.norm()), rel=1e-4)
        assert first["weight_norm"].value == pytest.approx(float(stepped.norm()), rel=1e-4)
        assert first["update_ratio"].value == pytest.approx(float((config.lr * grads).norm() / stepped.norm()),
                                                            rel=1e-3)


def test_watching_draws_no_random_number_and_writes_nothing_to_the_model() -> None:
    config = RunConfig(model_options={"activation": "relu", "dropout": 0.5}, epochs=1, device="cpu")
    plan = plan_run(config)
    model, _ = plan.build_model()
    x = torch.randint(0, 256, (20, 1, 28, 28), dtype=torch.uint8)
    y = torch.arange(20) % 10
    data = loading.Data(plan.dataset, x, y, x, y)
    model.train()
    torch.nn.functional.cross_entropy(model(plan.transform(x)), y).backward()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grads = [p.grad.clone() for p in model.parameters()]
    rng = torch.get_rng_state()
    watcher = Watcher(plan, model, data, data, snapshots=True)
    watcher.before_step()
    watcher.report()

    def evaluate(images: torch.Tensor, labels: torch.Tensor) -> None:
        model.eval()
        with torch.inference_mode():
            model(plan.transform(images))
        model.train()

    watcher.end_epoch(1, evaluate, torch.zeros(10, 10, dtype=torch.long))
    assert torch.equal(torch.get_rng_state(), rng), "no random number drawn"
    assert model.training
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))
    assert watcher.snapshot_state()["snapshots"][0]["epoch"] == 1


@requires_fmnist
def test_a_run_learns_the_same_with_and_without_watching(fmnist: loading.Data, tmp_path) -> None:
    config = RunConfig(model_options={"activation": "relu", "dropout": 0.5, "batchnorm": True}, augment=("flip",),
                       lr=0.1, epochs=2, subset=0.01, test_subset=0.02, batch_size=64, device="cpu", seed=3)
    runs = {}
    for watch in (True, False):
        reporter = Points()
        fit(config, reporter, checkpoint=tmp_path / f"{watch}-{CHECKPOINT_NAME}", dataset=fmnist,
            snapshots=tmp_path / "snapshots.pt" if watch else None, watch=watch)
        runs[watch] = reporter
    assert runs[True].training() == runs[False].training()
    assert runs[True].health("conv1.grad_norm") and not runs[False].health("conv1.grad_norm")
    states = [torch.load(tmp_path / f"{w}-{CHECKPOINT_NAME}", weights_only=True) for w in (True, False)]
    for key, value in states[0]["model"].items():
        assert torch.equal(value, states[1]["model"][key]), key
