"""Custom: a network written in the VGG paper's notation or a Keras-like form (explorer/spec.py), as a family.

Its one knob is the text, so the custom network goes through the same analysis, graph, table, derivations,
comparisons and exports as any family: explorer.analyze("custom", spec="conv3-64, maxpool, FC-10").
"""

from torch import nn

from .. import notation
from ..registry import Family, Knob, register
from .vgg import TABLE_1

# VGG paper, Table 1: every column ends with the same classifier (after the fifth maxpool).
TABLE_1_CLASSIFIER = ("FC-4096", "FC-4096", "FC-1000", "soft-max")

# The lecture's "Try yourself" network (Module 1), as a student writes it in Keras for Step 3.
LECTURE_NETWORK = """\
# The lecture's exercise: input 32x32x3
Conv2D(6, (5, 5), activation="relu")
MaxPooling2D((2, 2), strides=2)
Conv2D(16, (5, 5), activation="relu")
MaxPooling2D((2, 2), strides=2)
Flatten()
Dense(120, activation="relu")
Dense(84, activation="relu")
Dense(10, activation="softmax")
"""


def table_1_text(column: str) -> str:
    """A column of Table 1 in the paper's own notation: one stage (and its maxpool) per line."""
    stages = [", ".join(layers + ["maxpool"]) for layers in TABLE_1[column]]
    return f"# VGG paper, Table 1, column {column}\n" + "\n".join(stages) + "\n" + ", ".join(TABLE_1_CLASSIFIER) + "\n"


def derive(knobs: dict) -> dict:
    notation.parse(knobs["spec"])  # a SpecError (line, column) before any model is built
    return knobs


def custom(spec: str = LECTURE_NETWORK, in_channels: int = 3) -> nn.Sequential:
    return notation.build(spec, in_channels)


TABLE_1_PRESETS = {f"table1_{column.lower().replace('-', '_')}": column for column in TABLE_1}

register(
    Family(
        name="custom",
        title="Custom network",
        builder=custom,
        knobs=(
            Knob(
                "spec",
                "text",
                LECTURE_NETWORK,
                "Layers in the VGG paper's notation (conv3-64, maxpool, LRN, FC-4096, soft-max) or Keras's "
                "(Conv2D(16, 5), MaxPooling2D(2), Flatten, Dense(120)...), separated by commas or new lines.",
                max_len=notation.MAX_CHARS,
                label="layers",
            ),
        ),
        default_input=(3, 32, 32),
        paper="Simonyan & Zisserman 2015, Table 1's notation 'conv<receptive field>-<channels>'; Keras's layer names",
        summary="Your own network, written as the VGG paper writes its columns or as Keras code, analysed "
        "layer by layer like every other family.",
        derive=derive,
        input_from=lambda knobs: notation.declared_input(knobs["spec"]),
    ),
    presets={
        "custom_lecture": {"spec": LECTURE_NETWORK},
        **{name: {"spec": table_1_text(column)} for name, column in TABLE_1_PRESETS.items()},
    },
    titles={
        "custom_lecture": "The lecture's exercise network (Keras form)",
        **{name: f"Table 1, column {column} (paper notation)" for name, column in TABLE_1_PRESETS.items()},
    },
)
