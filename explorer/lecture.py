"""The lecture path: the seed lecture's topics in its own order, each a claim tested by a live result.

A Step holds the slide's claim, the "try this" prompt, what the slide writes where PyTorch computes something
else ("The slide says"), which live view tests it (an architecture analysed by explorer.analyze, the
residual-path counts, or live experiments at the lecture's settings) and a verdict function that turns the
live result into one or two sentences. ui/lecture.py draws a step; `python -m explorer prepare` runs every
experiment listed here (experiment_runs) so that in class each step loads from the disk cache.

    step = step_by_slug("densenet")
    analysis = explorer.analyze(step.preset, step.input_shape, **step.knobs)
    step.verdict(analysis)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .analysis import analyze
from .analysis.report import human
from .errors import KnobError
from .experiments import (
    cached_outcome,
    distill,
    get_experiment,
    layer_removal,
    path_gradients,
    prune,
    quantize,
    run_experiment,
    transfer_cut,
)
from .families import densenet, dpn, fractalnet, googlenet, mobilenet_v1, nasnet, resnet_paths
from .reference import (
    DENSENET_TABLE_2_MILLIONS,
    LECTURE_EDGE,
    LECTURE_RESIDUAL,
    MOBILENET_TABLE_8,
    VEIT_2016,
    VGG_TABLE_2,
)

ANALYSIS, PATHS, EXPERIMENT = "analysis", "paths", "experiment"
# The published and the lecture's figures the steps quote, read from explorer.reference.
_TABLE_8 = {row[1]: row for row in MOBILENET_TABLE_8}  # preset -> (model, preset, million mult-adds, million params)
_PRUNE_SIZE, _PRUNE_KEPT = LECTURE_EDGE["pruning_size_ratio"], LECTURE_EDGE["pruning_accuracy_retained"]
_QUANTIZE_SIZE = LECTURE_EDGE["quantization_size_ratio"]
_PATH_LAYERS = "-".join(map(str, LECTURE_RESIDUAL["effective_layers"]))  # "20-30"
_BC190_MILLIONS = DENSENET_TABLE_2_MILLIONS["densenet_bc190_k40"]


@dataclass(frozen=True)
class Step:
    slug: str  # ?step=<slug>
    title: str
    topic: str  # the lecture's section
    claim: str  # the slide's claim, one or two sentences
    prompt: str  # "try this"
    view: str  # ANALYSIS, PATHS or EXPERIMENT
    verdict: Callable  # live result -> sentence(s) about the claim
    slide_says: tuple[str, ...] = ()  # where the slide and PyTorch (or the paper) differ
    preset: str | None = None  # ANALYSIS: what explorer.analyze builds
    input_shape: tuple = (3, 32, 32)
    knobs: dict = field(default_factory=dict)
    knob: str | None = None  # the one family knob the step offers (presenter mode shows only it)
    idea: bool = False  # draw the family's own view (ui/views) under the verdict
    experiment: str | None = None  # EXPERIMENT: which one
    runs: tuple[dict, ...] = ({},)  # EXPERIMENT: settings beyond the experiment's defaults, one dict per run
    page: str = ""  # url_path of the page with every control


def _first(analysis, kind: str, index: int = 0):
    return [r for r in analysis.rows if r.kind == kind][index]


def _shape(shape) -> str:  # (C, H, W) -> the lecture's H×W×C
    return "×".join(str(s) for s in (*shape[1:], shape[0])) if len(shape) == 3 else "×".join(map(str, shape))


def short(n: float) -> str:
    """138,357,544 -> '138.4 M' (the exact value goes beside it, in a tooltip or a table)."""
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f} {suffix}"
    return f"{n:g}"


def power_of_two(n: int) -> str:
    """2^600 ≈ 4.1 × 10¹⁸⁰ as the lecture writes it; small powers exactly (2^10 = 1,024)."""
    value = 2**n
    return f"2^{n} = {value:,}" if value < 10**7 else f"2^{n} ≈ {resnet_paths.scientific(value, 2)}"


# -- verdicts computed from an Analysis ------------------------------------------------------------------------------


def conv_arithmetic(a) -> str:
    conv = _first(a, "conv")
    c, h = conv.input_shape[0], conv.input_shape[1]
    k, f, s, p = conv.output_shape[0], conv.kernel[0], conv.stride[0], conv.padding[0]
    side = (h - f + 2 * p) // s + 1
    holds = side == conv.output_shape[1]
    formula = k * (f * f * c + 1)
    slide = k * f * f * c  # (K·F·F·Channels)·Bias, read with one bias in total
    return (
        f"PyTorch turns {_shape(conv.input_shape)} into {_shape(conv.output_shape)}: (A − F + 2P)/S + 1 = "
        f"({h} − {f} + 2·{p})/{s} + 1 = {side}, so the shape formula {'holds' if holds else 'does not hold'}. "
        f"It counts {conv.params:,} parameters = K·(F·F·C + 1) = {k}·({f}·{f}·{c} + 1)"
        + (" ✓" if formula == conv.params else f" (the formula gives {formula:,})")
        + f": {k} biases, one per kernel, not a single factor (K·F·F·C alone is {slide:,})."
    )


def try_yourself(a) -> str:
    conv, pool, fc = _first(a, "conv", 1), _first(a, "pool", 1), _first(a, "linear")
    c, f, k = conv.input_shape[0], conv.kernel[0], conv.output_shape[0]
    n_in, n_out = fc.input_shape[0], fc.output_shape[0]
    return (
        f"Second convolution: {_shape(conv.input_shape)} → {_shape(conv.output_shape)} with {conv.params:,} "
        f"parameters = {k}·({f}·{f}·{c} + 1); second pooling: → {_shape(pool.output_shape)}, "
        f"{pool.params} parameters. The first dense layer, {n_in:,} → {n_out:,}, has {fc.params:,} = "
        f"({n_in:,} + 1)·{n_out:,} parameters; the slide's (prev · actual) + 1 gives {n_in * n_out + 1:,}."
    )


def vgg_columns(d) -> str:
    knobs = {k: v for k, v in d.resolved.items() if k in ("num_classes", "width", "fc_width", "batch_norm")}
    a, e = (analyze("vgg", d.input_shape, **knobs, config=c).totals.params for c in ("A", "E"))
    fc = sum(r.params for r in d.rows if r.kind == "linear")
    return (
        f"From A (11 weight layers) to E (19), the parameters grow from {short(a)} to {short(e)} "
        f"(+{(e - a) / a:.0%}): eight more 3×3 layers cost little. In D (VGG-16, {d.totals.params:,}) the three "
        f"fully connected layers hold {fc / d.totals.params:.0%} of all parameters."
    )


def inception(a) -> str:
    saving = googlenet.reduction_saving(192, (64, 96, 128, 16, 32, 32), 28)  # module 3a of Table 1
    vgg16 = _TABLE_8["vgg16"][3]
    return (
        f"Module 3(a) with its 1×1 reductions has {saving.reduced.params:,} parameters and "
        f"{short(saving.reduced.mult_adds)} multiply-adds; without them {saving.naive.params:,} and "
        f"{short(saving.naive.mult_adds)} ({saving.naive.params / saving.reduced.params:.1f}× the parameters). "
        f"The whole GoogLeNet counts {short(a.totals.params)} parameters, against the {vgg16:g} M "
        "published for VGG-16: wider, yet far smaller."
    )


def fractal(a) -> str:
    c, b = a.resolved["columns"], a.resolved["blocks"]
    depth, total = fractalnet.conv_depth(c, b), fractalnet.conv_count(c, b)
    traced = sum(1 for r in a.rows if r.kind == "conv")
    return (
        f"With C = {c} columns and {b} blocks the deepest column has 2^(C−1)·{b} = {depth} convolutions: that is "
        f"the network's depth. The network holds {total} convolutions in all ({2**c - 1} per block, "
        f"2^C − 1), and the traced model has {traced}."
    )


def dense_growth(a) -> str:
    rows = densenet.block_channels(a)
    k = a.resolved["growth_rate"]
    agree = sum(r["agrees"] == "✓" for r in rows)
    last = max(rows, key=lambda r: r["traced channels"])
    return (
        f"With growth rate k = {k}, layer n of a block receives k0 + k(n − 1) channels: the traced torch.cat "
        f"agrees in {agree} of {len(rows)} layers. The widest input is {last['traced channels']:,} channels "
        f"(layer {last['layer n']} of {last['block']}), yet each layer adds only {k} maps; "
        f"the network has {a.totals.params:,} parameters."
    )


def dual_path(a) -> str:
    rows = dpn.path_widths(a)
    stage = [r for r in rows if r["stage"] == rows[0]["stage"]]
    return (
        f"In {stage[0]['stage']} the residual path stays at {stage[0]['residual (added)']} channels (added) "
        f"while the dense path grows by {stage[0]['new dense channels']} per block, from "
        f"{stage[0]['dense (concatenated)']} to {stage[-1]['dense (concatenated)']} (concatenated): "
        "ResNet's reuse and DenseNet's new features in one block."
    )


def mobilenet(a) -> str:
    cost = mobilenet_v1.layer_cost(3, 512, 512, 14)
    ratio = cost.standard_mult_adds / (cost.depthwise_mult_adds + cost.pointwise_mult_adds)
    pub = _TABLE_8["mobilenet_v1"][2:]
    return (
        f"A 3×3 layer from 512 to 512 channels at 14×14: {short(cost.standard_mult_adds)} multiply-adds as a "
        f"standard convolution, {short(cost.depthwise_mult_adds + cost.pointwise_mult_adds)} depthwise-separable, "
        f"{ratio:.1f}× fewer (1/O + 1/F² = {1 / 512 + 1 / 9:.3f}). MobileNet-224 here: "
        f"{short(a.totals.mult_adds)} multiply-adds and {short(a.totals.params)} parameters (Table 8: "
        f"{pub[0]:g} M and {pub[1]:g} M)."
    )


def nas(a) -> str:
    table = nasnet.cells(a)
    reductions = sum("reduction" in r["kind"].lower() for r in table)
    bc190 = analyze("densenet_bc190_k40", (3, 32, 32)).totals.params
    bc100 = analyze("densenet_bc100_k12", (3, 32, 32), growth_rate=40).totals.params
    return (
        f"The table's DenseNet-BC row: L = 190, k = 40 counts {short(bc190)} parameters here (the paper prints "
        f"{_BC190_MILLIONS} M, published); L = 100 with "
        f"k = 40 would have {short(bc100)}. "
        f"NASNet-A Mobile is {len(table)} cells, {reductions} of them reduction cells, each a searched "
        f"genotype of two-input operations; {a.totals.params:,} parameters ({short(a.totals.params)}) and "
        f"{short(a.totals.mult_adds)} multiply-adds at 224×224."
    )


# -- verdicts computed from the residual-path counts and from experiments --------------------------------------------


def paths(n: int) -> str:
    s = resnet_paths.summary(n)
    v = VEIT_2016
    big = v["resnet110_blocks"]
    return (
        f"{n} blocks make {power_of_two(n)} paths; removing one block keeps the 2^{n - 1} that skip it, half of "
        f"them. Their lengths follow Binomial({n}, 1/2), mean {s['mean']:g} blocks; at ResNet-110's {big} blocks, "
        f"{power_of_two(big)} paths, mean {big / 2:g}."
    )


def _results(outcomes: list) -> list[dict]:
    return [o.result for o in outcomes]


def path_gradient_verdict(outcomes: list) -> str:
    r = outcomes[0].result
    low, high, n = r["range"]["low"], r["range"]["high"], r["blocks"]
    v = VEIT_2016
    return (
        f"The slide: paths that matter are {_PATH_LAYERS} layers long. Measured on our {n}-block ResNet: paths of "
        f"{low}-{high} blocks ({2 * low}-{2 * high} layers) carry {r['range']['gradient_share']:.0%} of the gradient, "
        f"while the average path has {r['mean_length']:g} blocks. Veit et al. find {v['effective_low']}-"
        f"{v['effective_high']} blocks in ResNet-110."
    )


def layer_removal_verdict(outcomes: list) -> str:
    r = outcomes[0].result
    res, plain = r["residual"]["median_drop"], r["plain"]["median_drop"]
    holds = res < plain
    return (
        f"Deleting one block costs the residual network a median of {res:.1%} and the plain network {plain:.1%}: "
        + (
            "the slide's robustness to layer removal holds on our data."
            if holds
            else "on our data the residual network is not the more robust one."
        )
    )


def transfer_verdict(outcomes: list) -> str:
    parts = []
    for r in _results(outcomes):
        best = next(c for c in r["cuts"] if c["cut"] == r["best_cut"])
        beats = best["accuracy"] > r["scratch_accuracy"]
        parts.append(
            f"{r['notation']}: best cut {best['label']} {best['accuracy']:.1%} vs {r['scratch_accuracy']:.1%} from "
            f"scratch ({'transfer helps' if beats else 'transfer does not help'})"
        )
    return "; ".join(parts) + "."


def prune_verdict(outcomes: list) -> str:
    check = prune.lecture_check(outcomes[0].result)
    if not check["found"]:
        return (
            f"No pruned model on the curve is {_PRUNE_SIZE:g}× smaller: the slide's {_PRUNE_SIZE:g}× at "
            f"{_PRUNE_KEPT:.0%} cannot be tested here."
        )
    plain, tuned = check["retained"], check["finetuned_retained"]
    target = prune.LECTURE_PRUNING[1]
    if plain >= target:
        how = "holds on our data, even without fine-tuning"
    elif tuned >= target:
        how = "holds on our data only after the short fine-tune"
    else:
        how = "does not hold on our data"
    return (
        f"At {check['sparsity']:.0%} sparsity the model is {check['ratio']:.1f}× smaller and keeps {plain:.1%} of its "
        f"accuracy ({tuned:.1%} after fine-tuning): the slide's '{_PRUNE_SIZE:g}× smaller, {_PRUNE_KEPT:.0%} of the "
        f"accuracy' {how}."
    )


def quantize_verdict(outcomes: list) -> str:
    r = outcomes[0].result
    drop = (r["int8_accuracy"] - r["fp32_accuracy"]) * 100
    return (
        f"int8 makes the model {r['size_ratio']:.2f}× smaller (the slide: ×{_QUANTIZE_SIZE:g}; the rest is scales, "
        "zero points and "
        f"names) at {drop:+.1f} points of accuracy ({r['fp32_accuracy']:.1%} → {r['int8_accuracy']:.1%})."
    )


def distill_verdict(outcomes: list) -> str:
    r = outcomes[0].result
    plain, soft = r["labels"]["accuracy"], r["distilled"]["accuracy"]
    gain = (soft - plain) * 100
    return (
        f"The student from labels alone reaches {plain:.1%}, from the teacher's soft targets {soft:.1%} "
        f"({gain:+.1f} points): distillation "
        + ("helps here." if gain >= 0.5 else "does not help here." if gain <= -0.5 else "makes no difference here.")
    )


FINDINGS = {  # each experiment's own sentences, shown under the verdict
    "layer-removal": layer_removal.findings,
    "path-gradients": path_gradients.findings,
    "transfer-cut": transfer_cut.findings,
    "quantize": quantize.findings_quantize,
    "prune": prune.findings_prune,
    "distill": distill.findings_distill,
}

# -- the path --------------------------------------------------------------------------------------------------------

STEPS: tuple[Step, ...] = (
    Step(
        "conv-arithmetic",
        "Convolution arithmetic and parameters",
        "Recap on convolution",
        "A convolution with K kernels of F×F, stride S and padding P turns A×L×D into "
        "((A − F + 2P)/S + 1)×((L − F + 2P)/S + 1)×K; a pooling layer has no parameters.",
        "Set the kernel size to 3: which output side does the formula give, and how many parameters?",
        ANALYSIS,
        conv_arithmetic,
        slide_says=(
            "The slide writes a convolution's parameters as (K·F·F·Channels)·Bias; PyTorch counts "
            "K·(F·F·C + 1): each of the K kernels has F·F·C weights and one bias.",
            "The pooling formula names the window F while its bullets call it K (kernel dimension).",
        ),
        preset="lecture_exercise",
        knob="kernel_size",
        page="layer-arithmetic",
    ),
    Step(
        "try-yourself",
        "Try yourself: the second layers",
        "Recap on convolution",
        "Second convolution with K = 16, F = 5×5, no padding, then 2×2 pooling with stride 2: work out each "
        "shape and parameter count with pen and paper.",
        "Change the second layer's kernels to 32: how many parameters does the first dense layer gain?",
        ANALYSIS,
        try_yourself,
        slide_says=(
            "The slide writes a dense layer's parameters as (previous activations · current activations) + 1; "
            "PyTorch counts (previous + 1) · current: one bias per output neuron.",
        ),
        preset="lecture_exercise",
        knob="kernels2",
        page="exercises",
    ),
    Step(
        "vgg",
        "VGG: configurations A to E",
        "VGG",
        "Stacking 3×3 convolutions lets VGG go from 11 to 19 weight layers; the paper's Table 2 gives "
        f"{min(VGG_TABLE_2.values())} M to {max(VGG_TABLE_2.values())} M parameters.",
        "Which column's extra layers cost the most parameters, and why do the FC layers dominate?",
        ANALYSIS,
        vgg_columns,
        preset="vgg16",
        input_shape=(3, 224, 224),
        knobs={"num_classes": 1000},
        idea=True,
        page="",
    ),
    Step(
        "inception",
        "Inception: width and the 1×1 savings",
        "GoogLeNet",
        "Inception widens a network with parallel branches concatenated; the slide warns that the parameters "
        "grow dramatically, and 1×1 reductions keep them in check.",
        "In the calculator, remove the 1×1 reductions: how many times more multiply-adds does module 3(a) need?",
        ANALYSIS,
        inception,
        slide_says=(
            "“Parameters grow dramatically!”: with its 1×1 reductions GoogLeNet stays near "
            f"{_TABLE_8['googlenet'][3]:g} M parameters, about {_TABLE_8['vgg16'][3] / _TABLE_8['googlenet'][3]:.0f}× "
            f"fewer than VGG-16's {_TABLE_8['vgg16'][3]:g} M (published, MobileNet paper Table 8).",
        ),
        preset="googlenet",
        input_shape=(3, 224, 224),
        idea=True,
    ),
    Step(
        "fractalnet",
        "FractalNet and drop-path",
        "FractalNet",
        "F_{C+1}(z) = [(F_C ∘ F_C)(z)] ⊕ [conv(z)]: with C columns a block is 2^(C−1) layers deep, so 5 blocks "
        "make 2^(C−1) × 5 = 40 layers, trained with local and global drop-path.",
        "Sample a global drop-path: how many convolutions does the surviving column have?",
        ANALYSIS,
        fractal,
        slide_says=(
            "“How many total convolutional layers are there? 2^(C−1)×5 = 40”: 40 is the depth of the deepest "
            "column; a block of C = 4 columns holds 2^C − 1 = 15 convolutions, 75 in the network.",
        ),
        preset="fractalnet40",
        knob="columns",
        idea=True,
    ),
    Step(
        "resnet-paths",
        "ResNet: unravelled paths",
        "ResNet",
        "y_n = f_n(y_{n−1}) + y_{n−1}: each block is entered or skipped, so N blocks make 2^N paths; "
        "removing a block leaves 2^(N−1).",
        "Set N to 600: how many paths, and how long is the average one?",
        PATHS,
        paths,
        page="paths",
    ),
    Step(
        "path-gradients",
        "Which paths carry the gradient",
        "ResNet",
        f"Updates do not occur uniformly: while residual networks reach {LECTURE_RESIDUAL['deepest_layers']} "
        f"layers, the paths that train are usually {_PATH_LAYERS} layers long (ensemble studies).",
        "Compare the trained and the untrained network on the Residual paths page: does the band move?",
        EXPERIMENT,
        path_gradient_verdict,
        slide_says=(
            f"Veit et al. count path lengths in residual blocks ({VEIT_2016['effective_low']}-"
            f"{VEIT_2016['effective_high']} of {VEIT_2016['resnet110_blocks']} in ResNet-110, published), each two "
            f"layers; “{_PATH_LAYERS} layers” is the lecture's reading.",
        ),
        experiment="path-gradients",
        page="paths",
    ),
    Step(
        "layer-removal",
        "Robustness to layer removal",
        "ResNet",
        "Removing a layer from a residual network costs little accuracy (2^N → 2^(N−1) paths), unlike in a "
        "traditional network, whose single path is cut.",
        "Delete the downsampling block: is it the most harmful one?",
        EXPERIMENT,
        layer_removal_verdict,
        experiment="layer-removal",
        page="layer-removal",
    ),
    Step(
        "densenet",
        "DenseNet and the growth rate",
        "DenseNet",
        "y_n = f_n([y_0, …, y_{n−1}]): layer n receives k_0 + k·(n − 1) channels; narrow layers (k ≈ 12) suffice "
        "because features are reused, and transition layers downsample between blocks.",
        "Set the growth rate to 48: which layer's input grows fastest?",
        ANALYSIS,
        dense_growth,
        slide_says=(
            "The slide's transition layer is 1×1 convolution, 2×2 max pooling and batch normalisation; the paper "
            "(and PyTorch here) uses BN-ReLU-1×1 convolution followed by 2×2 average pooling.",
        ),
        preset="densenet40_k12",
        knob="growth_rate",
        idea=True,
    ),
    Step(
        "dpn",
        "Dual Path Networks",
        "DPN",
        "A DPN block combines ResNet's feature reuse (an added path) with DenseNet's new features "
        "(a concatenated path): ResNets are DenseNets with shared connections.",
        "Which stage's dense path ends widest?",
        ANALYSIS,
        dual_path,
        preset="dpn92",
        input_shape=(3, 224, 224),
        idea=True,
    ),
    Step(
        "pruning",
        "Edge: pruning",
        "Edge computing",
        f"Many neurons contribute little: a pruned network can be {_PRUNE_SIZE:g}× smaller while keeping "
        f"{_PRUNE_KEPT:.0%} of the accuracy.",
        f"On the Edge page, move the sparsity to 0.9: is the accuracy still within {1 - _PRUNE_KEPT:.0%}?",
        EXPERIMENT,
        prune_verdict,
        experiment="prune",
        page="edge",
    ),
    Step(
        "quantization",
        "Edge: quantization",
        "Edge computing",
        f"Storing 32-bit float weights as 8-bit integers cuts the model size ×{_QUANTIZE_SIZE:g}.",
        "Is the int8 model faster on this CPU as well as smaller?",
        EXPERIMENT,
        quantize_verdict,
        experiment="quantize",
        page="edge",
    ),
    Step(
        "distillation",
        "Edge: distillation",
        "Edge computing",
        "A smaller network trained from a large pretrained one (its soft targets) can replace it.",
        "Raise the temperature: does the student trained on soft targets gain?",
        EXPERIMENT,
        distill_verdict,
        experiment="distill",
        page="edge",
    ),
    Step(
        "mobilenet",
        "MobileNet: depthwise separable, α and ρ",
        "Edge computing",
        "A depthwise-separable convolution costs 1/O + 1/F² of a standard one (about "
        f"{LECTURE_EDGE['separable_saving']:g}× fewer with 3×3); the "
        "width multiplier α and the resolution multiplier ρ shrink it further.",
        "Set α to 0.5: how much do the parameters and the multiply-adds fall?",
        ANALYSIS,
        mobilenet,
        slide_says=(
            "The slide's α formula F·F·αC·Fm + αC·αO·Fm·Fm drops one Fm from the depthwise term: it is "
            "F·F·αC·Fm·Fm (and F·F·αC·ρFm·ρFm with ρ).",
            "The reduction is written 1/O + 1/K² while the slide calls the kernel F elsewhere.",
        ),
        preset="mobilenet_v1",
        input_shape=(3, 224, 224),
        knob="alpha",
        idea=True,
    ),
    Step(
        "nasnet",
        "NASNet: searched cells",
        "NASNet",
        "NASNet abstracts the layer into Normal and Reduction cells, searched by an RNN controller on a small "
        "dataset and transferred to a larger one.",
        "Which operations does the Normal cell use, and how many of them are separable convolutions?",
        ANALYSIS,
        nas,
        slide_says=(
            "The table row “DenseNet-BC (L = 100, k = 40), depth 190”: the paper's network is L = 190 "
            f"(DenseNet-BC-190, k = 40, {_BC190_MILLIONS} M parameters, published in the DenseNet paper's "
            "Table 2); the preset densenet_bc190_k40 builds it.",
        ),
        preset="nasnet_a_mobile",
        input_shape=(3, 224, 224),
        idea=True,
    ),
    Step(
        "transfer-taxonomy",
        "Transfer learning: the taxonomy",
        "Transfer learning",
        "Homogeneous transfer (X_o = X_n, Y_o = Y_n) corrects P(X_o) ≠ P(X_n) or P(Y_o|X_o) ≠ P(Y_n|X_n); "
        "heterogeneous transfer (X_o ≠ X_n and/or Y_o ≠ Y_n) shares no features or labels.",
        "Which scenario gains most from the source network over training from scratch?",
        EXPERIMENT,
        transfer_verdict,
        experiment="transfer-cut",
        runs=tuple({"scenario": s} for s in transfer_cut.SCENARIOS),
        page="transfer",
    ),
    Step(
        "transfer-cuts",
        "How should I choose the right cut?",
        "Transfer learning",
        "Train the entire model, train some layers, train fewer layers or freeze almost all: the right cut "
        "depends on how close the new task is and how many labelled examples there are.",
        "On the Transfer page, lower the examples to 1 per class: does the best cut move up?",
        EXPERIMENT,
        transfer_verdict,
        experiment="transfer-cut",
        page="transfer",
    ),
)


def step_by_slug(slug: str) -> Step:
    for s in STEPS:
        if s.slug == slug:
            return s
    raise KnobError(f"The lecture has no step '{slug}'; its steps are {', '.join(s.slug for s in STEPS)}.")


def step_index(slug: str | None) -> int:
    """The position of ?step=<slug> (or a 1-based number); raises KnobError for an unknown one."""
    if not slug:
        return 0
    if slug.isdigit() and 1 <= int(slug) <= len(STEPS):
        return int(slug) - 1
    return STEPS.index(step_by_slug(slug))


def analysis_knobs(step: Step, value=None) -> dict:
    return {**step.knobs, **({step.knob: value} if step.knob and value is not None else {})}


def experiment_runs(steps=STEPS) -> list[tuple[str, dict]]:
    """Every (experiment, settings) the path uses, once each, at the lecture's settings (the defaults)."""
    seen, runs = set(), []
    for step in steps:
        if step.view != EXPERIMENT:
            continue
        experiment = get_experiment(step.experiment)
        for extra in step.runs:
            settings = experiment.check(extra)
            key = (step.experiment, tuple(sorted(settings.items())))
            if key not in seen:
                seen.add(key)
                runs.append((step.experiment, settings))
    return runs


