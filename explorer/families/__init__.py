"""Every architecture family, one module each; importing this package registers them in display order."""
from . import seed_cnn, vgg, resnet, densenet, googlenet, fractalnet, squeezenet  # noqa: F401
