"""Distill's receptive-field recurrences against brute force: the input pixels one output unit depends on.

For a conv or pool row of the analysis, the receptive field r, jump j and start s say that output unit i sees
the input pixels whose centres lie within (r - 1) / 2 of s + i j (pixel p spans [p, p + 1), centre p + 0.5).
The brute force builds the real model, makes every path count (positive weights, max pools swapped for average
pools of the same window, activations removed), and reads the rows of the input where the gradient of that one
output unit is not zero. Where the recurrences' window pokes out of the image, some of it is padding (of the
input or of a layer in between), which has no gradient: there the pixels seen must lie inside the window;
where the window lies inside the image, they must be exactly the window.
"""

import math

import pytest
import torch
from torch import nn

import explorer
from explorer.analysis.report import records
from explorer.labs import receptive
from explorer.layers import SamePad2d

CASES = [
    ("lecture_exercise", None, {}),
    (
        "custom",
        (3, 37, 29),
        {
            "spec": "Conv2D(4, 5, strides=2, padding='same'), MaxPooling2D(3, strides=2), "
            "Conv2D(4, 3, strides=3, padding=1), DepthwiseConv2D(3, padding='same'), "
            "Conv2D(4, 4, padding='same', dilation_rate=2), AveragePooling2D(2, 1)"
        },
    ),
    (
        "custom",
        (1, 64, 52),
        {
            "spec": "MaxPooling2D(2, padding='same'), Conv2D(2, 7, strides=3), conv1-2, "
            "Conv2D(3, (3, 3), dilation_rate=3)"
        },
    ),
    ("vgg11", (3, 64, 64), {}),
    ("resnet20", None, {}),
    ("resnet18", (3, 64, 64), {}),
    ("densenet40_k12", None, {}),
]


def _every_path_counts(model: nn.Module) -> nn.Module:
    """Same geometry, every path positive: linear layers averaging their inputs, pools averaging their windows."""
    for name, module in list(model.named_modules()):
        replacement = None
        if isinstance(module, nn.MaxPool2d):
            replacement = nn.AvgPool2d(module.kernel_size, module.stride, module.padding, module.ceil_mode)
        elif isinstance(module, (nn.ReLU, nn.Softmax, nn.Dropout, nn.LocalResponseNorm)):
            replacement = nn.Identity()
        elif isinstance(module, SamePad2d):
            module.value = 0.0  # -inf before a max pool; the pool is an average now
        elif isinstance(module, (nn.Conv2d, nn.Linear)):
            with torch.no_grad():
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.zero_()
        if replacement is not None:
            parent_name, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent_name) if parent_name else model, child, replacement)
    return model.double().eval()


def _window(row, i):
    """The input rows the recurrences say output unit i sees (pixel p's centre is p + 0.5)."""
    centre = row.start + i * row.jump
    half = (row.receptive_field - 1) / 2
    return math.ceil(centre - half - 0.5), math.floor(centre + half - 0.5)


