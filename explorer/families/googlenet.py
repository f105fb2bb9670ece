"""GoogLeNet (Szegedy et al., Going Deeper with Convolutions, CVPR 2015): Table 1, row by row.

An Inception module runs four branches side by side on the same input and concatenates them:
1x1 convs; 1x1 reduce then 3x3; 1x1 reduce then 5x5; 3x3 max pool then a 1x1 projection. The 1x1
"reduce" convolutions shrink the channels before the expensive 3x3 and 5x5 ones (Section 4).
"""
from collections import OrderedDict

import torch
from torch import nn

from ..registry import Family, Knob, register

# GoogLeNet paper, Table 1 ("GoogLeNet incarnation of the Inception architecture"), top to bottom.
# Inception rows give the six widths: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
# The params and ops columns of the table are published figures: explorer/reference.py, GOOGLENET_TABLE_1.
TABLE_1 = [
    # name          type           patch/stride  widths
    ("conv1",       "convolution", (7, 2),       64),
    ("pool1",       "max pool",    (3, 2),       None),
    ("conv2",       "convolution", (3, 1),       (64, 192)),  # #3x3 reduce 64, #3x3 192: depth 2
    ("pool2",       "max pool",    (3, 2),       None),
    ("inception3a", "inception",   None,         (64, 96, 128, 16, 32, 32)),
    ("inception3b", "inception",   None,         (128, 128, 192, 32, 96, 64)),
    ("pool3",       "max pool",    (3, 2),       None),
    ("inception4a", "inception",   None,         (192, 96, 208, 16, 48, 64)),
    ("inception4b", "inception",   None,         (160, 112, 224, 24, 64, 64)),
    ("inception4c", "inception",   None,         (128, 128, 256, 24, 64, 64)),
    ("inception4d", "inception",   None,         (112, 144, 288, 32, 64, 64)),
    ("inception4e", "inception",   None,         (256, 160, 320, 32, 128, 128)),
    ("pool4",       "max pool",    (3, 2),       None),
    ("inception5a", "inception",   None,         (256, 160, 320, 32, 128, 128)),
    ("inception5b", "inception",   None,         (384, 192, 384, 48, 128, 128)),
    ("avgpool",     "avg pool",    (7, 1),       None),
    ("dropout",     "dropout (40%)", None,       None),
    ("fc",          "linear",      None,         1000),
    ("softmax",     "softmax",     None,         None),
]
WIDTH_NAMES = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")
INCEPTION = {name: widths for name, kind, _, widths in TABLE_1 if kind == "inception"}
# Section 5: auxiliary classifiers on top of inception (4a) and (4d), used only while training.
AUX_AFTER = {"inception4a": "aux1", "inception4d": "aux2"}
NORM_AFTER = {"pool1": "norm1", "conv2": "norm2"}


def conv_unit(in_channels, out_channels, kernel, stride=1, batch_norm=False, conv="conv", bn="bn", relu="relu"):
    """Conv (+BN) + ReLU as (name, layer) pairs, "same" padding: the branches keep the input's height and width."""
    layers = [(conv, nn.Conv2d(in_channels, out_channels, kernel, stride, padding=kernel // 2,
                               bias=not batch_norm))]
    if batch_norm:  # BN's shift replaces the bias; eps as torchvision's BN-GoogLeNet
        layers.append((bn, nn.BatchNorm2d(out_channels, eps=0.001)))
    layers.append((relu, nn.ReLU(inplace=True)))
    return layers


def reduce_then_conv(in_channels, reduce, out_channels, kernel, batch_norm):
    """A 1x1 "reduce" convolution, then the kxk one: Table 1's "#3x3 reduce, #3x3" (and 5x5) pairs."""
    return nn.Sequential(OrderedDict(
        conv_unit(in_channels, reduce, 1, batch_norm=batch_norm, conv="reduce", bn="bn1", relu="relu1")
        + conv_unit(reduce, out_channels, kernel, batch_norm=batch_norm, conv=f"conv{kernel}x{kernel}", bn="bn2",
                    relu="relu2")))


