"""SqueezeNet: the metaparameters give Table 1's widths, the presets the published counts, SR sweeps agree."""

import pytest

from explorer import KnobError, analyze, configure
from explorer.analysis.compare import longest_weight_path
from explorer.families.squeezenet import PAPER_SR, fire_cost, fire_widths, network_sweep, squeeze_sweep

# SqueezeNet paper, Table 1: (s1x1, e1x1, e3x3) of fire2 ... fire9.
TABLE_1_FIRES = [
    (16, 64, 64),
    (16, 64, 64),
    (32, 128, 128),
    (32, 128, 128),
    (48, 192, 192),
    (48, 192, 192),
    (64, 256, 256),
    (64, 256, 256),
]
# Table 1's output sizes at the paper's 227x227 input.
TABLE_1_OUTPUTS = {
    "conv1": (96, 111, 111),
    "maxpool1": (96, 55, 55),
    "fire4": (256, 55, 55),
    "maxpool4": (256, 27, 27),
    "fire8": (512, 27, 27),
    "maxpool8": (512, 13, 13),
    "fire9": (512, 13, 13),
    "conv10": (1000, 13, 13),
    "avgpool10": (1000, 1, 1),
}


def test_the_metaparameters_give_table_1():
    assert fire_widths() == TABLE_1_FIRES
    assert analyze("squeezenet1_0").resolved["fire_widths"] == tuple(TABLE_1_FIRES)


def test_output_sizes_follow_table_1_at_227():
    a = analyze("squeezenet1_0", (3, 227, 227))
    last = {}
    for r in a.rows:
        last[r.name.split(".")[0]] = r.output_shape
    for name, shape in TABLE_1_OUTPUTS.items():
        assert last[name] == shape, name


def test_presets_reproduce_the_published_counts_and_depth():
    v10, v11 = analyze("squeezenet1_0"), analyze("squeezenet1_1")
    assert v10.totals.params == 1_248_424 and v11.totals.params == 1_235_496
    assert 2.3 < v10.totals.mult_adds / v11.totals.mult_adds < 2.4  # "2.4x less computation"
    assert longest_weight_path(v10) == 18  # conv1, 8 x (squeeze, expand), conv10
    assert not any(r.kind == "linear" for r in v10.rows)


def test_knobs_change_the_widths_as_the_paper_defines_them():
    a = analyze("squeezenet", squeeze_ratio=0.25, pct_3x3=0.75, freq=1, incr_e=64)
    widths = a.resolved["fire_widths"]
    assert widths[0] == (32, 32, 96) and widths[1] == (48, 48, 144)  # e = 128 + 64 * i
    assert a.totals.params != 1_248_424


@pytest.mark.parametrize(
    "knobs,text",
    [
        (dict(squeeze_ratio=0.025, base_e=8), "raise the squeeze ratio to at least"),
        (dict(pct_3x3=0.01, base_e=8), "no expand 3x3 filter"),
        (dict(pct_3x3=0.99, base_e=8), "no expand 1x1 filter"),
    ],
)
def test_settings_that_empty_a_fire_module_are_one_sentence(knobs, text):
    with pytest.raises(KnobError, match=text):
        configure("squeezenet", **knobs)


def test_squeeze_sweep_is_counted_on_pytorch_modules_and_linear_in_s():
    a = analyze("squeezenet1_0")
    fire4 = [r for r in a.rows if r.name.startswith("fire4.")]
    side = fire4[0].input_shape[1]  # 54 at 224x224
    points = squeeze_sweep(128, 128, 128, side)
    paper = next(p for p in points if p.squeeze_ratio == PAPER_SR)
    assert paper.squeeze == 32 and paper.params == sum(r.params for r in fire4)
    assert paper.mult_adds == sum(r.mult_adds for r in fire4)
    slopes = {(b.params - a_.params) / (b.squeeze - a_.squeeze) for a_, b in zip(points, points[1:])}
    assert slopes == {128 + 1 + 128 + 9 * 128}
    assert fire_cost(96, 16, 64, 64, 54)[0] == 96 * 16 + 16 + 16 * 64 + 64 + 16 * 64 * 9 + 64


def test_network_sweep_starts_at_the_published_network():
    sweep = network_sweep("squeezenet1_0", (3, 224, 224), {}, ratios=(0.125, 0.5))
    assert sweep[0][1] == 1_248_424 and sweep[1][1] > sweep[0][1]
