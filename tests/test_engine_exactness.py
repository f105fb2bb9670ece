"""The engine's shortcuts on a built nn.Module (bookkeeping without torch-function dispatch, one module walk, rows
read off per-class facts) against PyTorch itself: every layer call's output shape from a real CPU forward with
hooks, the totals from torch.utils.flop_counter and sum(p.numel()). The models are the cases a shortcut could get
wrong: blocks of one class that differ only in an attribute their forward reads, a block whose forward depends on
its own Python state, a module called twice on two sizes, weights shared between a layer and a functional call,
layer attributes that are properties or live in a buffer, and a forward that reads tensor shapes itself."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import explorer


class Gate(nn.Module):  # the same class and the same weights' shapes; `widen` and `pool` change the forward
    def __init__(self, widen: bool, pool: bool):
        super().__init__()
        self.widen, self.pool = widen, pool
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.extra = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = self.conv(x)
        if self.widen:
            x = torch.cat([x, self.extra(x)], 1)[:, :8]
        return F.max_pool2d(x, 2) if self.pool else x


class Gates(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 1)
        self.blocks = nn.Sequential(Gate(False, False), Gate(True, False), Gate(False, True), Gate(True, True))
        self.head = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).flatten(1))


class Counting(nn.Module):  # its forward reads its own call count: the second call takes another path
    def __init__(self):
        super().__init__()
        self.calls = 0
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)

    def forward(self, x):
        self.calls += 1
        return self.conv(x) if self.calls % 2 else self.down(x)


class Stateful(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 1)
        self.a = Counting()
        self.b = Counting()

    def forward(self, x):
        x = self.a(self.stem(x))
        x = self.a(x)  # the same block again: its second call downsamples
        return self.b(x)


class TwoSizes(nn.Module):  # one convolution on the image and on its half-size copy; its weight also used by F.conv2d
    def __init__(self):
        super().__init__()
        self.shared = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        big = self.shared(x)
        small = self.shared(F.avg_pool2d(x, 2))
        again = F.conv2d(x, self.shared.weight, stride=2, padding=1)  # the same weight, used functionally
        y = big.mean((2, 3)) + small.mean((2, 3)) + again.mean((2, 3))
        return self.fc(y) + F.linear(y, self.fc.weight)  # fc's weight once more, functionally


class PropertyKernel(nn.Module):  # a leaf of the user's own whose kernel_size is a property
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 3, 5, 5))

    @property
    def kernel_size(self):
        return tuple(self.weight.shape[2:])

    def forward(self, x):
        return F.conv2d(x, self.weight)


class BufferStride(nn.Module):  # a leaf whose kernel_size and stride are a plain attribute and a registered buffer
    def __init__(self):
        super().__init__()
        self.kernel_size = 2
        self.register_buffer("stride", torch.tensor(2))

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, 2)


class OwnLeaves(nn.Module):
    def __init__(self):
        super().__init__()
        self.odd = PropertyKernel()
        self.pool = BufferStride()

    def forward(self, x):
        return self.pool(self.odd(x))


class ReadsShapes(nn.Module):  # the forward reads tensor shapes between layers and reshapes by them
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        x = self.conv(x)
        n, c, h, w = x.shape
        x = x.view(n, c * h * w) if x.size(1) == 4 else x
        return self.fc(x)


CASES = [(Gates, (3, 16, 16)), (Stateful, (3, 16, 16)), (TwoSizes, (3, 12, 12)), (OwnLeaves, (3, 10, 10))]
CASES += [(ReadsShapes, (3, 8, 8))]


def real_layer_calls(model: nn.Module, shape) -> list[tuple[str, tuple, tuple]]:
    """(name, input shape, output shape) of every leaf-module call of a real CPU forward, in order."""
    calls, handles = [], []
    for name, module in model.named_modules():
        if not list(module.children()):

            def hook(module, args, out, name=name):
                calls.append((name, tuple(args[0].shape[1:]), tuple(out.shape[1:])))

            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(torch.randn(1, *shape))
    finally:
        for h in handles:
            h.remove()
    return calls


def flop_counter_mult_adds(model, shape) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, *shape))
    return counter.get_total_flops() // 2


def fresh(make):
    torch.manual_seed(0)
    return make().eval()


@pytest.mark.parametrize("make,shape", CASES, ids=[m.__name__ for m, _ in CASES])
def test_every_layer_call_and_total_agrees_with_pytorch(make, shape):
    a = explorer.analyze(fresh(make), shape)
    model = fresh(make)  # a model of its own: Counting's state starts again
    leaves = {n for n, m in model.named_modules() if not list(m.children())}
    rows = [(r.name, r.input_shape, r.output_shape) for r in a.rows if r.name in leaves and r.call > 0]
    assert rows == real_layer_calls(model, shape)
    model = fresh(make)
    assert a.totals.mult_adds == flop_counter_mult_adds(model, shape)
    assert a.totals.params == sum(r.params for r in a.rows) == sum(p.numel() for p in model.parameters())
    assert a.totals.buffers == sum(b.numel() for b in model.buffers())
    with torch.no_grad():
        assert a.output_shape == tuple(fresh(make)(torch.randn(1, *shape)).shape[1:])


def test_blocks_of_one_class_keep_their_own_paths():
    a = explorer.analyze(Gates(), (3, 16, 16))
    extra = [r.name for r in a.rows if r.name.endswith(".extra") and r.call > 0]
    assert extra == ["blocks.1.extra", "blocks.3.extra"]  # only the widening blocks call it
    assert [r.name for r in a.rows if r.kind == "unused"] == ["blocks.0.extra", "blocks.2.extra"]
    cats = [r.name for r in a.rows if r.type == "(C) concat"]
    assert cats == ["blocks.1.cat", "blocks.3.cat"]
    sides = {r.name: r.output_shape for r in a.rows if r.name.endswith(".conv")}
    assert sides == {"blocks.0.conv": (8, 16, 16), "blocks.1.conv": (8, 16, 16), "blocks.2.conv": (8, 16, 16)} | {
        "blocks.3.conv": (8, 8, 8)
    }


def test_a_block_whose_forward_reads_its_state_is_traced_call_by_call():
    a = explorer.analyze(Stateful(), (3, 16, 16))
    layers = [(r.name, r.call, r.output_shape) for r in a.rows if r.type == "Conv2d" and r.call > 0]
    assert layers == [
        ("stem", 1, (8, 16, 16)),
        ("a.conv", 1, (8, 16, 16)),
        ("a.down", 1, (8, 8, 8)),
        ("b.conv", 1, (8, 8, 8)),
    ]
    assert [r.name for r in a.rows if r.kind == "unused"] == ["b.down"]


def test_a_module_called_on_two_sizes_and_weights_read_functionally():
    a = explorer.analyze(TwoSizes(), (3, 12, 12))
    shared = [r for r in a.rows if r.name == "shared"]
    assert [(r.call, r.input_shape, r.output_shape) for r in shared] == [(1, (3, 12, 12), (6, 12, 12))] + [
        (2, (3, 6, 6), (6, 6, 6))
    ]
    assert shared[0].params == 6 * 3 * 3 * 3 + 6 and shared[1].params == 0 and shared[1].shared_with == shared[0].index
    assert shared[0].mult_adds == 6 * 12 * 12 * 27 and shared[1].mult_adds == 6 * 6 * 6 * 27
    functional = [r for r in a.rows if r.flop_counted]
    assert {r.type for r in functional} == {"conv2d", "linear"} and all(r.params == 0 for r in functional)


def test_layer_attributes_that_are_properties_or_buffers_are_read_as_getattr_reads_them():
    a = explorer.analyze(OwnLeaves(), (3, 10, 10))
    odd, pool = (next(r for r in a.rows if r.name == n) for n in ("odd", "pool"))
    assert odd.kernel == (5, 5) and odd.output_shape == (4, 6, 6) and odd.flop_counted
    assert pool.kernel == (2, 2) and pool.output_shape == (4, 3, 3)
    assert isinstance(pool.stride, tuple) and len(pool.stride) == 2  # _hw of the buffer, as getattr gives it


def test_a_forward_that_reads_shapes_records_its_reshape():
    a = explorer.analyze(ReadsShapes(), (3, 8, 8))
    assert [(r.type, r.output_shape) for r in a.rows] == [("Conv2d", (4, 6, 6)), ("view", (144,)), ("Linear", (3,))]
    assert a.rows[1].inputs == (0,) and a.rows[2].inputs == (1,)
