"""The lecture's paper-and-pen exercise network (a LeNet-5 layout on CIFAR-10 images).

input 32x32x3 -> conv 6@5x5 -> max pool 2/2 -> conv 16@5x5 -> max pool 2/2 -> FC 120 -> FC 84 -> FC 10
"""

from collections import OrderedDict

from torch import nn

from ..registry import Family, Knob, register


def seed_cnn(kernels1=6, kernels2=16, kernel_size=5, padding=0, stride=1, num_classes=10, in_channels=3):
    F, S, P = kernel_size, stride, padding
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(in_channels, kernels1, F, S, P)),  # (K1, 28, 28) at 32x32 with F=5, P=0
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2, 2)),  # (K1, 14, 14)
                ("conv2", nn.Conv2d(kernels1, kernels2, F, S, P)),  # (K2, 10, 10)
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2, 2)),  # (K2, 5, 5)
                ("flatten", nn.Flatten()),
                ("fc1", nn.LazyLinear(120)),  # its input is whatever pool2 leaves
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(120, 84)),
                ("relu4", nn.ReLU()),
                ("fc3", nn.Linear(84, num_classes)),
            ]
        )
    )


register(
    Family(
        name="seed_cnn",
        title="Lecture exercise CNN",
        builder=seed_cnn,
        knobs=(
            Knob("kernels1", "int", 6, "Kernels (K) of the first convolution.", 1, 128, label="kernels, conv 1"),
            Knob("kernels2", "int", 16, "Kernels (K) of the second convolution.", 1, 256, label="kernels, conv 2"),
            Knob(
                "kernel_size",
                "int",
                5,
                "Receptive field F of both convolutions (F x F).",
                1,
                11,
                label="receptive field F",
            ),
            Knob("padding", "int", 0, "Zero padding P on each side of both convolutions.", 0, 5, label="padding P"),
            Knob("stride", "int", 1, "Stride S of both convolutions.", 1, 4, label="stride S"),
            Knob("num_classes", "int", 10, "Outputs of the last fully connected layer.", 1, 10000, label="classes"),
        ),
        default_input=(3, 32, 32),
        paper="The lecture's 'Try yourself' exercise (Module 1)",
        summary="Two convolutions and two max pools, then three fully connected layers: compute every "
        "output volume and parameter count with paper and pen, then check them here.",
    ),
    presets={"lecture_exercise": {}},
    titles={"lecture_exercise": "Lecture exercise: conv 6@5x5, pool, conv 16@5x5, pool"},
)
