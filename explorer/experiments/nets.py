"""The residual network and its plain twin that the layer-removal experiment trains (Veit et al. 2016, Sec. 4).

He et al.'s CIFAR ResNet (Sec. 4.2): a 3x3 stem, then three stages of n blocks with w, 2w and 4w
channels (the first block of stages 2 and 3 halves the resolution), global average pooling and one
linear layer: 6n+2 weight layers. Each block computes the residual branch f = conv-BN-ReLU-conv-BN.

    residual block:  y = relu(f(x) + skip(x))     skip = identity, or option A where the shape changes
    plain block:     y = relu(f(x))               the same stack without the skips

Deleting a block at test time (forward(x, removed={i})) keeps only skip(x): for the residual net this
is Veit et al.'s lesion (drop f, keep the skip); for the plain net it replaces the block's layers by
the identity, or, at a downsampling block where the identity cannot fit, by the same parameter-free
option-A map the residual net keeps (subsample by 2, pad the new channels with zeros).
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import KnobError
from ..families.resnet import ShortcutA

STAGES = 3  # He et al. 2016, Sec. 4.2: feature maps of sizes 32, 16, 8 with w, 2w, 4w filters
ROUTES = ("branch", "skip")


def blocks_for_depth(depth: int) -> int:
    """Blocks per stage n of a 6n+2-layer network."""
    n, rest = divmod(depth - 2, 2 * STAGES)
    if rest or n < 1:
        raise KnobError(f"The depth must be 6n+2 (8, 14, 20, 26, ...): two layers per block, three stages, "
                        f"plus the stem and the classifier; got {depth}.")
    return n


class Block(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int, residual: bool):
        super().__init__()
        self.residual = residual
        self.downsampling = stride != 1 or in_channels != out_channels
        self.branch = nn.Sequential(OrderedDict([  # f: the block's layers
            ("conv1", nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)),
            ("bn1", nn.BatchNorm2d(out_channels)),
            ("relu", nn.ReLU()),
            ("conv2", nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)),
            ("bn2", nn.BatchNorm2d(out_channels)),
        ]))
        # the skip (residual net), and the stand-in for a deleted block (both nets): parameter-free
        self.skip = ShortcutA(in_channels, out_channels, stride) if self.downsampling else nn.Identity()

    def forward(self, x, removed: bool = False, route: str | None = None):
        if removed:
            return self.skip(x)  # x >= 0 after the previous ReLU, so relu(skip(x)) == skip(x)
        f = self.branch(x)
        if not self.residual:
            return F.relu(f)
        s = self.skip(x)
        # Veit et al., Sec. 5: in the backward pass a sampled path goes through either the branch or
        # the skip; detaching the other leaves the forward pass unchanged and stops its gradient.
        if route == "branch":
            s = s.detach()
        elif route == "skip":
            f = f.detach()
        return F.relu(f + s)  # y = f(x) + x, then ReLU (He et al. 2016, Fig. 2)


class BlockStack(nn.Module):
    """A 6n+2-layer CIFAR-style ResNet (residual=True) or the same stack without skips (residual=False)."""

    def __init__(self, depth: int = 20, width: int = 16, residual: bool = True, in_channels: int = 3,
                 num_classes: int = 10):
        super().__init__()
        n = blocks_for_depth(depth)
        self.residual = residual
        self.stem = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)),
            ("bn", nn.BatchNorm2d(width)),
            ("relu", nn.ReLU()),
        ]))
        blocks, names, channels = [], [], width
        for stage in range(STAGES):
            out = width * 2 ** stage
            for j in range(n):
                blocks.append(Block(channels, out, 2 if stage > 0 and j == 0 else 1, residual))
                names.append(f"stage{stage + 1}.block{j + 1}")
                channels = out
        self.blocks = nn.ModuleList(blocks)
        self.block_names = tuple(names)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def run_blocks(self, y, removed=frozenset(), routes=None, start: int = 0):
        """y_start (y_0: the stem's output) through blocks start..N-1; routes[i] in ROUTES picks a path."""
        for i in range(start, len(self.blocks)):
            y = self.blocks[i](y, i in removed, routes[i] if routes else None)
        return y

    def head(self, y):
        return self.fc(self.pool(y).flatten(1))  # (B, C, H, W) -> (B, C) -> (B, classes)

    def forward(self, x, removed=frozenset(), routes=None):
        return self.head(self.run_blocks(self.stem(x), removed, routes))


def build(depth: int, width: int, residual: bool, in_channels: int, num_classes: int, seed: int) -> BlockStack:
    """The network with its initial weights fixed by the seed (the residual and plain nets share them)."""
    torch.manual_seed(seed)
    return BlockStack(depth, width, residual, in_channels, num_classes)