class Inception(nn.Module):
    """Figure 2(b): four branches on the same input, concatenated along the channels.

    With reductions=False it is Figure 2(a), the naive module: no 1x1 reduce, no pool projection
    (the pool branch passes all input channels through), for the calculator of explorer.inception.
    """

    def __init__(self, in_channels, widths, batch_norm=False, kernel5=5, reductions=True):
        super().__init__()
        n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj = widths
        pool = ("pool", nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True))
        self.branch1 = nn.Sequential(OrderedDict(conv_unit(in_channels, n1x1, 1, batch_norm=batch_norm,
                                                           conv="conv1x1")))
        if reductions:
            self.branch2 = reduce_then_conv(in_channels, n3x3_reduce, n3x3, 3, batch_norm)
            self.branch3 = reduce_then_conv(in_channels, n5x5_reduce, n5x5, kernel5, batch_norm)
            self.branch4 = nn.Sequential(OrderedDict([pool] + conv_unit(in_channels, pool_proj, 1,
                                                                        batch_norm=batch_norm, conv="proj")))
        else:
            self.branch2 = nn.Sequential(OrderedDict(conv_unit(in_channels, n3x3, 3, batch_norm=batch_norm,
                                                               conv="conv3x3")))
            self.branch3 = nn.Sequential(OrderedDict(conv_unit(in_channels, n5x5, kernel5, batch_norm=batch_norm,
                                                               conv=f"conv{kernel5}x{kernel5}")))
            self.branch4 = nn.Sequential(OrderedDict([pool]))
        self.out_channels = n1x1 + n3x3 + n5x5 + (pool_proj if reductions else in_channels)

    def forward(self, x):  # (B, C_in, H, W) -> (B, #1x1 + #3x3 + #5x5 + pool proj, H, W)
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class AuxClassifier(nn.Sequential):
    """Section 5: 5x5/3 average pool (4x4 at 224), 1x1 conv 128 + ReLU, FC 1024 + ReLU, dropout 70%, linear."""

    def __init__(self, in_channels, num_classes, batch_norm=False):
        super().__init__(OrderedDict(
            # 5x5/3 turns the 14x14 maps of 224 into 4x4; adaptive (as torchvision) keeps 4x4 at other inputs,
            # so fc1 always has the paper's 128 * 4 * 4 = 2048 inputs.
            [("pool", nn.AdaptiveAvgPool2d(4))]
            + conv_unit(in_channels, 128, 1, batch_norm=batch_norm)
            + [("flatten", nn.Flatten()), ("fc1", nn.Linear(128 * 4 * 4, 1024)), ("relu_fc", nn.ReLU(inplace=True)),
               ("dropout", nn.Dropout(0.7)), ("fc2", nn.Linear(1024, num_classes))]))


