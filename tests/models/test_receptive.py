"""cnnkit.models.receptive: receptive fields per layer against hand-derived values: LeNet, AlexNet's stem, VGG's
3×3 stacks, ResNet's stem and blocks; fully connected layers and global pooling see the whole input."""
from __future__ import annotations

import torch
from torch import nn

from cnnkit.models import anatomy, registry
from cnnkit.models.receptive import PIXEL, WHOLE, Field, receptive_fields
from cnnkit.models.vgg import vgg_block


def fields_of(model: str, size: int | None = None, **options: object) -> dict[str, tuple]:
    size = size or registry.get(model).native_input
    with torch.device("meta"):
        net = registry.build_model(model, 1, 10, size, **options)
    return {name: (f.size, f.jump, f.start) for name, f in receptive_fields(net, (1, size, size)).items()}


def test_the_recurrence_of_one_layer() -> None:
    assert PIXEL.through(kernel=5, stride=1, padding=2) == Field(5, 1, -2)
    assert Field(5, 1, -2).through(kernel=2, stride=2, padding=0) == Field(6, 2, -2)
    assert Field(6, 2, -2).through(kernel=3, stride=1, padding=2, dilation=2) == Field(6 + 4 * 2, 2, -6)
    assert WHOLE.through(3, 1, 1) == WHOLE


def test_lenet_by_hand() -> None:
    # conv 5×5 pad 2: 5; avg-pool 2/2: 5 + 1 = 6, jump 2; conv 5×5: 6 + 4·2 = 14; pool: 14 + 1·2 = 16, jump 4
    fields = fields_of("lenet")
    assert fields["0"] == (5, 1, -2) and fields["1"] == (5, 1, -2)
    assert fields["2"] == (6, 2, -2)
    assert fields["3"] == (14, 2, -2)
    assert fields["5"] == (16, 4, -2)
    assert fields["6"] == fields["7"] == fields["11"] == (None, None, None), "flatten and FC see the whole image"


def test_alexnet_stem_by_hand() -> None:
    # conv 11×11 stride 4 (d2l pads 1): 11, jump 4; max-pool 3/2: 11 + 2·4 = 19, jump 8; conv 5×5 pad 2: 19 + 4·8 = 51
    d2l = fields_of("alexnet")
    assert (d2l["0"], d2l["2"], d2l["3"]) == ((11, 4, -1), (19, 8, -1), (51, 8, -17))
    paper = fields_of("alexnet", 227, original_stem=True)  # no padding: the first field starts at pixel 0
    assert (paper["0"], paper["2"], paper["3"]) == ((11, 4, 0), (19, 8, 0), (51, 8, -16))


def test_vgg_stacks_of_3x3_see_5x5_then_7x7() -> None:
    block = vgg_block(3, 1, 8, batchnorm=False)
    fields = {name: f for name, f in receptive_fields(block, (1, 32, 32)).items()}
    convs = [fields[name].size for name, m in block.named_modules() if isinstance(m, nn.Conv2d)]
    assert convs == [3, 5, 7], "one 3×3 sees 3×3, two see 5×5, three see 7×7"
    vgg16 = fields_of("vgg16", 32)
    assert [vgg16[n][0] for n in ("0.0.0", "0.0.2")] == [3, 5], "VGG-16's first block: two 3×3 convs"


def test_resnet_follows_the_widest_path_through_residual_blocks() -> None:
    fields = fields_of("resnet18", 96)
    assert fields["0.0"] == (7, 2, -3) and fields["0.3"] == (11, 4, -5)  # 7×7/2 stem, 3×3/2 max-pool pad 1
    assert fields["1.0.conv1"] == (19, 4, -9) and fields["1.0.conv2"] == (27, 4, -13)
    assert fields["1.1.conv1"] == (35, 4, -17), "the second block starts from the first block's output (add, relu)"
    assert fields["2.0.conv3"][0] < fields["2.0.conv2"][0], "the 1×1 shortcut sees less than the main path"
    assert fields["5"] == (None, None, None), "global average pooling sees everything"


def test_inception_concat_takes_its_widest_branch() -> None:
    fields = fields_of("googlenet", 96)
    block = {n: f for n, f in fields.items() if n.startswith("2.0.")}
    widest = max(f[0] for f in block.values())
    assert block["2.0.p3_2"][0] == widest, "the 5×5 path sees farthest"
    assert fields["2.1.p1_1"][0] == widest, "the next block starts from the concat of all four paths"


def test_the_mlp_sees_the_whole_input_everywhere() -> None:
    assert set(fields_of("mlp").values()) == {(None, None, None)}


def test_anatomy_rows_carry_the_fields() -> None:
    rows = {layer.name: layer for layer in anatomy.describe("lenet").layers}
    assert (rows["5"].rf_size, rows["5"].rf_jump, rows["5"].rf_start) == (16, 4, -2)
    assert rows["7"].rf_size is None
    assert anatomy.describe("lenet").to_dict()["layers"][3]["rf_size"] == 14