def outcomes_for(step: Step, data_dir: str | None = None) -> list | None:
    """The cached outcomes of a step's runs, or None if any is missing (the page then offers to compute it)."""
    outcomes = []
    for extra in step.runs:
        outcome = cached_outcome(step.experiment, extra, data_dir)
        if outcome is None:
            return None
        outcomes.append(outcome)
    return outcomes


@dataclass
class Prepared:
    experiment: str
    settings: dict
    from_cache: bool
    seconds: float


def prepare(
    progress: Callable[[float, str], None] | None = None, data_dir: str | None = None, steps=STEPS
) -> list[Prepared]:
    """Run (or load) every experiment of the path; progress(fraction, text) carries an estimate of the time left.

    The cached runs are found first (milliseconds each), so the bar and the estimate cover only the runs
    that train: the estimate is the time spent so far scaled by the share of training left.
    """
    runs = experiment_runs(steps)
    done: list[Prepared] = []
    todo = []
    for name, settings in runs:
        start = time.monotonic()
        if cached_outcome(name, settings, data_dir) is not None:
            done.append(Prepared(name, settings, True, time.monotonic() - start))
        else:
            todo.append((name, settings))
    began = time.monotonic()

    def report(i: int, name: str, part: float) -> None:
        if not progress:
            return
        fraction = (i + part) / len(todo)
        elapsed = time.monotonic() - began
        left = elapsed * (1 - fraction) / fraction if fraction > 0.02 else None
        eta = "estimating the time left" if left is None else f"about {left:.0f} s left"
        progress(fraction, f"{i + 1}/{len(todo)} to compute: {name} ({eta})")

    for i, (name, settings) in enumerate(todo):
        report(i, name, 0.0)
        start = time.monotonic()
        run_experiment(name, settings, lambda p, i=i, name=name: report(i, name, min(1.0, p.overall)), data_dir)
        done.append(Prepared(name, settings, False, time.monotonic() - start))
    if progress:
        progress(1.0, f"{len(runs)} runs ready: {len(todo)} computed, {len(runs) - len(todo)} already cached")
    return done


def prepare_step(step: Step, progress=None, data_dir: str | None = None) -> list[Prepared]:
    return prepare(progress, data_dir, steps=(step,))


def prepared_report(done: list[Prepared]) -> str:
    computed = [p for p in done if not p.from_cache]
    lines = [
        f"{len(done)} experiment runs for the lecture path: {len(computed)} computed, "
        f"{len(done) - len(computed)} already cached."
    ]
    for p in done:
        varied = {k: v for k, v in p.settings.items() if get_experiment(p.experiment).defaults().get(k) != v}
        extra = " ".join(f"{k}={v}" for k, v in varied.items())
        state = "cached" if p.from_cache else f"computed in {p.seconds:.1f} s"
        lines.append(f"  {p.experiment}{' ' + extra if extra else ''}: {state}")
    return "\n".join(lines)


__all__ = ["STEPS", "Step", "human", "power_of_two", "prepare", "short", "step_by_slug", "step_index"]
