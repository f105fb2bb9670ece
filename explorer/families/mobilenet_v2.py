"""MobileNetV2 (Sandler, Howard, Zhu, Zhmoginov & Chen, CVPR 2018): inverted residuals and linear bottlenecks.

An inverted residual block widens a thin input t times with a 1x1 convolution (ReLU6), filters it with a
3x3 depthwise convolution (ReLU6), and projects it back to a thin output with a 1x1 convolution WITHOUT an
activation (the linear bottleneck). When the stride is 1 and the channels match, the thin input is added
to the thin output: the shortcut joins the bottlenecks, not the wide layers as in ResNet.
The layout is torchvision's mobilenet_v2 (3,504,872 parameters at 1000 classes).
"""

from collections import OrderedDict

from torch import nn

from ..registry import Family, Knob, register

# MobileNetV2 paper, Table 2: t expansion factor, c output channels, n repeats, s stride of the first.
FIRST_CONV = 32  # conv2d 3x3, stride 2
TABLE_2 = (
    # t, c, n, s
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
LAST_CONV = 1280  # conv2d 1x1, then avgpool 7x7 and a 1x1 conv (a linear layer) to k classes
DIVISOR = 8  # channel counts are rounded to multiples of 8 (torchvision's _make_divisible, from TF-slim)


def make_divisible(value: float, divisor: int = DIVISOR) -> int:
    """The nearest multiple of `divisor`, but never more than 10% below `value` (TF-slim's rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def conv_bn(in_channels, out_channels, kernel_size, stride=1, groups=1, relu6=True) -> nn.Sequential:
    layers = OrderedDict(
        [
            (
                "conv",
                nn.Conv2d(
                    in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False
                ),
            ),
            ("bn", nn.BatchNorm2d(out_channels)),
        ]
    )
    if relu6:
        layers["relu6"] = nn.ReLU6(inplace=True)
    return nn.Sequential(layers)


class InvertedResidual(nn.Module):
    """Table 1: 1x1 conv to t*k (ReLU6), 3x3 depthwise stride s (ReLU6), 1x1 conv to k' (linear)."""

    def __init__(self, in_channels, out_channels, stride, expansion):
        super().__init__()
        hidden = int(round(in_channels * expansion))
        self.use_residual = stride == 1 and in_channels == out_channels
        self.expand = conv_bn(in_channels, hidden, 1) if expansion != 1 else None
        self.depthwise = conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.project = conv_bn(hidden, out_channels, 1, relu6=False)  # the linear bottleneck

    def forward(self, x):
        out = self.expand(x) if self.expand is not None else x  # (t k, H, W)
        out = self.project(self.depthwise(out))  # (k', H/s, W/s)
        return x + out if self.use_residual else out


def mobilenet_v2(width_mult=1.0, expansion=6, resolution=224, num_classes=1000, in_channels=3):
    # resolution is the input side (Family.input_knob): it changes no layer, only the input the network sees
    features = OrderedDict()
    channels = make_divisible(FIRST_CONV * width_mult)
    features["conv1"] = conv_bn(in_channels, channels, 3, 2)
    for i, (t, c, n, s) in enumerate(TABLE_2, start=1):
        out = make_divisible(c * width_mult)
        stage = OrderedDict()
        for j in range(n):
            stage[str(j + 1)] = InvertedResidual(channels, out, s if j == 0 else 1, t if t == 1 else expansion)
            channels = out
        features[f"bottleneck{i}"] = nn.Sequential(stage)
    last = make_divisible(LAST_CONV * max(1.0, width_mult))  # the paper keeps 1280 for multipliers below 1
    features["conv2"] = conv_bn(channels, last, 1)
    features["avgpool"] = nn.AdaptiveAvgPool2d(1)
    features["flatten"] = nn.Flatten()
    features["dropout"] = nn.Dropout(0.2)  # torchvision's
    features["classifier"] = nn.Linear(last, num_classes)
    return nn.Sequential(features)


def stage_table(analysis) -> list[dict]:
    """Table 2's rows as built: for each stage, its blocks' input, expanded and output channels, from the analysis."""
    rows = analysis.rows
    out = []
    for i, (t, c, n, s) in enumerate(TABLE_2, start=1):
        stage = f"bottleneck{i}"
        blocks = sorted({r.name.split(".")[1] for r in rows if r.name.startswith(stage + ".")}, key=int)
        first = [r for r in rows if r.name.startswith(f"{stage}.1.") and r.kind == "conv"]
        depthwise = next(r for r in first if r.name.endswith("depthwise.conv"))
        project = next(r for r in first if r.name.endswith("project.conv"))
        out.append(
            {
                "stage": stage,
                "t": analysis.resolved.get("expansion") if t != 1 else 1,
                "c (paper)": c,
                "n": n,
                "s": s,
                "input": "x".join(map(str, first[0].input_shape)),
                "expanded (t k)": depthwise.input_shape[0],
                "output (k')": project.output_shape[0],
                "output size": f"{project.output_shape[1]}x{project.output_shape[2]}",
                "blocks": len(blocks),
                "residual adds": sum(1 for r in rows if r.name.startswith(stage + ".") and r.type == "(+) add"),
                "params": sum(r.params for r in rows if r.name.startswith(stage + ".")),
                "mult-adds": sum(r.mult_adds for r in rows if r.name.startswith(stage + ".")),
            }
        )
    return out


register(
    Family(
        name="mobilenet_v2",
        title="MobileNet v2",
        builder=mobilenet_v2,
        knobs=(
            Knob(
                "width_mult",
                "float",
                1.0,
                "Width multiplier: every layer's channels x this, rounded to a multiple of 8 (the paper: 0.35 to 1.4).",
                0.35,
                1.4,
                step=0.05,
                label="width multiplier",
            ),
            Knob(
                "expansion",
                "int",
                6,
                "Expansion factor t of every bottleneck after the first (6 in Table 2; the paper suggests 5 to 10).",
                1,
                10,
                label="expansion t",
            ),
            Knob("resolution", "int", 224, "Input side in pixels (the paper: 96 to 224).", 96, 224, label="resolution"),
            Knob("num_classes", "int", 1000, "Outputs of the last layer.", 1, 100000, label="classes"),
        ),
        default_input=(3, 224, 224),
        paper="Sandler, Howard, Zhu, Zhmoginov & Chen, MobileNetV2: Inverted Residuals and Linear Bottlenecks, "
        "CVPR 2018",
        summary="Inverted residual blocks: a thin bottleneck is expanded t times by a 1x1 convolution, filtered "
        "by a 3x3 depthwise convolution and projected back linearly; the shortcut joins the thin ends.",
        input_knob="resolution",
    ),
    presets={
        "mobilenet_v2": {},
        "mobilenet_v2_140": dict(width_mult=1.4),
        "mobilenet_v2_075": dict(width_mult=0.75),
        "mobilenet_v2_050": dict(width_mult=0.5),
        "mobilenet_v2_035": dict(width_mult=0.35),
    },
    titles={
        "mobilenet_v2": "MobileNetV2 1.0-224",
        "mobilenet_v2_140": "MobileNetV2 1.4-224",
        "mobilenet_v2_075": "MobileNetV2 0.75-224",
        "mobilenet_v2_050": "MobileNetV2 0.5-224",
        "mobilenet_v2_035": "MobileNetV2 0.35-224",
    },
)
