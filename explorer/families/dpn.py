"""Dual Path Networks (Chen, Li, Xiao, Jin, Yan & Feng, NeurIPS 2017): a residual path and a dense path per block.

Each block is a ResNeXt bottleneck, 1x1 -> 3x3 grouped (G groups) -> 1x1, whose output is split in two:
the first `bw` channels are ADDED to the residual path (ResNet: feature re-use), the last `inc` channels
are CONCATENATED to the densely connected path (DenseNet: new features). The next block reads both,
concatenated. The layout and the widths follow the paper's Table 1 and the authors' MXNet code
(github.com/cypw/DPNs), which timm and Cadene's pretrainedmodels port to PyTorch weight for weight.
"""

from collections import OrderedDict

import torch
from torch import nn

from ..errors import KnobError
from ..registry import Family, Knob, register

# DPN paper, Table 1 (and cypw/DPNs for DPN-68, which is not in the table):
#   init_features: filters of conv1; k_r: width of the 1x1 and 3x3 convs in conv2 (doubled each stage);
#   groups: G of the grouped 3x3 conv; k_sec: blocks per stage (conv2..conv5); inc_sec: the dense
#   increment of each stage (the "(+16)" of "1x1, 256 (+16)"); small: DPN-68's 3x3 stem and narrow
#   residual path (64 instead of 256 channels in conv2).
TABLE_1 = {
    "dpn68": dict(init_features=10, k_r=128, groups=32, k_sec=(3, 4, 12, 3), inc_sec=(16, 32, 32, 64), small=True),
    "dpn92": dict(init_features=64, k_r=96, groups=32, k_sec=(3, 4, 20, 3), inc_sec=(16, 32, 24, 128)),
    "dpn98": dict(init_features=96, k_r=160, groups=40, k_sec=(3, 6, 20, 3), inc_sec=(16, 32, 32, 128)),
    "dpn131": dict(init_features=128, k_r=160, groups=40, k_sec=(4, 8, 28, 3), inc_sec=(16, 32, 32, 128)),
}
RESIDUAL_WIDTH = 256  # the "1x1, 256" of conv2 in Table 1; doubled at each stage (512, 1024, 2048)
BN_EPS = 0.001  # cypw/DPNs (MXNet's default)


class BnActConv(nn.Sequential):
    """DPN's pre-activation unit: batch norm, ReLU, then the convolution (as in ResNet v2)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, groups=1):
        super().__init__(
            OrderedDict(
                [
                    ("bn", nn.BatchNorm2d(in_channels, eps=BN_EPS)),
                    ("relu", nn.ReLU(inplace=True)),
                    (
                        "conv",
                        nn.Conv2d(
                            in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False
                        ),
                    ),
                ]
            )
        )


class DualPathBlock(nn.Module):
    """One row of Table 1: [1x1, r; 3x3, r, G groups; 1x1, bw (+inc)].

    The first block of a stage projects its input (1x1, stride 1 or 2) to start both paths:
    bw residual channels and 2 * inc dense channels (the authors' code).
    """

    def __init__(self, in_channels, r, bw, inc, groups, stride=1, project=False):
        super().__init__()
        self.bw, self.inc = bw, inc
        self.project = BnActConv(in_channels, bw + 2 * inc, 1, stride) if project else None
        self.c1x1_a = BnActConv(in_channels, r, 1)
        self.c3x3_b = BnActConv(r, r, 3, stride, groups)
        self.c1x1_c = BnActConv(r, bw + inc, 1)

    def forward(self, x):
        x_in = torch.cat(x, dim=1) if isinstance(x, tuple) else x  # both paths, as one input
        if self.project is not None:
            start = self.project(x_in)
            residual, dense = start[:, : self.bw], start[:, self.bw :]
        else:
            residual, dense = x
        out = self.c1x1_c(self.c3x3_b(self.c1x1_a(x_in)))
        residual = residual + out[:, : self.bw]  # residual path: (bw, H, W), added
        dense = torch.cat([dense, out[:, self.bw :]], dim=1)  # dense path: grows by inc channels
        return residual, dense


class CatBnAct(nn.Module):
    """After the last block: both paths concatenated, batch norm and ReLU (conv5_bn_ac in the authors' code)."""

    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=BN_EPS)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(torch.cat(x, dim=1)))


