"""Layers PyTorch does not have, written so that their source can be copied into exported code as it is."""

from torch import nn


class SamePad2d(nn.Module):
    """Keras/TensorFlow padding="same" for any stride: pad so that the next layer's output side is ceil(A / S).

    The odd pixel goes to the bottom and the right, as in TensorFlow. PyTorch's own padding="same" refuses
    strides above 1, because the padding then depends on the input size.
    """

    def __init__(self, kernel_size, stride=1, dilation=1, value=0.0):
        super().__init__()
        pair = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # noqa: E731
        # not called kernel_size/stride: this layer pads, it has no window of its own
        self.for_kernel, self.for_stride, self.for_dilation = pair(kernel_size), pair(stride), pair(dilation)
        self.value = value  # -inf before a max pool, so that the padding is never the maximum

    def forward(self, x):  # (B, C, H, W) -> (B, C, H + top + bottom, W + left + right)
        pads = []
        for side, F, S, D in reversed(list(zip(x.shape[-2:], self.for_kernel, self.for_stride, self.for_dilation))):
            total = max((-(-side // S) - 1) * S + D * (F - 1) + 1 - side, 0)
            pads += [total // 2, total - total // 2]  # F.pad lists the last dimension first
        return nn.functional.pad(x, pads, value=self.value)

    def extra_repr(self):
        return (
            f"kernel_size={self.for_kernel}, stride={self.for_stride}, dilation={self.for_dilation}, value={self.value}"
        )
