"""DenseNet (Huang, Liu, van der Maaten and Weinberger, CVPR 2017): y_n = f_n([y_0, y_1, ..., y_{n-1}]).

Layer n of a dense block receives k0 + k * (n - 1) channels (k: growth rate) and adds k more.
Between blocks, a transition layer (BN, 1x1 conv compressing by theta, 2x2 average pool) halves the size.
"""

import math
from collections import OrderedDict
from fractions import Fraction

import torch
from torch import nn

from ..errors import KnobError
from ..registry import Family, Knob, register

# DenseNet paper, Table 1 (ImageNet, DenseNet-BC with k = 32): layers per dense block.
IMAGENET_TABLE_1 = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32), 264: (6, 12, 64, 48)}
BN_SIZE = 4  # the bottleneck's 1x1 conv produces 4k feature maps (Section 3, "Bottleneck layers")


class DenseLayer(nn.Module):
    """BN-ReLU-Conv(3x3), or with the bottleneck BN-ReLU-Conv(1x1, 4k)-BN-ReLU-Conv(3x3): adds k channels."""

    def __init__(self, in_channels, growth_rate, bottleneck):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        if bottleneck:
            self.conv1 = nn.Conv2d(in_channels, BN_SIZE * growth_rate, 1, bias=False)
            self.norm2 = nn.BatchNorm2d(BN_SIZE * growth_rate)
            self.relu2 = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(BN_SIZE * growth_rate, growth_rate, 3, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, growth_rate, 3, padding=1, bias=False)
        self.bottleneck = bottleneck

    def forward(self, features):
        x = torch.cat(features, 1)  # [y_0, y_1, ..., y_{n-1}]: k0 + k(n-1) channels
        x = self.conv1(self.relu1(self.norm1(x)))
        if self.bottleneck:
            x = self.conv2(self.relu2(self.norm2(x)))
        return x


class DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, in_channels, growth_rate, bottleneck):
        super().__init__()
        for i in range(num_layers):
            self[f"denselayer{i + 1}"] = DenseLayer(in_channels + i * growth_rate, growth_rate, bottleneck)

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    def __init__(self, in_channels, out_channels):
        super().__init__(
            OrderedDict(
                [
                    ("norm", nn.BatchNorm2d(in_channels)),
                    ("relu", nn.ReLU(inplace=True)),
                    ("conv", nn.Conv2d(in_channels, out_channels, 1, bias=False)),  # compression: theta * m
                    ("pool", nn.AvgPool2d(2, 2)),
                ]
            )
        )


def compressed(theta, m: int) -> int:
    """floor(theta * m) exactly: theta read as the decimal it was written as (0.35 is 7/20), so that
    int(0.35 * 20) == 6 in floating point does not keep one map too few (the paper's 7)."""
    return math.floor(Fraction(str(theta)) * m)


class DenseNet(nn.Module):
    def __init__(
        self, growth_rate, block_config, init_features, bottleneck, compression, stem, num_classes, in_channels=3
    ):
        super().__init__()
        if stem == "imagenet":
            layers = [
                ("conv0", nn.Conv2d(in_channels, init_features, 7, 2, 3, bias=False)),
                ("norm0", nn.BatchNorm2d(init_features)),
                ("relu0", nn.ReLU(inplace=True)),
                ("pool0", nn.MaxPool2d(3, 2, 1)),
            ]
        else:
            layers = [("conv0", nn.Conv2d(in_channels, init_features, 3, 1, 1, bias=False))]
        channels = init_features
        for i, num_layers in enumerate(block_config, start=1):
            layers.append((f"denseblock{i}", DenseBlock(num_layers, channels, growth_rate, bottleneck)))
            channels += num_layers * growth_rate
            if i < len(block_config):
                out = compressed(compression, channels)
                layers.append((f"transition{i}", Transition(channels, out)))
                channels = out
        layers += [
            ("norm5", nn.BatchNorm2d(channels)),
            ("relu5", nn.ReLU(inplace=True)),
            ("pool5", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten()),
        ]
        self.features = nn.Sequential(OrderedDict(layers))
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x))


def derive(k):
    """Fill the auto knobs: block_config from the CIFAR depth L, init_features = 2k for DenseNet-BC."""
    if k["depth"] is not None:
        per_layer = 2 if k["bottleneck"] else 1  # a bottleneck dense layer holds two convolutions
        n, rest = divmod(k["depth"] - 4, 3 * per_layer)
        if rest or n < 1:
            step = 3 * per_layer
            lower = max(4 + step, k["depth"] - (k["depth"] - 4) % step)
            raise KnobError(
                f"DenseNet depth L={k['depth']} does not split into three equal dense blocks"
                f"{' of bottleneck layers' if k['bottleneck'] else ''}: L must be {step}n+4 "
                f"({4 + step}, {4 + 2 * step}, {4 + 3 * step}, ...); the nearest are {lower} and {lower + step}."
            )
        k["block_config"] = (n, n, n)
    if k["init_features"] is None:
        k["init_features"] = 2 * k["growth_rate"] if k["bottleneck"] and k["compression"] < 1 else 16
    return k