@pytest.mark.parametrize("name,shape,knobs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_recurrences_match_the_gradient_of_one_output_unit(name, shape, knobs):
    analysis = explorer.analyze(name, shape, **knobs)
    model = _every_path_counts(explorer.build(name, analysis.input_shape, **knobs))
    modules = dict(model.named_modules())
    rows = [
        r
        for r in analysis.rows
        if r.kind in ("conv", "pool")
        and r.call == 1
        and r.output_shape
        and len(r.output_shape) == 3
        and r.name in modules
        and r.kernel is not None
    ]
    assert rows
    rows = rows[:: max(1, len(rows) // 12)]  # a dozen layers spread over the depth: one backward pass per unit
    outputs = {}
    hooks = [
        modules[r.name].register_forward_hook(lambda m, inp, out, n=r.name: outputs.setdefault(n, out)) for r in rows
    ]
    x = torch.rand(1, *analysis.input_shape, dtype=torch.float64, requires_grad=True)
    model(x)
    for h in hooks:
        h.remove()
    height = analysis.input_shape[1]
    exact = 0
    for row in rows:
        out = outputs[row.name]
        for i in sorted({0, out.shape[2] // 2, out.shape[2] - 1}):
            (grad,) = torch.autograd.grad(out[0, 0, i, out.shape[3] // 2], x, retain_graph=True)
            seen = (grad[0].abs().sum(dim=(0, 2)) > 0).nonzero().flatten().tolist()
            first, last = _window(row, i)
            message = (
                f"{row.name} unit {i}: gradient rows {seen[0] if seen else '-'}..{seen[-1] if seen else '-'}, "
                f"recurrences r={row.receptive_field} j={row.jump} start={row.start}: rows {first}..{last}"
            )
            assert seen, message
            if 0 <= first and last < height:
                assert (seen[0], seen[-1]) == (first, last), message
                exact += 1
            else:
                assert first <= seen[0] and seen[-1] <= last, message
    assert exact >= 3, f"only {exact} units had their whole window inside the image"


def test_the_table_has_receptive_field_jump_and_start():

    recs = {r["layer"]: r for r in records(explorer.analyze("lecture_exercise"))}
    # conv 5x5 -> pool 2/2 -> conv 5x5 -> pool 2/2: r = 5, 6, 14, 16; j = 1, 2, 2, 4
    assert [(recs[n]["receptive field"], recs[n]["jump"]) for n in ("conv1", "pool1", "conv2", "pool2")] == [
        (5, 1),
        (6, 2),
        (14, 2),
        (16, 4),
    ]
    assert recs["conv1"]["start"] == 2.5 and recs["pool2"]["start"] == 8.0


def test_vgg16_matches_the_published_receptive_field():

    for shape in ((3, 224, 224), (3, 32, 32)):  # windows do not depend on the input size
        rows = receptive.published(explorer.analyze("vgg16", shape))
        assert [(r["quantity"], r["published"], r["ours"]) for r in rows] == [
            ("receptive field", 212, 212),
            ("jump", 32, 32),
            ("effective padding", 90, 90.0),
        ]
    assert receptive.published(explorer.analyze("resnet20")) == []


NON_SQUARE = "\n".join(
    [
        'Conv2D(8, (3, 1), strides=(1, 2), padding="same")',
        "Conv2D(8, (5, 1))",
        "MaxPooling2D((2, 3))",
        "Conv2D(8, (1, 3))",
    ]
)


def test_the_width_has_its_own_recurrences_for_non_square_kernels_and_strides():
    """Along the width: the columns whose gradient is nonzero for one output unit, against r_w, j_w, start_w."""
    analysis = explorer.analyze("custom", (3, 24, 40), spec=NON_SQUARE)
    model = _every_path_counts(explorer.build("custom", analysis.input_shape, spec=NON_SQUARE))
    modules = dict(model.named_modules())
    rows = [r for r in analysis.rows if r.kind in ("conv", "pool") and r.name in modules]
    assert any(r.receptive_field != r.receptive_field_w for r in rows)  # the case this test is about
    outputs = {}
    for r in rows:
        modules[r.name].register_forward_hook(lambda m, inp, out, n=r.name: outputs.setdefault(n, out))
    x = torch.rand(1, *analysis.input_shape, dtype=torch.float64, requires_grad=True)
    model(x)
    width, exact = analysis.input_shape[2], 0
    for row in rows:
        out = outputs[row.name]
        axis = {"start": row.start_w, "jump": row.jump_w, "receptive_field": row.receptive_field_w}
        as_width = type("Axis", (), axis)
        for j in sorted({0, out.shape[3] // 2, out.shape[3] - 1}):
            (grad,) = torch.autograd.grad(out[0, 0, out.shape[2] // 2, j], x, retain_graph=True)
            seen = (grad[0].abs().sum(dim=(0, 1)) > 0).nonzero().flatten().tolist()
            first, last = _window(as_width, j)
            if 0 <= first and last < width:
                assert (seen[0], seen[-1]) == (first, last), (row.name, j, seen, first, last)
                exact += 1
            else:
                assert first <= seen[0] and seen[-1] <= last, (row.name, j, seen, first, last)
    assert exact >= 3
    records = receptive.records(analysis)
    assert records[-1]["receptive field (width)"] == rows[-1].receptive_field_w != records[-1]["receptive field"]
