"""Every architecture family, one module each; importing this package registers them in display order."""
from . import (seed_cnn, vgg, resnet, densenet, googlenet, fractalnet, dpn, mobilenet_v1,  # noqa: F401
               mobilenet_v2, squeezenet, nasnet, custom)