class DPN(nn.Module):
    def __init__(self, init_features, k_r, groups, k_sec, inc_sec, small, num_classes, in_channels=3):
        super().__init__()
        stem_kernel = 3 if small else 7
        self.conv1 = nn.Sequential(
            OrderedDict(
                [
                    ("conv", nn.Conv2d(in_channels, init_features, stem_kernel, 2, stem_kernel // 2, bias=False)),
                    ("bn", nn.BatchNorm2d(init_features, eps=BN_EPS)),
                    ("relu", nn.ReLU(inplace=True)),
                ]
            )
        )
        self.pool1 = nn.MaxPool2d(3, 2, 1)
        channels = init_features
        residual_width = RESIDUAL_WIDTH // 4 if small else RESIDUAL_WIDTH
        self.stage_names = []
        for i, (blocks, inc) in enumerate(zip(k_sec, inc_sec)):
            bw, r = residual_width * 2**i, k_r * 2**i
            stage = OrderedDict()
            for j in range(1, blocks + 1):
                first = j == 1
                stage[str(j)] = DualPathBlock(
                    channels, r, bw, inc, groups, stride=2 if first and i > 0 else 1, project=first
                )
                channels = bw + 3 * inc if first else channels + inc  # (bw) + (2 inc + inc), then + inc a block
            name = f"conv{i + 2}"  # Table 1 names the stages conv2 .. conv5
            setattr(self, name, nn.Sequential(stage))
            self.stage_names.append(name)
        self.conv5_bn_ac = CatBnAct(channels)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)  # the authors use a 1x1 conv: the same weights and count

    def forward(self, x):
        x = self.pool1(self.conv1(x))
        for name in self.stage_names:
            x = getattr(self, name)(x)  # (residual, dense) between blocks
        x = self.avgpool(self.conv5_bn_ac(x))
        return self.fc(x.flatten(1))


def derive(k):
    """Check that the stage lists match and that the grouped convolution can split its channels."""
    if len(k["k_sec"]) != len(k["inc_sec"]):
        raise KnobError(
            f"k_sec lists {len(k['k_sec'])} stages but inc_sec {len(k['inc_sec'])}: give one dense "
            f"increment per stage, e.g. k_sec=3,4,20,3 with inc_sec=16,32,24,128."
        )
    if k["k_r"] % k["groups"]:
        fits = [g for g in range(1, k["k_r"] + 1) if k["k_r"] % g == 0]
        near = sorted(fits, key=lambda g: abs(g - k["groups"]))[:2]
        g = k["groups"]
        lower = k["k_r"] - k["k_r"] % g
        multiples = " or ".join(str(m) for m in (lower, lower + g) if m > 0)
        raise KnobError(
            f"k_r={k['k_r']} channels cannot be split into groups={g} equal groups for the grouped 3x3 "
            f"convolution; set groups to a divisor of k_r ({' or '.join(map(str, sorted(near)))}) or k_r "
            f"to a multiple of {g} ({multiples})."
        )
    return k


def dpn(
    init_features=64,
    k_r=96,
    groups=32,
    k_sec=(3, 4, 20, 3),
    inc_sec=(16, 32, 24, 128),
    small=False,
    num_classes=1000,
    in_channels=3,
):
    k = derive(
        dict(
            init_features=init_features, k_r=k_r, groups=groups, k_sec=tuple(k_sec), inc_sec=tuple(inc_sec), small=small
        )
    )
    return DPN(k["init_features"], k["k_r"], k["groups"], k["k_sec"], k["inc_sec"], small, num_classes, in_channels)


def path_widths(analysis) -> list[dict]:
    """Per block, from the analysed model: channels on the residual (added) and dense (concatenated) paths."""
    rows = [r for r in analysis.rows if r.kind == "merge"]
    blocks = [name for name, cls in analysis.scopes.items() if cls == "DualPathBlock"]
    out = []
    for name in blocks:
        mine = [r for r in rows if r.name.rsplit(".", 1)[0] == name]
        add = next(r for r in mine if r.type == "(+) add")
        dense = [r for r in mine if r.type == "(C) concat"][-1]  # the last concatenation extends the dense path
        residual_c, dense_c = add.output_shape[0], dense.output_shape[0]
        stage, index = name.split(".")
        out.append(
            {
                "block": name,
                "stage": stage,
                "index": int(index),
                "input channels": next(r for r in analysis.rows if r.name == f"{name}.c1x1_a.bn").input_shape[0],
                "residual (added)": residual_c,
                "dense (concatenated)": dense_c,
                "new dense channels": dense.input_shapes[-1][0],
                "output channels": residual_c + dense_c,
                "size": f"{add.output_shape[1]}x{add.output_shape[2]}",
            }
        )
    return out


register(
    Family(
        name="dpn",
        title="Dual Path Network (DPN)",
        builder=dpn,
        knobs=(
            Knob(
                "init_features",
                "int",
                64,
                "Filters of the first convolution (conv1 in Table 1).",
                1,
                512,
                label="initial features",
            ),
            Knob(
                "k_r",
                "int",
                96,
                "Width of the 1x1 and grouped 3x3 convolutions in conv2; doubled in each later stage (Table 1).",
                1,
                1024,
                label="bottleneck width k_r",
            ),
            Knob(
                "groups",
                "int",
                32,
                "G: groups of the 3x3 convolution (ResNeXt's cardinality); must divide k_r.",
                1,
                256,
                label="groups G",
            ),
            Knob(
                "k_sec",
                "ints",
                (3, 4, 20, 3),
                "Dual path blocks in each stage, conv2 to conv5 (DPN-92: 3,4,20,3).",
                1,
                64,
                label="blocks per stage",
            ),
            Knob(
                "inc_sec",
                "ints",
                (16, 32, 24, 128),
                "Channels each block adds to the dense path, per stage (the (+k) of Table 1).",
                1,
                512,
                label="dense increments",
            ),
            Knob(
                "small",
                "bool",
                False,
                "DPN-68's form (the authors' code): a 3x3 stem and a residual path of 64 "
                "channels in conv2 instead of 256.",
                label="small (DPN-68)",
            ),
            Knob("num_classes", "int", 1000, "Outputs of the last layer.", 1, 100000, label="classes"),
        ),
        default_input=(3, 224, 224),
        paper="Chen, Li, Xiao, Jin, Yan & Feng, Dual Path Networks, NeurIPS 2017",
        summary="Each block adds part of its output to a residual path (ResNet's feature re-use) and concatenates "
        "the rest to a densely connected path (DenseNet's new features); grouped 3x3 convolutions as in "
        "ResNeXt.",
        derive=derive,
    ),
    presets=TABLE_1,
    titles={"dpn68": "DPN-68", "dpn92": "DPN-92 (32x3d)", "dpn98": "DPN-98 (40x4d)", "dpn131": "DPN-131 (40x4d)"},
)
