"""MobileNet (Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto & Adam, 2017): depthwise separable convolutions.

A standard 3x3 convolution is factored into a 3x3 depthwise convolution (one filter per input channel,
groups = C) and a 1x1 pointwise convolution that mixes the channels: F*F*C*Fm*Fm + C*O*Fm*Fm multiply-adds
instead of F*F*C*O*Fm*Fm. The width multiplier alpha thins every layer (alpha*C channels); the
resolution multiplier rho is the input side (224, 192, 160 or 128 in the paper).
"""
from collections import OrderedDict

from torch import nn

from ..registry import Family, Knob, register

# MobileNet paper, Table 1 (body architecture). After "Conv / s2, 3x3x3x32" come 13 depthwise separable
# layers, each a "Conv dw / s" (3x3 depthwise) then a "Conv / s1" (1x1 pointwise) with these filters:
#   (stride of the depthwise conv, filters of the pointwise conv)
FIRST_CONV = 32  # Conv / s2, 3x3x3x32
TABLE_1 = (
    (1, 64),
    (2, 128), (1, 128),
    (2, 256), (1, 256),
    (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512),  # "5x" in the table
    (2, 1024),
    (1, 1024),  # the table prints s2 here, but its output stays 7x7: a misprint, s1 in every implementation
)
# ... then Avg Pool 7x7 (global), FC 1024 x 1000, Softmax.


def width(channels: int, alpha: float) -> int:
    """alpha * C channels, rounded down as the reference implementation (Keras, TF-slim) does."""
    return max(1, int(channels * alpha))


def conv_bn_relu(in_channels, out_channels, kernel_size, stride, groups=1):
    """A convolution, then batch norm and ReLU, as the paper's Figure 3 draws every layer."""
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


def separable(in_channels, out_channels, stride) -> nn.Sequential:
    """Figure 3, right: 3x3 depthwise conv, BN, ReLU; 1x1 pointwise conv, BN, ReLU."""
    dw, dw_bn, dw_relu = conv_bn_relu(in_channels, in_channels, 3, stride, groups=in_channels)
    pw, pw_bn, pw_relu = conv_bn_relu(in_channels, out_channels, 1, 1)
    return nn.Sequential(OrderedDict([("dw", dw), ("dw_bn", dw_bn), ("dw_relu", dw_relu),
                                      ("pw", pw), ("pw_bn", pw_bn), ("pw_relu", pw_relu)]))


def full(in_channels, out_channels, stride) -> nn.Sequential:
    """Figure 3, left: the standard 3x3 convolution it replaces ("Conv MobileNet" of Table 4)."""
    conv, bn, relu = conv_bn_relu(in_channels, out_channels, 3, stride)
    return nn.Sequential(OrderedDict([("conv", conv), ("bn", bn), ("relu", relu)]))


def mobilenet_v1(alpha=1.0, resolution=224, depthwise=True, num_classes=1000, in_channels=3):
    # resolution is the input side (Family.input_knob): it changes no layer, only the input the network sees
    layers = OrderedDict()
    conv, bn, relu = conv_bn_relu(in_channels, width(FIRST_CONV, alpha), 3, 2)
    layers["conv1"] = nn.Sequential(OrderedDict([("conv", conv), ("bn", bn), ("relu", relu)]))
    channels = width(FIRST_CONV, alpha)
    for i, (stride, filters) in enumerate(TABLE_1, start=1):
        out = width(filters, alpha)
        layers[f"block{i}"] = (separable if depthwise else full)(channels, out, stride)
        channels = out
    layers["avgpool"] = nn.AdaptiveAvgPool2d(1)  # "Avg Pool / s1, Pool 7x7" at 224: global
    layers["flatten"] = nn.Flatten()
    layers["fc"] = nn.Linear(channels, num_classes)
    return nn.Sequential(layers)


ALPHAS = {"100": 1.0, "075": 0.75, "050": 0.5, "025": 0.25}  # Table 6
RESOLUTIONS = (224, 192, 160, 128)  # Table 7

register(
    Family(
        name="mobilenet_v1",
        title="MobileNet v1",
        builder=mobilenet_v1,
        knobs=(
            Knob("alpha", "float", 1.0, "Width multiplier: every layer has alpha x its channels (Table 6: 1.0, "
                 "0.75, 0.5, 0.25).", 0.25, 1.0, step=0.05, label="width multiplier alpha"),
            Knob("resolution", "int", 224, "Input side in pixels, the resolution multiplier rho x 224 (Table 7: "
                 "224, 192, 160, 128).", 128, 224, label="resolution"),
            Knob("depthwise", "bool", True, "Depthwise separable convolutions; off: full 3x3 convolutions, the "
                 "paper's 'Conv MobileNet' (Table 4).", label="depthwise separable"),
            Knob("num_classes", "int", 1000, "Outputs of the last layer.", 1, 100000, label="classes"),
        ),
        default_input=(3, 224, 224),
        paper="Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto & Adam, MobileNets: Efficient "
              "Convolutional Neural Networks for Mobile Vision Applications, 2017",
        summary="Each 3x3 convolution is factored into a 3x3 depthwise convolution and a 1x1 pointwise one: "
                "8 to 9 times fewer multiply-adds. A width multiplier alpha and the input resolution trade "
                "accuracy for cost.",
        input_knob="resolution",
    ),
    presets={
        "mobilenet_v1": {},
        **{f"mobilenet_v1_{code}": dict(alpha=alpha) for code, alpha in ALPHAS.items() if alpha != 1.0},
        **{f"mobilenet_v1_{side}": dict(resolution=side) for side in RESOLUTIONS if side != 224},
        "conv_mobilenet_v1": dict(depthwise=False),
    },
    titles={
        "mobilenet_v1": "1.0 MobileNet-224",
        **{f"mobilenet_v1_{code}": f"{alpha:g} MobileNet-224" for code, alpha in ALPHAS.items() if alpha != 1.0},
        **{f"mobilenet_v1_{side}": f"1.0 MobileNet-{side}" for side in RESOLUTIONS if side != 224},
        "conv_mobilenet_v1": "Conv MobileNet (full 3x3 convolutions)",
    },
    notes={"mobilenet_v1": "4,231,976 params, 569M mult-adds (Table 6)", "mobilenet_v1_075": "2.6M, 325M (Table 6)",
           "mobilenet_v1_050": "1.3M, 149M (Table 6)", "mobilenet_v1_025": "0.5M, 41M (Table 6)",
           "mobilenet_v1_192": "4.2M, 418M (Table 7)", "mobilenet_v1_160": "4.2M, 290M (Table 7)",
           "mobilenet_v1_128": "4.2M, 186M (Table 7)", "conv_mobilenet_v1": "29.3M, 4866M (Table 4)"},
)