class GoogLeNet(nn.Module):
    def __init__(self, aux_logits=False, batch_norm=False, num_classes=1000, branch3_kernel=5, in_channels=3):
        super().__init__()
        channels = in_channels
        self.aux_logits = aux_logits
        for name, kind, patch, widths in TABLE_1:
            if kind == "convolution" and name == "conv1":
                layer = nn.Sequential(OrderedDict(conv_unit(channels, widths, patch[0], patch[1], batch_norm)))  # 7x7/2
                channels = widths
            elif kind == "convolution":  # conv2: a 1x1 reduce, then the 3x3 (Table 1, depth 2)
                reduce, out = widths
                layer = reduce_then_conv(channels, reduce, out, patch[0], batch_norm)
                channels = out
            elif kind == "max pool":
                # ceil_mode: Caffe's rounding, so that 112 -> 56 -> 28 -> 14 -> 7 as Table 1 prints them
                layer = nn.MaxPool2d(patch[0], patch[1], ceil_mode=True)
            elif kind == "inception":
                layer = Inception(channels, widths, batch_norm, branch3_kernel)
                channels = layer.out_channels
                if aux_logits and name in AUX_AFTER:
                    setattr(self, AUX_AFTER[name], AuxClassifier(channels, num_classes, batch_norm))
            elif kind == "avg pool":
                # 7x7/1 covers the whole 7x7 map at 224: a global average, kept global at other inputs
                layer = nn.AdaptiveAvgPool2d(1)
            elif kind.startswith("dropout"):
                layer = nn.Dropout(0.4)
            elif kind == "linear":
                layer = nn.Linear(channels, num_classes)
            else:
                layer = nn.Softmax(dim=1)
            setattr(self, name, layer)
            if name in NORM_AFTER and not batch_norm:
                # Figure 3: LocalRespNorm after pool1 and after conv2 (not in Table 1; no parameters).
                # Batch-normalised variants drop it, as Ioffe & Szegedy (2015) did.
                setattr(self, NORM_AFTER[name], nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75))
        self.order = [name for name, *_ in TABLE_1]

    def forward(self, x):
        aux = []
        for name in self.order:
            x = getattr(self, name)(x)
            if name in NORM_AFTER and hasattr(self, NORM_AFTER[name]):
                x = getattr(self, NORM_AFTER[name])(x)
            if name == "avgpool":
                x = torch.flatten(x, 1)  # (B, 1024, 1, 1) -> (B, 1024)
            if self.aux_logits and self.training and name in AUX_AFTER:
                aux.append(getattr(self, AUX_AFTER[name])(x))  # training only: the trace runs in eval mode
        return (x, *aux) if aux else x


def googlenet(aux_logits=False, batch_norm=False, num_classes=1000, branch3_kernel=5, in_channels=3):
    return GoogLeNet(aux_logits, batch_norm, num_classes, branch3_kernel, in_channels)


register(
    Family(
        name="googlenet",
        title="GoogLeNet (Inception v1)",
        builder=googlenet,
        knobs=(
            Knob("aux_logits", "bool", False, "The two auxiliary classifiers on inception (4a) and (4d) "
                 "(Section 5): trained with the network, discarded at inference, so they add parameters but "
                 "no inference multiply-adds.", label="auxiliary classifiers"),
            Knob("batch_norm", "bool", False, "Batch normalisation after every convolution, without conv biases "
                 "and without the LRN layers (BN-Inception, torchvision; not in the paper).", label="batch norm"),
            Knob("num_classes", "int", 1000, "Outputs of the last layer (and of the auxiliary classifiers).",
                 1, 100000, label="classes"),
            Knob("branch3_kernel", "choice", 5, "Kernel of the '#5x5' branch: 5 as in the paper; 3 reproduces "
                 "torchvision's googlenet, which uses 3x3 there (a known bug kept for its weights, "
                 "pytorch/vision issue 906).", choices=(5, 3), label="'5x5' branch kernel"),
        ),
        default_input=(3, 224, 224),
        paper="Szegedy et al., Going Deeper with Convolutions, CVPR 2015",
        summary="Nine Inception modules: 1x1, 3x3 and 5x5 convolutions and a max pool side by side, "
                "concatenated; 1x1 convolutions reduce the channels before the expensive ones. 22 layers "
                "with parameters, 12x fewer parameters than AlexNet.",
    ),
    presets={
        "googlenet": {},
        "googlenet_torchvision": dict(batch_norm=True, branch3_kernel=3),
    },
    titles={"googlenet": "GoogLeNet (the paper's Table 1)",
            "googlenet_torchvision": "GoogLeNet as torchvision builds it (BN, 3x3 in the '5x5' branch)"},
    inputs={"googlenet": (3, 224, 224), "googlenet_torchvision": (3, 224, 224)},
    notes={"googlenet": "Table 1 lists params and ops per module; MobileNet Table 8: 6.8M params, 1550M mult-adds",
           "googlenet_torchvision": "6,624,904 params (torchvision)"},
)
