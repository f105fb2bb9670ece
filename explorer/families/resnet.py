"""ResNet (He, Zhang, Ren and Sun, CVPR 2016): y = f(x) + x, for ImageNet (Table 1) and CIFAR-10 (Section 4.2)."""

from collections import OrderedDict

import torch.nn.functional as F
from torch import nn

from ..errors import KnobError
from ..registry import Family, Knob, register

# He et al. 2016, Table 1: residual blocks per stage (conv2_x .. conv5_x) for ImageNet.
IMAGENET_TABLE_1 = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
    200: ("bottleneck", (3, 24, 36, 3)),  # He et al., Identity Mappings in Deep Residual Networks
}
# CIFAR-10 (Section 4.2): 6n+2 layers, three stages of n basic blocks with 16, 32, 64 filters;
# with bottleneck blocks (Identity Mappings, ResNet-164) 9n+2 layers.
CIFAR_LAYERS_PER_BLOCK = {"basic": 2, "bottleneck": 3}
MAX_CIFAR_BLOCKS = 200  # ResNet-1202: n = 200


class ShortcutA(nn.Module):
    """Option A: identity shortcut; subsample by 2 and pad the new channels with zeros. No parameters."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = 1, stride, 0  # it samples like a 1x1 convolution

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2)) if extra else x


def shortcut(kind, in_channels, out_channels, stride):
    """The skip where the shape changes: None (identity), option A, option B, or None for "plain" (no skip)."""
    if (in_channels == out_channels and stride == 1) or kind == "plain":
        return None
    if kind == "A":
        return ShortcutA(in_channels, out_channels, stride)
    return nn.Sequential(
        OrderedDict(
            [  # option B: 1x1 projection
                ("0", nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)),
                ("1", nn.BatchNorm2d(out_channels)),
            ]
        )
    )


class Block(nn.Module):
    """What both block kinds share: the skip, the plain variant and the two test-time interventions.

    forward(x, removed=True) deletes the block and keeps only its skip (Veit et al. 2016's lesion); in a
    plain network (shortcut "plain") the deleted block becomes the identity, or, where the shape changes,
    the parameter-free option-A map the residual network keeps. route="branch" or "skip" keeps the
    forward pass and stops the gradient of the other path (Veit et al., Sec. 5).
    """

    def setup_skip(self, in_channels, out_channels, stride, shortcut_kind):
        self.residual = shortcut_kind != "plain"
        self.downsampling = stride != 1 or in_channels != out_channels
        self.downsample = shortcut(shortcut_kind, in_channels, out_channels, stride)
        if not self.residual and self.downsampling:  # the stand-in for a deleted plain block: no parameters
            self.standin = ShortcutA(in_channels, out_channels, stride)

    def skip(self, x):
        if self.downsample is not None:
            return self.downsample(x)
        return self.standin(x) if not self.residual and self.downsampling else x

    def join(self, out, x, removed, route):
        if not self.residual:
            return self.relu(out)
        identity = self.skip(x)
        if route == "branch":
            identity = identity.detach()
        elif route == "skip":
            out = out.detach()
        return self.relu(out + identity)  # y = f(x) + x


class BasicBlock(Block):
    expansion = 1

    def __init__(self, in_channels, planes, stride=1, shortcut_kind="B"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)  # one module, called twice (torchvision's layout)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.setup_skip(in_channels, planes, stride, shortcut_kind)

    def forward(self, x, removed=False, route=None):
        if removed:
            return self.skip(x)  # x >= 0 after the previous ReLU, so relu(skip(x)) == skip(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.join(out, x, removed, route)


class Bottleneck(Block):
    expansion = 4

    def __init__(self, in_channels, planes, stride=1, shortcut_kind="B", stride_on="3x3"):
        super().__init__()
        first = stride if stride_on == "1x1" else 1  # the paper's original block: the first 1x1 subsamples
        self.conv1 = nn.Conv2d(in_channels, planes, 1, first, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride // first, 1, bias=False)  # torchvision's v1.5: here
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.setup_skip(in_channels, planes * 4, stride, shortcut_kind)

    def forward(self, x, removed=False, route=None):
        if removed:
            return self.skip(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.join(out, x, removed, route)


class ResNet(nn.Module):
    """lesioned(x, removed={i, ...}, routes=[...]) deletes blocks or picks each block's gradient path; the
    blocks in order are `blocks`, named as the analysis names them (`block_names`, e.g. layer2.0)."""

    def __init__(self, block, layers, stem, width, shortcut_kind, num_classes, in_channels=3, stride_on="3x3"):
        super().__init__()
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)  # 7x7/2
            self.bn1 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)  # 3x3/2
        else:
            self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = None
        channels = width
        for i, blocks in enumerate(layers):
            planes, stride = width * 2**i, 1 if i == 0 else 2
            stage = []
            for j in range(blocks):
                extra = {"stride_on": stride_on} if block is Bottleneck else {}
                stage.append(block(channels, planes, stride if j == 0 else 1, shortcut_kind, **extra))
                channels = planes * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        self.residual = shortcut_kind != "plain"

    @property
    def blocks(self) -> list:
        return [b for i in range(self.num_stages) for b in getattr(self, f"layer{i + 1}")]

    @property
    def block_names(self) -> tuple:
        return tuple(
            f"layer{i + 1}.{j}" for i in range(self.num_stages) for j in range(len(getattr(self, f"layer{i + 1}")))
        )

    def stem(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        return x if self.maxpool is None else self.maxpool(x)

    def run_blocks(self, y, removed=frozenset(), routes=None, start: int = 0):
        """y_start (y_0: the stem's output) through blocks start..N-1; routes[i] is "branch" or "skip"."""
        if not removed and not routes and start == 0:
            for i in range(self.num_stages):
                y = getattr(self, f"layer{i + 1}")(y)
            return y
        for i, block in enumerate(self.blocks[start:], start):
            y = block(y, i in removed, routes[i] if routes else None)
        return y

    def head(self, y):
        return self.fc(self.avgpool(y).flatten(1))

    def forward(self, x):  # x alone: torch.fx traces every argument of the root forward (export, int8)
        return self.head(self.run_blocks(self.stem(x)))

    def lesioned(self, x, removed=frozenset(), routes=None):
        """The forward pass with the blocks in `removed` deleted, or with routes[i] picking block i's path."""
        return self.head(self.run_blocks(self.stem(x), removed, routes))


MAX_DEPTH = 1202


def valid_depths(k: dict) -> tuple:
    """The depths the other knobs allow: Table 1's with the ImageNet stem, 6n+2 (basic) or 9n+2 (bottleneck) with
    the CIFAR stem (both with an automatic block), n from 1 to MAX_CIFAR_BLOCKS: what the depth control offers."""
    block = k.get("block")
    if k.get("stem") == "imagenet":
        return tuple(d for d, (b, _) in IMAGENET_TABLE_1.items() if block in (None, b))
    kinds = [block] if block else list(CIFAR_LAYERS_PER_BLOCK)
    depths = {3 * CIFAR_LAYERS_PER_BLOCK[kind] * n + 2 for kind in kinds for n in range(1, MAX_CIFAR_BLOCKS + 1)}
    return tuple(sorted(d for d in depths if d <= MAX_DEPTH))


def derive(k):
    """Fill the auto knobs (block, width, shortcut) and check that the depth exists."""
    depth, stem = k["depth"], k["stem"]
    if stem == "imagenet":
        if depth not in IMAGENET_TABLE_1:
            valid = ", ".join(str(d) for d in IMAGENET_TABLE_1)
            raise KnobError(
                f"ResNet depth {depth} is not in the paper's Table 1 for the ImageNet stem; "
                f"choose one of {valid}, or the CIFAR stem for 6n+2 depths."
            )
        block, layers = IMAGENET_TABLE_1[depth]
        if k["block"] not in (None, block):
            raise KnobError(
                f"ResNet-{depth} uses {block} blocks in the paper's Table 1; set block to auto or "
                f"{block}, or pick a depth built from {k['block']} blocks "
                f"({', '.join(str(d) for d, (b, _) in IMAGENET_TABLE_1.items() if b == k['block'])})."
            )
    else:
        block = k["block"] or ("basic" if (depth - 2) % 6 == 0 else "bottleneck" if (depth - 2) % 9 == 0 else None)
        per = 3 * CIFAR_LAYERS_PER_BLOCK[block or "basic"]
        n, rest = divmod(depth - 2, per)
        if block is None or rest or n < 1 or n > MAX_CIFAR_BLOCKS:
            lower = max(per + 2, depth - (depth - 2) % per)
            upper = lower + per
            rule = f"{per}n+2"
            raise KnobError(
                f"ResNet depth {depth} is not valid for the CIFAR stem with {block or 'basic'} blocks: "
                f"depth must be {rule} with n from 1 to {MAX_CIFAR_BLOCKS} "
                f"({per + 2}, {2 * per + 2}, {3 * per + 2}, ...); the nearest are {lower} and {upper}."
            )
        layers = (n, n, n)
    k["block"] = block
    k["layers"] = layers
    k["width"] = k["width"] or (64 if stem == "imagenet" else 16)
    k["shortcut"] = k["shortcut"] or ("B" if stem == "imagenet" else "A")
    return k


def resnet(
    depth=18, block=None, stem="imagenet", width=None, shortcut=None, num_classes=1000, stride_on="3x3", in_channels=3
):
    k = derive(dict(depth=depth, block=block, stem=stem, width=width, shortcut=shortcut))
    block_cls = BasicBlock if k["block"] == "basic" else Bottleneck
    return ResNet(block_cls, k["layers"], stem, k["width"], k["shortcut"], num_classes, in_channels, stride_on)


register(
    Family(
        name="resnet",
        title="ResNet",
        builder=resnet,
        knobs=(
            Knob(
                "depth",
                "int",
                18,
                "Weight layers: 18/34/50/101/152/200 with the ImageNet stem, 6n+2 "
                "(basic) or 9n+2 (bottleneck) with the CIFAR stem.",
                8,
                MAX_DEPTH,
                label="depth",
                values=valid_depths,
            ),
            Knob(
                "block",
                "choice",
                None,
                "Basic (two 3x3 convs) or bottleneck (1x1, 3x3, 1x1) residual blocks.",
                choices=("basic", "bottleneck"),
                optional=True,
                auto="from the depth",
            ),
            Knob(
                "stem",
                "choice",
                "imagenet",
                "ImageNet: 7x7/2 conv and 3x3/2 max pool; CIFAR: one 3x3 conv.",
                choices=("imagenet", "cifar"),
            ),
            Knob(
                "width",
                "int",
                None,
                "Kernels of the first stage; each later stage doubles them.",
                1,
                256,
                optional=True,
                auto="64 for ImageNet, 16 for CIFAR",
                label="width",
            ),
            Knob(
                "shortcut",
                "choice",
                None,
                "A: identity with zero-padded channels (no parameters); "
                "B: 1x1 projection where the shape changes; plain: no skips at all, the paper's plain "
                "network (Fig. 4, left).",
                choices=("A", "B", "plain"),
                optional=True,
                auto="A for CIFAR, B for ImageNet",
            ),
            Knob("num_classes", "int", 1000, "Outputs of the last layer.", 1, 100000, label="classes"),
            Knob(
                "stride_on",
                "choice",
                "3x3",
                "Where a bottleneck block that halves the map subsamples: on the 3x3 as torchvision builds "
                "it (ResNet v1.5), or on the first 1x1 as in the paper (Table 1's FLOPs). Basic blocks: no effect.",
                choices=("3x3", "1x1"),
                label="bottleneck stride on",
            ),
        ),
        default_input=(3, 32, 32),
        paper="He, Zhang, Ren & Sun, Deep Residual Learning for Image Recognition, CVPR 2016",
        summary="Residual blocks y = f(x) + x: the identity skip lets the signal and the gradient bypass "
        "each block, so depth can grow to 152 (ImageNet) or 1202 (CIFAR) layers.",
        derive=derive,
    ),
    presets={
        **{f"resnet{d}": dict(depth=d) for d in (18, 34, 50, 101, 152)},
        **{f"resnet{d}": dict(depth=d, stem="cifar", num_classes=10) for d in (20, 32, 44, 56, 110, 1202)},
    },
    titles={
        **{f"resnet{d}": f"ResNet-{d} (ImageNet)" for d in (18, 34, 50, 101, 152)},
        **{
            f"resnet{d}": f"ResNet-{d} (CIFAR-10, {(d - 2) // 6} blocks per stage)" for d in (20, 32, 44, 56, 110, 1202)
        },
    },
)
