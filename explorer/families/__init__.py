"""Every architecture family, one module each; importing this package registers them in display order."""

from . import (  # noqa: F401
    custom,
    densenet,
    dpn,
    fractalnet,
    googlenet,
    mobilenet_v1,
    mobilenet_v2,
    nasnet,
    resnet,
    seed_cnn,
    squeezenet,
    vgg,
)