def densenet(
    growth_rate=32,
    block_config=IMAGENET_TABLE_1[121],
    init_features=None,
    bottleneck=True,
    compression=0.5,
    stem="imagenet",
    num_classes=1000,
    depth=None,
    in_channels=3,
):
    k = derive(
        dict(
            growth_rate=growth_rate,
            block_config=tuple(block_config),
            init_features=init_features,
            bottleneck=bottleneck,
            compression=compression,
            depth=depth,
        )
    )
    return DenseNet(
        growth_rate, k["block_config"], k["init_features"], bottleneck, compression, stem, num_classes, in_channels
    )


def _cifar(depth, k, bc):
    return dict(depth=depth, growth_rate=k, bottleneck=bc, compression=0.5 if bc else 1.0, stem="cifar", num_classes=10)


register(
    Family(
        name="densenet",
        title="DenseNet",
        builder=densenet,
        knobs=(
            Knob(
                "growth_rate",
                "int",
                32,
                "k: feature maps each dense layer adds (12 to 48 in the paper).",
                1,
                128,
                label="growth rate k",
            ),
            Knob(
                "init_features",
                "int",
                None,
                "k0: feature maps of the first convolution.",
                1,
                512,
                optional=True,
                auto="2k for DenseNet-BC, 16 otherwise",
                label="initial features k0",
            ),
            Knob(
                "block_config",
                "ints",
                IMAGENET_TABLE_1[121],
                "Layers in each dense block, e.g. 6,12,24,16 (DenseNet-121). Ignored when the depth L is set.",
                1,
                128,
                label="layers per block",
            ),
            Knob(
                "bottleneck",
                "bool",
                True,
                "B of DenseNet-BC: a 1x1 conv to 4k maps before each 3x3 conv.",
                label="bottleneck (B)",
            ),
            Knob(
                "compression",
                "float",
                0.5,
                "theta: transition layers keep floor(theta * m) of m feature maps (C of DenseNet-BC when below 1).",
                0.1,
                1.0,
                step=0.05,
                label="compression theta",
            ),
            Knob(
                "stem",
                "choice",
                "imagenet",
                "ImageNet: 7x7/2 conv and 3x3/2 max pool; CIFAR: one 3x3 conv.",
                choices=("imagenet", "cifar"),
            ),
            Knob("num_classes", "int", 1000, "Outputs of the last layer.", 1, 100000, label="classes"),
            Knob(
                "depth",
                "int",
                None,
                "L, the CIFAR form: three equal dense blocks with L = 3n+4 (6n+4 with the bottleneck).",
                7,
                1000,
                optional=True,
                auto="from layers per block",
                label="depth L",
            ),
        ),
        default_input=(3, 32, 32),
        paper="Huang, Liu, van der Maaten & Weinberger, Densely Connected Convolutional Networks, CVPR 2017",
        summary="Each layer receives the concatenation of all earlier feature maps in its block and adds k new "
        "ones: narrow layers, feature reuse, few parameters.",
        derive=derive,
    ),
    presets={
        **{f"densenet{depth}": dict(block_config=blocks) for depth, blocks in IMAGENET_TABLE_1.items()},
        "densenet161": dict(growth_rate=48, block_config=(6, 12, 36, 24)),
        "densenet40_k12": _cifar(40, 12, False),
        "densenet100_k12": _cifar(100, 12, False),
        "densenet100_k24": _cifar(100, 24, False),
        "densenet_bc100_k12": _cifar(100, 12, True),
        "densenet_bc250_k24": _cifar(250, 24, True),
        "densenet_bc190_k40": _cifar(190, 40, True),
    },
    titles={
        **{f"densenet{depth}": f"DenseNet-{depth} (k=32)" for depth in IMAGENET_TABLE_1},
        "densenet161": "DenseNet-161 (k=48)",
        "densenet40_k12": "DenseNet (L=40, k=12), CIFAR",
        "densenet100_k12": "DenseNet (L=100, k=12), CIFAR",
        "densenet100_k24": "DenseNet (L=100, k=24), CIFAR",
        "densenet_bc100_k12": "DenseNet-BC (L=100, k=12), CIFAR",
        "densenet_bc250_k24": "DenseNet-BC (L=250, k=24), CIFAR",
        "densenet_bc190_k40": "DenseNet-BC (L=190, k=40), CIFAR",
    },
)


# -- the idea: the channels entering each layer, k0 + k (n - 1) -------------------------------------------------


def block_channels(analysis) -> list[dict]:
    """Per dense layer of an analysis: the formula's channel count beside the traced concatenation's."""
    k, k0_block = analysis.resolved["growth_rate"], None
    rows = []
    for r in analysis.rows:
        if r.type != "(C) concat" or ".denselayer" not in r.name:
            continue
        block, layer = r.name.split(".")[-3], int(r.name.split(".")[-2].replace("denselayer", ""))
        if layer == 1:
            k0_block = r.output_shape[0]
        expected = k0_block + k * (layer - 1)
        rows.append(
            {
                "block": block,
                "layer n": layer,
                "k0 + k (n - 1)": f"{k0_block} + {k}·({layer} - 1) = {expected}",
                "traced channels": r.output_shape[0],
                "agrees": "✓" if expected == r.output_shape[0] else "✗",
            }
        )
    return rows
