"""Every architecture family, one module each; importing this package registers them in display order."""
from . import seed_cnn, vgg, resnet, densenet, dpn, mobilenet_v1, mobilenet_v2, nasnet  # noqa: F401
