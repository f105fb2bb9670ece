"""Every architecture family, one module each; importing this package registers them in display order."""
from . import seed_cnn, vgg, resnet, densenet, custom  # noqa: F401
