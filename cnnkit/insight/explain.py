"""Attribution maps: where a trained network looks when it decides, from captum.

Grad-CAM (Selvaraju et al. 2017) weighs a conv layer's maps by the mean gradient of the class score
over each map and keeps the positive part, upsampled to the image; gradient saliency (Simonyan et
al. 2014) is the size of the class score's gradient at every input pixel (the largest over the
channels). Both explain the class the model predicts unless another target is given. A finished
run's model and its input pipeline come from cnnkit.activations, so a map is of what the model
really got; it is returned at the test image's own size (and unshuffled for pixel-permuted runs).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from captum.attr import LayerAttribution, Saliency
from torch import nn

from cnnkit.data import loading
from cnnkit.errors import ConfigError
from cnnkit.insight import activations
from cnnkit.store import Store
from cnnkit.watch.lens import gradcam, unpermute

METHODS = ("gradcam", "saliency")
COLORMAP = "jet"
PNG_SCALE = 8  # a 28-pixel image becomes 224 pixels wide in the PNG


@dataclass
class Explanation:
    """One test image of a run, what the model said about it, and the map of why."""

    run_id: str
    method: str
    layer: str | None  # the conv layer of Grad-CAM; None for saliency
    index: int  # in the dataset's test split
    label: int
    predicted: int
    confidence: float  # the predicted class's probability
    target: int  # the class the map explains
    image: np.ndarray  # (C, H, W) uint8
    heat: np.ndarray  # (H, W) float32, the raw map
    classes: tuple[str, ...]  # the dataset's class names

    def caption(self) -> str:
        classes = self.classes
        where = f" on layer {self.layer}" if self.layer else ""
        return (f"run {self.run_id} · test #{self.index} ({classes[self.label]}) · predicted "
                f"{classes[self.predicted]} ({100 * self.confidence:.1f} %) · {self.method}{where} for "
                f"{classes[self.target]}")


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ConfigError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def conv_layer(model: nn.Module, model_name: str, layer: str | None = None) -> tuple[str, nn.Module]:
    """The conv layer Grad-CAM weighs: ``layer`` by module name, by default the last one."""
    convs = activations.conv_layers(model)
    if not convs:
        raise ConfigError("method", f"gradcam needs a conv layer and {model_name} has none; use saliency")
    if layer is None:
        return convs[-1]
    for name, module in convs:
        if name == layer:
            return name, module
    names = ", ".join(name for name, _ in convs)
    raise ConfigError("layer", f"must be one of {model_name}'s conv layers ({names}; default the last), "
                               f"got {layer!r}")


def saliency(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
             size: tuple[int, int] | None = None) -> torch.Tensor:
    """|∂ score / ∂ pixel|, the largest over channels, for float model inputs (N, C, H, W): (N, H, W)."""
    with torch.enable_grad():
        grads = Saliency(model).attribute(inputs.clone().requires_grad_(True), target=targets, abs=True)
    maps = grads.detach().amax(1, keepdim=True)
    if size and tuple(maps.shape[-2:]) != tuple(size):
        maps = LayerAttribution.interpolate(maps, size, "bilinear")
    return maps[:, 0]


def attribution_maps(loaded: activations.LoadedRun, images: torch.Tensor, method: str = "gradcam",
                     layer: str | None = None, targets: torch.Tensor | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor, str | None]:
    """Maps (N, H, W) at the images' size for uint8 ``images`` (N, C, H, W) of a run's dataset.

    ``targets`` (N,) are the classes to explain, the predicted ones by default. Returns the maps,
    the targets and the Grad-CAM layer's name (None for saliency).
    """
    check_method(method)
    model = loaded.model
    inputs = activations.prepare(loaded, images)
    if targets is None:
        with torch.no_grad():
            targets = model(inputs).argmax(1)
    size = tuple(images.shape[-2:])
    if method == "gradcam":
        name, module = conv_layer(model, loaded.config.model, layer)
        maps = gradcam(model, inputs, module, targets, size)
    else:
        name, maps = None, saliency(model, inputs, targets, size)
    return unpermute(maps, loaded.permutation), targets, name


def explain_run(store: Store, run_id: str, index: int, method: str = "gradcam", layer: str | None = None,
                target: int | None = None, dataset: loading.Data | None = None) -> Explanation:
    """The map of test image ``index`` (of the run's dataset's test split) under run ``run_id``'s model."""
    check_method(method)
    loaded = activations.load_run(store, run_id)
    ds = dataset or loading.load(loaded.config.dataset)
    n = ds.test_y.numel()
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
        raise ConfigError("index", f"must be an integer in [0, {n - 1}] (the {ds.spec.title} test set), got {index!r}")
    classes = ds.spec.num_classes
    if target is not None and (isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < classes):
        raise ConfigError("target", f"must be a class in [0, {classes - 1}], got {target!r}")
    images = ds.test_x[[index]]
    probs = activations.predict(loaded, images)[0]
    predicted = int(probs.argmax())
    targets = torch.tensor([predicted if target is None else target])
    maps, _, layer_name = attribution_maps(loaded, images, method, layer, targets)
    return Explanation(loaded.run_id, method, layer_name, index, int(ds.test_y[index]), predicted,
                       float(probs[predicted]), int(targets[0]), images[0].numpy(), maps[0].float().numpy(),
                       ds.spec.classes)


def normalized(heat: np.ndarray) -> np.ndarray:
    """The map scaled to [0, 1]; a flat map (nothing stands out) is all zeros."""
    heat = np.asarray(heat, dtype=np.float32)
    low, high = float(heat.min()), float(heat.max())
    if high - low <= 1e-12 * max(1.0, abs(high)):
        return np.zeros_like(heat)
    return (heat - low) / (high - low)


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The map in colour over the image, (H, W, 3) uint8; ``image`` is (C, H, W) or (H, W) uint8."""
    from matplotlib import colormaps  # captum's own plotting dependency

    base = np.asarray(image, dtype=np.float32)
    if base.ndim == 3:
        base = base.transpose(1, 2, 0)
    else:
        base = base[..., None]
    if base.shape[-1] == 1:
        base = np.repeat(base, 3, axis=-1)
    colour = colormaps[COLORMAP](normalized(heat))[..., :3] * 255
    return np.clip((1 - alpha) * base + alpha * colour, 0, 255).astype(np.uint8)


def panels(explanation: Explanation) -> np.ndarray:
    """The image, the map and the overlay side by side, (H, 3·W + 2, 3) uint8, for a PNG."""
    from matplotlib import colormaps

    image = overlay(explanation.image, np.zeros_like(explanation.heat), alpha=0.0)
    heat = (colormaps[COLORMAP](normalized(explanation.heat))[..., :3] * 255).astype(np.uint8)
    both = overlay(explanation.image, explanation.heat)
    gap = np.full((image.shape[0], 1, 3), 255, dtype=np.uint8)
    return np.concatenate([image, gap, heat, gap, both], axis=1)


def png_path(path: Path | str) -> Path:
    """``path`` if it names a .png file; a one-line error otherwise."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ConfigError("out", f"must be a .png file, got {str(path)!r}")
    return path


def save_png(explanation: Explanation, path: Path | str, scale: int = PNG_SCALE) -> Path:
    """Write ``panels`` (enlarged ``scale`` times, pixels kept sharp) as a PNG file."""
    from PIL import Image

    path = png_path(path)
    strip = panels(explanation)
    picture = Image.fromarray(strip).resize((strip.shape[1] * scale, strip.shape[0] * scale), Image.NEAREST)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path)
    except OSError as exc:
        raise ConfigError("out", f"cannot write {path}: {exc.strerror or exc}") from None
    return path
