"""VGG (Simonyan and Zisserman, ICLR 2015): the ConvNet configurations of Table 1, as the paper writes them."""

from collections import OrderedDict

from torch import nn

from ..notation import LRN_ARGS, parse
from ..registry import Family, Knob, register

# VGG paper, Table 1: ConvNet configurations (shown in columns). "conv<receptive field>-<channels>";
# the ReLU after each convolution is not shown, as in the paper.
TABLE_1 = {
    "A": [
        ["conv3-64"],
        ["conv3-128"],
        ["conv3-256", "conv3-256"],
        ["conv3-512", "conv3-512"],
        ["conv3-512", "conv3-512"],
    ],
    "A-LRN": [
        ["conv3-64", "LRN"],
        ["conv3-128"],
        ["conv3-256", "conv3-256"],
        ["conv3-512", "conv3-512"],
        ["conv3-512", "conv3-512"],
    ],
    "B": [
        ["conv3-64", "conv3-64"],
        ["conv3-128", "conv3-128"],
        ["conv3-256", "conv3-256"],
        ["conv3-512", "conv3-512"],
        ["conv3-512", "conv3-512"],
    ],
    "C": [
        ["conv3-64", "conv3-64"],
        ["conv3-128", "conv3-128"],
        ["conv3-256", "conv3-256", "conv1-256"],
        ["conv3-512", "conv3-512", "conv1-512"],
        ["conv3-512", "conv3-512", "conv1-512"],
    ],
    "D": [
        ["conv3-64", "conv3-64"],
        ["conv3-128", "conv3-128"],
        ["conv3-256", "conv3-256", "conv3-256"],
        ["conv3-512", "conv3-512", "conv3-512"],
        ["conv3-512", "conv3-512", "conv3-512"],
    ],
    "E": [
        ["conv3-64", "conv3-64"],
        ["conv3-128", "conv3-128"],
        ["conv3-256", "conv3-256", "conv3-256", "conv3-256"],
        ["conv3-512", "conv3-512", "conv3-512", "conv3-512"],
        ["conv3-512", "conv3-512", "conv3-512", "conv3-512"],
    ],
}
# Each column ends with: maxpool after every stage, FC-4096, FC-4096, FC-1000, soft-max.
WEIGHT_LAYERS = {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}


def stage(layers, in_channels, width, batch_norm):
    """One column block of Table 1, then its 2x2/2 max pool. Channels scale with width / 64."""
    modules, i = OrderedDict(), 0
    for text in layers:
        (layer,) = parse(text)  # the paper's notation, read by the custom builder's parser (cached)
        if layer.kind == "lrn":  # Krizhevsky et al.'s normalisation, as the VGG paper uses it
            modules["lrn"] = nn.LocalResponseNorm(**LRN_ARGS)
            continue
        i += 1
        field = layer.kernel[0]
        out_channels = max(1, round(layer.filters * width / 64))
        modules[f"conv{i}"] = nn.Conv2d(in_channels, out_channels, field, stride=1, padding=field // 2)
        if batch_norm:
            modules[f"bn{i}"] = nn.BatchNorm2d(out_channels)
        modules[f"relu{i}"] = nn.ReLU(inplace=True)
        in_channels = out_channels
    modules["pool"] = nn.MaxPool2d(kernel_size=2, stride=2)
    return nn.Sequential(modules), in_channels


def vgg(config="D", width=64, fc_width=4096, batch_norm=False, num_classes=1000, adaptive_pool=False, in_channels=3):
    blocks, channels = OrderedDict(), in_channels
    for i, layers in enumerate(TABLE_1[config], start=1):
        blocks[f"block{i}"], channels = stage(layers, channels, width, batch_norm)
    if adaptive_pool:  # torchvision's choice: 7x7 whatever the input, so FC-4096 always has 25,088 inputs
        blocks["avgpool"] = nn.AdaptiveAvgPool2d(7)
    blocks["classifier"] = nn.Sequential(
        OrderedDict(
            [
                ("flatten", nn.Flatten()),
                (
                    "fc1",
                    nn.LazyLinear(fc_width),
                ),  # its input is whatever the last pool leaves: 512x7x7 at 224, 512 at 32
                ("relu1", nn.ReLU(inplace=True)),
                ("drop1", nn.Dropout(0.5)),
                ("fc2", nn.Linear(fc_width, fc_width)),
                ("relu2", nn.ReLU(inplace=True)),
                ("drop2", nn.Dropout(0.5)),
                ("fc3", nn.Linear(fc_width, num_classes)),
                ("softmax", nn.Softmax(dim=1)),
            ]
        )
    )
    return nn.Sequential(blocks)


CONFIGS = tuple(TABLE_1)

register(
    Family(
        name="vgg",
        title="VGG",
        builder=vgg,
        knobs=(
            Knob(
                "config",
                "choice",
                "D",
                "Column of the paper's Table 1 (D is VGG-16, E is VGG-19).",
                choices=CONFIGS,
                label="configuration",
            ),
            Knob(
                "width",
                "int",
                64,
                "Kernels in the first stage; later stages double, capped at 8x (64-128-256-512-512).",
                1,
                256,
                label="kernels (first stage)",
            ),
            Knob(
                "fc_width",
                "int",
                4096,
                "Units of the two hidden fully connected layers (FC-4096).",
                1,
                8192,
                label="FC width",
            ),
            Knob(
                "batch_norm",
                "bool",
                False,
                "Batch normalisation after every convolution (not in the paper).",
                label="batch norm",
            ),
            Knob(
                "num_classes",
                "int",
                1000,
                "Outputs of the last layer (1000 for ImageNet, 10 for CIFAR-10).",
                1,
                100000,
                label="classes",
            ),
            Knob(
                "adaptive_pool",
                "bool",
                False,
                "Pool to 7x7 before FC-4096 whatever the input (torchvision); off: the FC input is whatever the "
                "last max pool leaves (the paper, and Keras on CIFAR-10).",
                label="adaptive pool",
            ),
        ),
        default_input=(3, 32, 32),
        paper="Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, ICLR 2015",
        summary="Stacks of 3x3 convolutions (stride 1, padding 1) and 2x2 max pools, then three fully connected "
        "layers. Depth grows from 11 (A) to 19 (E) weight layers.",
    ),
    presets={
        "vgg11": dict(config="A"),
        "vgg13": dict(config="B"),
        "vgg16": dict(config="D"),
        "vgg19": dict(config="E"),
        "vgg11_bn": dict(config="A", batch_norm=True),
        "vgg13_bn": dict(config="B", batch_norm=True),
        "vgg16_bn": dict(config="D", batch_norm=True),
        "vgg19_bn": dict(config="E", batch_norm=True),
    },
    titles={
        "vgg11": "VGG-11 (config A)",
        "vgg13": "VGG-13 (config B)",
        "vgg16": "VGG-16 (config D)",
        "vgg19": "VGG-19 (config E)",
        "vgg11_bn": "VGG-11 with batch norm",
        "vgg13_bn": "VGG-13 with batch norm",
        "vgg16_bn": "VGG-16 with batch norm",
        "vgg19_bn": "VGG-19 with batch norm",
    },
)
