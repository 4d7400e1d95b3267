"""cnnkit.insight.explain: attribution maps, their shapes for every registry model, a blank image gives a flat
Grad-CAM map, maps respond to the input, a finished run's map end to end, and every user error in one line."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from support import requires_fmnist
from support.runs import trained_run

from cnnkit.config import RunConfig
from cnnkit.data import loading
from cnnkit.errors import ConfigError, StoreError
from cnnkit.insight import explain
from cnnkit.insight.activations import LoadedRun, conv_layers
from cnnkit.models import registry
from cnnkit.plan import plan_run
from cnnkit.store import Store

SIDES = {"alexnet": 65, "nin": 67, "vgg11": 32, "vgg16": 32, "googlenet": 32, "resnet18": 32}  # small, valid


def model_and_inputs(name: str, seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor]:
    spec = registry.get(name)
    side = SIDES.get(name, spec.native_input)
    channels = spec.in_channels or 1
    torch.manual_seed(seed)
    net = registry.build_model(name, channels, 10, side).eval()
    return net, torch.randn(2, channels, side, side)


@pytest.mark.parametrize("name", registry.names())
def test_maps_have_the_input_size_for_every_model(name: str) -> None:
    net, x = model_and_inputs(name)
    targets = torch.tensor([1, 7])
    sal = explain.saliency(net, x, targets)
    assert sal.shape == (2, *x.shape[-2:]) and bool((sal >= 0).all()) and bool(torch.isfinite(sal).all())
    if not conv_layers(net):
        with pytest.raises(ConfigError, match="^method: gradcam needs a conv layer and mlp has none; use saliency$"):
            explain.conv_layer(net, name)
        return
    layer_name, layer = explain.conv_layer(net, name)
    assert layer_name == conv_layers(net)[-1][0], "the last conv by default"
    cam = explain.gradcam(net, x, layer, targets)
    assert cam.shape == (2, *x.shape[-2:]) and bool((cam >= 0).all())
    assert explain.gradcam(net, x, layer, targets, size=(28, 28)).shape == (2, 28, 28)


@pytest.mark.parametrize("name", [n for n in registry.names() if n != "mlp"])
def test_a_blank_image_gives_a_flat_gradcam_map(name: str) -> None:
    # A blank (all-zero) input makes every map of the first conv its bias: constant, so Grad-CAM is flat.
    net, x = model_and_inputs(name)
    layer = conv_layers(net)[0][1]
    blank = explain.gradcam(net, torch.zeros_like(x[:1]), layer, torch.tensor([3]))
    assert float(blank.max() - blank.min()) <= 1e-6 * max(1.0, float(blank.abs().max()))
    assert not explain.normalized(blank[0].numpy()).any(), "a flat map shows nothing"
    images = explain.gradcam(net, x[:1].repeat(10, 1, 1, 1), layer, torch.arange(10))  # the map of every class
    assert float((images.amax((1, 2)) - images.amin((1, 2))).max()) > 0, "a real image is not flat"


def test_lenets_last_conv_is_flat_on_a_blank_image_too() -> None:
    net, x = model_and_inputs("lenet")
    _, last = explain.conv_layer(net, "lenet")
    blank = explain.gradcam(net, torch.zeros(1, 1, 28, 28), last, torch.tensor([0]))
    assert float(blank.max() - blank.min()) <= 1e-6 * max(1.0, float(blank.abs().max()))


@pytest.mark.parametrize("name", ["lenet", "resnet18", "mlp"])
def test_maps_respond_to_the_input(name: str) -> None:
    net, x = model_and_inputs(name, seed=1)
    targets = torch.tensor([2, 2])
    sal = explain.saliency(net, x, targets)
    assert not torch.allclose(sal[0], sal[1]), "two images, two saliency maps"
    moved = x.clone()
    moved[:, :, :4, :4] += 5.0
    assert not torch.allclose(explain.saliency(net, moved, targets), sal), "changing pixels changes the map"
    if name != "mlp":  # Grad-CAM of every class, for each image: an untrained net's maps of some classes are 0
        _, layer = explain.conv_layer(net, name)
        cams = [explain.gradcam(net, image.expand(10, -1, -1, -1), layer, torch.arange(10)) for image in x]
        assert cams[0].any() and not torch.allclose(cams[0], cams[1])


def test_layer_and_method_errors_are_one_line_and_say_what_is_allowed() -> None:
    net, _ = model_and_inputs("lenet")
    with pytest.raises(ConfigError, match=r"^layer: must be one of lenet's conv layers \(0, 3; default the last\), "
                                          r"got '7'$"):
        explain.conv_layer(net, "lenet", "7")
    assert explain.conv_layer(net, "lenet", "0")[0] == "0"
    with pytest.raises(ConfigError, match="^method: must be one of gradcam, saliency, got 'lime'$"):
        explain.check_method("lime")


def test_pixel_permuted_runs_get_their_maps_back_in_image_order() -> None:
    config = RunConfig(model="lenet", permute_pixels=True)
    plan = plan_run(config)
    torch.manual_seed(0)
    net = registry.build_model("lenet", 1, 10, 28).eval()
    permutation = loading.pixel_permutation(28, 28)
    permuted = LoadedRun("aaaaaaaa", "p", config, net, plan.dataset, plan.transform, permutation)
    plain = LoadedRun("bbbbbbbb", "q", config.replace(permute_pixels=False), net, plan.dataset, plan.transform, None)
    images = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    targets = torch.tensor([1, 4])
    back, _, _ = explain.attribution_maps(permuted, images, "saliency", targets=targets)
    shuffled = loading.permute_pixels(images, permutation)
    seen, _, _ = explain.attribution_maps(plain, shuffled, "saliency", targets=targets)
    assert torch.allclose(back.flatten(1)[:, permutation], seen.flatten(1))


def test_overlay_and_panels_are_rgb_images() -> None:
    image = np.zeros((1, 28, 28), dtype=np.uint8)
    heat = np.zeros((28, 28), dtype=np.float32)
    heat[10:14, 10:14] = 1.0
    over = explain.overlay(image, heat)
    assert over.shape == (28, 28, 3) and over.dtype == np.uint8
    assert not np.array_equal(over[12, 12], over[0, 0]), "the hot square shows"
    assert explain.normalized(np.full((4, 4), 3.0)).max() == 0.0


# ---- a finished run ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str, str]:
    """A tiny finished LeNet (ReLU, max-pool) and a tiny finished MLP in one store."""
    if not loading.is_available("fashion-mnist"):
        pytest.skip("Fashion-MNIST is not installed")
    store = Store(tmp_path_factory.mktemp("explain") / "store")
    ids = []
    for config in (RunConfig(model="lenet", model_options={"activation": "relu", "pool": "max"}, lr=0.1),
                   RunConfig(model="mlp")):
        ids.append(trained_run(store, config.replace(epochs=1, subset=0.02, test_subset=0.05, device="cpu")))
    return store, ids[0], ids[1]


@requires_fmnist
def test_explain_run_end_to_end(trained: tuple[Store, str, str], tmp_path: Path) -> None:
    store, lenet, _ = trained
    result = explain.explain_run(store, lenet, 17)
    assert (result.method, result.layer, result.index) == ("gradcam", "3", 17)
    assert result.heat.shape == (28, 28) and result.image.shape == (1, 28, 28)
    assert result.target == result.predicted and 0 < result.confidence <= 1
    assert f"test #17 ({result.classes[result.label]})" in result.caption()
    other = explain.explain_run(store, lenet, 17, "gradcam", layer="0", target=2)
    assert (other.layer, other.target) == ("0", 2) and not np.allclose(other.heat, result.heat)
    assert not np.allclose(explain.explain_run(store, lenet, 18).heat, result.heat), "another image, another map"
    out = explain.save_png(result, tmp_path / "map.png")
    assert Image.open(out).size == ((3 * 28 + 2) * explain.PNG_SCALE, 28 * explain.PNG_SCALE)


@requires_fmnist
def test_explain_run_errors_name_the_field(trained: tuple[Store, str, str]) -> None:
    store, lenet, mlp = trained
    for bad in (-1, 10_000, True):
        with pytest.raises(ConfigError, match=r"^index: must be an integer in \[0, 9999\] \(the Fashion-MNIST"):
            explain.explain_run(store, lenet, bad)
    with pytest.raises(ConfigError, match="^target: must be a class in"):
        explain.explain_run(store, lenet, 0, target=10)
    with pytest.raises(ConfigError, match="^method: gradcam needs a conv layer and mlp has none; use saliency$"):
        explain.explain_run(store, mlp, 0)
    assert explain.explain_run(store, mlp, 0, "saliency").heat.shape == (28, 28)
    queued = store.create_run(RunConfig(epochs=1))
    with pytest.raises(StoreError, match=f"^run {queued} \\(queued\\) has no checkpoint; only runs that finished"):
        explain.explain_run(store, queued, 0)
    with pytest.raises(ConfigError, match="^out: must be a .png file"):
        explain.png_path("map.jpg")
