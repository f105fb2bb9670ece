"""Image datasets that ship with the install (nothing is downloaded), and a loader for a local CIFAR-10 folder.

    digits(size=16)                       scikit-learn's bundled handwritten digits, 1,797 8x8 images
    shapes(domain="night", classes=...)   coloured shapes on 32x32x3 backgrounds, generated from a seed
    cifar10("/data/cifar-10-batches-py")  the standard python version of CIFAR-10, when the user has it
    load("shapes", seed=1, size=16)       any of them by name (what experiments call)

Every loader returns a Dataset of float32 tensors in [0, 1], (N, C, H, W), with int64 labels. The same
seed gives the same images and the same train/test split.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataError
from . import settings as operator

DATASETS = ("digits", "shapes", "cifar10")
CIFAR10_ENV = "EXPLORER_CIFAR10_DIR"  # a default folder for CIFAR-10, for a server whose students share one


@dataclass(frozen=True)
class Dataset:
    """Train and test images (float32 in [0, 1], N x C x H x W) with their labels (int64, 0..classes-1)."""

    name: str
    classes: tuple[str, ...]  # class names; the label is the index
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    description: str = ""

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def select_classes(self, labels: Sequence[int]) -> Dataset:
        """Only the images of these classes, relabelled 0..k-1 in the order given (e.g. classes 5-9 -> 0-4)."""
        labels = [int(c) for c in labels]
        bad = [c for c in labels if not 0 <= c < self.num_classes]
        if not labels or bad or len(set(labels)) != len(labels):
            raise DataError(
                f"Choose distinct classes between 0 and {self.num_classes - 1} of {self.name}; got {labels}."
            )
        new_label = torch.full((self.num_classes,), -1, dtype=torch.long)
        new_label[labels] = torch.arange(len(labels))

        def keep(x, y):
            mask = new_label[y] >= 0
            return x[mask], new_label[y[mask]]

        train_x, train_y = keep(self.train_x, self.train_y)
        test_x, test_y = keep(self.test_x, self.test_y)
        return replace(
            self,
            classes=tuple(self.classes[c] for c in labels),
            train_x=train_x,
            train_y=train_y,
            test_x=test_x,
            test_y=test_y,
        )

    def take(self, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
        """A seeded random subset of n_train training and n_test test images (None keeps them all)."""

        def pick(x, y, n, stream):
            if n is None or n >= len(y):
                return x, y
            if n < 1:
                raise DataError(f"Ask for at least one image of {self.name}; got {n}.")
            order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed * 2 + stream))[:n]
            order = order.sort().values  # keep the original order: a subset, not a reshuffle
            return x[order], y[order]

        train_x, train_y = pick(self.train_x, self.train_y, n_train, 0)
        test_x, test_y = pick(self.test_x, self.test_y, n_test, 1)
        return replace(self, train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y)


def resize(images: torch.Tensor, size: int | None = None, channels: int | None = None) -> torch.Tensor:
    """Images (N, C, H, W) at size x size with 1 (luminance) or 3 (repeated grey) channels."""
    if size is not None and tuple(images.shape[-2:]) != (size, size):
        shrinking = size < images.shape[-1]
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=shrinking)
        images = images.clamp(0, 1)
    if channels is not None and channels != images.shape[1]:
        if channels == 3 and images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        elif channels == 1 and images.shape[1] == 3:  # ITU-R BT.601 luma, as PIL's convert("L")
            images = (images * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        else:
            raise DataError(f"Images have 1 or 3 channels; cannot turn {images.shape[1]} into {channels}.")
    return images.contiguous()


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int):
    """A stratified train/test split, the same for the same seed."""
    # scikit-learn takes 1.5 s to import: loaded only when a dataset is first made, so that the CLI's
    # `summary` and the app's analysis pages start without it.
    from sklearn.model_selection import train_test_split  # noqa: PLC0415

    return train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)


# -- scikit-learn's digits --------------------------------------------------------------------------
def digits(
    size: int | None = 16,
    channels: int = 1,
    seed: int = 0,
    test_fraction: float = 0.25,
    classes: Sequence[int] | None = None,
) -> Dataset:
    """The 1,797 8x8 handwritten digits bundled with scikit-learn (UCI optical digits), resized."""
    from sklearn.datasets import load_digits  # noqa: PLC0415  (reads a file inside scikit-learn; lazy as above)

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]  # pixel values 0..16 -> [0, 1]
    train_x, test_x, train_y, test_y = _split(images, bunch.target, test_fraction, seed)
    data = Dataset(
        "digits",
        tuple(str(d) for d in range(10)),
        resize(torch.from_numpy(train_x), size, channels),
        torch.from_numpy(train_y).long(),
        resize(torch.from_numpy(test_x), size, channels),
        torch.from_numpy(test_y).long(),
        "scikit-learn's handwritten digits (1,797 8x8 images, UCI optical recognition)",
    )
    return data.select_classes(classes) if classes is not None else data


# -- generated shapes --------------------------------------------------------------------------------
SHAPES = ("disk", "square", "triangle", "plus", "ring", "diamond", "cross", "frame", "stripes", "half-disk")


@dataclass(frozen=True)
class Domain:
    """How the generated scenes look: the lecture's P(X) that a domain shift changes."""

    brightness: float = 1.0  # multiplies every pixel (night: dark)
    tint: tuple = (1.0, 1.0, 1.0)  # multiplies R, G, B (night: bluish)
    invert: bool = False  # 1 - pixel: dark shapes on light backgrounds
    rotation: float = 0.0  # degrees, the whole scene about the image centre
    noise: float = 0.0  # standard deviation of added Gaussian pixel noise


DOMAINS = {
    "day": Domain(),
    "night": Domain(brightness=0.35, tint=(0.75, 0.85, 1.0), noise=0.04),
    "inverted": Domain(invert=True),
    "rotated": Domain(rotation=90.0),
    "noisy": Domain(noise=0.2),
}


def domain_of(domain: Domain | str | None) -> Domain:
    if domain is None:
        return DOMAINS["day"]
    if isinstance(domain, Domain):
        return domain
    if domain not in DOMAINS:
        raise DataError(f"Unknown domain '{domain}'; choose one of {', '.join(DOMAINS)}.")
    return DOMAINS[domain]


def shape_mask(shape: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Inside-mask of one of the ten SHAPES in shape-local coordinates (unit radius, v pointing down)."""
    radius = torch.sqrt(u**2 + v**2)
    box = torch.maximum(u.abs(), v.abs())
    name = SHAPES[shape]
    if name == "disk":
        return radius <= 1.0
    if name == "square":
        return box <= 0.8
    if name == "triangle":  # apex up
        return (v <= 0.7) & (u.abs() <= 0.9 * (v + 0.9) / 1.6)
    if name == "plus":
        return ((u.abs() <= 0.3) | (v.abs() <= 0.3)) & (box <= 1.0)
    if name == "ring":
        return (radius >= 0.6) & (radius <= 1.0)
    if name == "diamond":
        return u.abs() + v.abs() <= 1.0
    if name == "cross":  # an x
        return (((u + v).abs() <= 0.35) | ((u - v).abs() <= 0.35)) & (box <= 0.85)
    if name == "frame":
        return (box <= 0.9) & (box >= 0.55)
    if name == "stripes":  # three horizontal bars
        return (box <= 0.9) & (torch.floor((v + 0.9) / 0.36) % 2 == 0)
    return (radius <= 1.0) & (v <= 0.0)  # half-disk, flat side down


def render_shapes(
    labels: np.ndarray, size: int, rng: np.random.Generator, domain: Domain, supersample: int = 2
) -> np.ndarray:
    """Images (N, 3, size, size) in [0, 1]: one shape per image, random position, size, colours and tilt."""
    n = len(labels)
    f32 = np.float32  # float64 geometry took 1.2 s for 2,500 images; float32 tensors take a fifth of that
    cx, cy = rng.uniform(0.35, 0.65, n).astype(f32), rng.uniform(0.35, 0.65, n).astype(f32)
    radius = rng.uniform(0.17, 0.3, n).astype(f32)
    tilt = np.deg2rad(rng.uniform(-15, 15, n)).astype(f32)  # small: a rotated domain must stay a real shift
    background = torch.from_numpy(rng.uniform(0.0, 0.45, (n, 3, 1, 1)).astype(f32))
    foreground = torch.from_numpy(rng.uniform(0.55, 1.0, (n, 3, 1, 1)).astype(f32))
    grain = rng.standard_normal((n, 3, size, size), dtype=f32) * 0.02  # so no two backgrounds are identical
    side = size * supersample
    grid = (torch.arange(side, dtype=torch.float32) + 0.5) / side  # pixel centres in [0, 1]
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    turn = math.radians(domain.rotation)  # the scene turns: sample it at the inversely rotated position
    xs = 0.5 + (xx - 0.5) * math.cos(turn) + (yy - 0.5) * math.sin(turn)
    ys = 0.5 - (xx - 0.5) * math.sin(turn) + (yy - 0.5) * math.cos(turn)

    inside = torch.zeros(n, side, side)
    for shape in np.unique(labels):  # each image gets only its own shape's mask (all ten cost ten times more)
        chosen = labels == shape

        def per_image(values, chosen=chosen):
            return torch.from_numpy(values[chosen]).view(-1, 1, 1)

        dx, dy = xs - per_image(cx), ys - per_image(cy)  # (images of this shape, side, side)
        cos, sin, r = per_image(np.cos(tilt)), per_image(np.sin(tilt)), per_image(radius)
        u, v = (dx * cos + dy * sin) / r, (-dx * sin + dy * cos) / r  # shape-local, in units of the radius
        inside[torch.from_numpy(chosen)] = shape_mask(int(shape), u, v).float()
    alpha = F.avg_pool2d(inside[:, None], supersample)  # anti-aliased edges, (N, 1, size, size)
    images = background * (1 - alpha) + foreground * alpha + torch.from_numpy(grain)
    images = images * domain.brightness * torch.tensor(domain.tint, dtype=torch.float32).view(1, 3, 1, 1)
    if domain.invert:
        images = 1.0 - images
    if domain.noise:
        images = images + torch.from_numpy(rng.standard_normal(images.shape, dtype=f32)) * domain.noise
    return images.clamp(0.0, 1.0).numpy()


def shapes(
    n_train: int = 2000,
    n_test: int = 500,
    size: int = 32,
    channels: int = 3,
    seed: int = 0,
    domain: Domain | str | None = "day",
    classes: Sequence[int] | None = None,
) -> Dataset:
    """n_train and n_test coloured shapes on plain backgrounds, of ten classes (or the chosen ones), balanced.

    The scenes (shape, place, colours) depend on the seed only; the domain changes how they look, so
    shapes(seed=0, domain="night") is the night-time photograph of shapes(seed=0).
    """
    if n_train < 1 or n_test < 1:
        raise DataError(
            f"The shapes dataset needs at least one training and one test image; got {n_train} and {n_test}."
        )
    if not 8 <= size <= 256:
        raise DataError(f"Generated shapes are drawn at 8 to 256 pixels a side; got {size}.")
    wanted = list(range(len(SHAPES))) if classes is None else [int(c) for c in classes]
    if not wanted or len(set(wanted)) != len(wanted) or not all(0 <= c < len(SHAPES) for c in wanted):
        raise DataError(f"Choose distinct shape classes between 0 and {len(SHAPES) - 1}; got {wanted}.")
    scene_rng = np.random.default_rng(seed)
    # only the wanted classes are drawn, equally often in the training and in the test images
    labels = np.concatenate([np.resize(wanted, n)[scene_rng.permutation(n)] for n in (n_train, n_test)])
    images = torch.from_numpy(render_shapes(labels, size, scene_rng, domain_of(domain)))
    data = Dataset(
        "shapes",
        SHAPES,
        resize(images[:n_train], None, channels),
        torch.from_numpy(labels[:n_train]),
        resize(images[n_train:], None, channels),
        torch.from_numpy(labels[n_train:]),
        f"generated shapes, seed {seed}, domain {domain if isinstance(domain, str) else 'custom'}",
    )
    return data.select_classes(wanted) if classes is not None else data


# -- CIFAR-10, python version ------------------------------------------------------------------------
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
CIFAR10_META = "batches.meta"
# Sizes checked before anything is allocated: CIFAR-10's batches hold 10,000 images (31,035,704 bytes each
# as pickles); a file or an array beyond these is refused instead of read.
BATCH_IMAGES = 10_000
MAX_FILE_BYTES = 40_000_000
MAX_ARRAY_BYTES = BATCH_IMAGES * 3 * 32 * 32


class _ArrayType:
    """What the unpickler hands out for numpy.ndarray: a name for _reconstruct, not a callable that allocates."""


def _reconstruct(subtype, shape, dtype):
    """numpy's _reconstruct, for plain ndarrays of a bounded size only (pickles create them empty, then fill)."""
    if subtype is not _ArrayType:
        raise pickle.UnpicklingError("only plain numpy arrays are allowed in a CIFAR-10 batch")
    dtype = np.dtype(dtype)
    if dtype.hasobject or math.prod(shape) * dtype.itemsize > MAX_ARRAY_BYTES:
        raise pickle.UnpicklingError("an array larger than a CIFAR-10 batch")
    return np._core.multiarray._reconstruct(np.ndarray, shape, dtype)


class CifarUnpickler(pickle.Unpickler):
    """Reads CIFAR-10's pickled batches, refusing anything that is not plain data.

    A pickle can name any importable callable, so unpickling a file from the internet can run code.
    CIFAR-10's batches are dicts of lists, strings and one uint8 numpy array; rebuilding that array takes
    exactly the numpy functions below (numpy.core in the original Python 2 files, numpy._core in files
    written by NumPy 2, _codecs.encode for bytes in protocol 2). Every other global is refused, and
    numpy.ndarray is only a name _reconstruct accepts, so no pickle can allocate an array of its choosing.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy.core.numeric", "_frombuffer"): np._core.numeric._frombuffer,
        ("numpy._core.numeric", "_frombuffer"): np._core.numeric._frombuffer,
        ("numpy", "ndarray"): _ArrayType,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): __import__("codecs").encode,
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR-10 batch") from None


def read_batch(path: Path) -> dict:
    """One CIFAR-10 pickle as a dict with str keys (the Python 2 files have bytes keys); its size checked first."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # open() below names the problem
    if size > MAX_FILE_BYTES:
        raise DataError(
            f"'{path.name}' holds {size:,} bytes, more than a CIFAR-10 batch ({MAX_FILE_BYTES:,} at most); "
            "point to the python version of CIFAR-10."
        )
    try:
        with open(path, "rb") as f:
            # latin1: how NumPy asks Python 3 to read arrays pickled by Python 2
            content = CifarUnpickler(f, encoding="latin1").load()
    except FileNotFoundError:
        raise DataError(
            f"The CIFAR-10 folder has no '{path.name}'; point to the folder that holds "
            f"data_batch_1 to data_batch_5, test_batch and batches.meta."
        ) from None
    except Exception as e:  # truncated files, foreign pickles, not pickles at all
        raise DataError(
            f"'{path}' is not a readable CIFAR-10 batch ({e}); download the python version "
            "again or point to another folder."
        ) from None
    if not isinstance(content, dict):
        raise DataError(f"'{path}' is not a CIFAR-10 batch (it holds a {type(content).__name__}, not a dict).")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in content.items()}


def _batch_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = read_batch(path)
    if "data" not in batch or "labels" not in batch:
        raise DataError(f"'{path}' is not a CIFAR-10 batch: it lacks 'data' or 'labels'.")
    data, labels = batch["data"], batch["labels"]
    if not isinstance(data, np.ndarray) or not isinstance(labels, (list, np.ndarray)):
        raise DataError(f"'{path}' is not a CIFAR-10 batch: its data is not an array of images.")
    if len(labels) > BATCH_IMAGES or len(data) > BATCH_IMAGES:  # before the labels become an array
        raise DataError(f"'{path}' holds more than {BATCH_IMAGES:,} images; it is not a CIFAR-10 batch.")
    labels = np.asarray(labels, dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise DataError(
            f"'{path}' is not a CIFAR-10 batch: its data has shape {data.shape} for {len(labels)} labels, not N x 3072."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"'{path}' has labels outside 0..9; it is not a CIFAR-10 batch.")
    # each row: 1024 red, 1024 green, 1024 blue values, each plane row-major (the dataset's documentation)
    return data.reshape(-1, 3, 32, 32), labels


def _short(path: Path, limit: int = 80) -> str:
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"


def confined(folder: str | os.PathLike) -> Path:
    """A folder a user typed, resolved inside the operator's data root ($EXPLORER_DATA_ROOT), else DataError.

    A relative path is read from the root. The refusal is the same sentence whether or not the folder
    exists, so the box cannot be used to explore the server's disk; symbolic links are followed first.
    """
    root = operator.data_root()
    refusal = DataError(
        f"Data folders are read only inside this server's data root '{root}' ({operator.DATA_ROOT_ENV}); "
        "give a folder inside it."
    )
    try:
        path = Path(folder).expanduser()
        path = (path if path.is_absolute() else root / path).resolve()
    except (OSError, ValueError, RuntimeError):  # NUL bytes, names too long, symbolic-link loops
        raise refusal from None
    if not path.is_relative_to(root):
        raise refusal
    return path


def cifar10_folder(folder: str | os.PathLike | None) -> Path:
    """The folder the user named (inside the data root), or $EXPLORER_CIFAR10_DIR, checked to hold the files."""
    if folder:
        path = confined(folder)
    elif os.environ.get(CIFAR10_ENV):
        path = Path(os.environ[CIFAR10_ENV]).expanduser()  # the operator's own choice: not confined
    else:
        raise DataError(
            f"CIFAR-10 needs a local folder: give the path of 'cifar-10-batches-py' "
            f"(or set {CIFAR10_ENV}); nothing is downloaded."
        )
    try:
        is_dir = path.is_dir()
    except (OSError, ValueError):
        is_dir = False
    if not is_dir:
        raise DataError(f"There is no folder '{_short(path)}'; give the path of 'cifar-10-batches-py'.")
    missing = [name for name in CIFAR10_TRAIN + (CIFAR10_TEST, CIFAR10_META) if not (path / name).is_file()]
    if missing:
        raise DataError(
            f"The folder '{_short(path)}' lacks {', '.join(missing)}; CIFAR-10's python version has "
            f"data_batch_1 to data_batch_5, test_batch and batches.meta."
        )
    return path


def cifar10(
    folder: str | os.PathLike | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    size: int | None = None,
    channels: int = 3,
    seed: int = 0,
    classes: Sequence[int] | None = None,
) -> Dataset:
    """CIFAR-10 from a local folder in its python format; n_train/n_test take a seeded subset."""
    path = cifar10_folder(folder)
    meta = read_batch(path / CIFAR10_META)
    names = meta.get("label_names")
    if not isinstance(names, list) or len(names) != 10:
        raise DataError(f"'{path / CIFAR10_META}' should list ten label_names.")
    names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    parts = [_batch_arrays(path / name) for name in CIFAR10_TRAIN]
    train_x, train_y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    test_x, test_y = _batch_arrays(path / CIFAR10_TEST)
    data = Dataset(
        "cifar10",
        names,
        torch.from_numpy(train_x),
        torch.from_numpy(train_y),
        torch.from_numpy(test_x),
        torch.from_numpy(test_y),
        f"CIFAR-10 from {path}",
    )
    data = data.take(n_train, n_test, seed)  # subset first: convert only the images used to floats
    data = replace(
        data,
        train_x=resize(data.train_x.float() / 255, size, channels),
        test_x=resize(data.test_x.float() / 255, size, channels),
    )
    return data.select_classes(classes) if classes is not None else data


# -- by name ------------------------------------------------------------------------------------------
def load(
    name: str,
    *,
    size: int | None = None,
    channels: int | None = None,
    seed: int = 0,
    classes: Sequence[int] | None = None,
    domain: Domain | str | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    data_dir: str | None = None,
) -> Dataset:
    """A dataset by name, as the experiments' knobs name it ("digits", "shapes" or "cifar10")."""
    if name == "digits":
        if domain not in (None, "day"):
            raise DataError("Domain shifts apply to the generated shapes, not to the digits.")
        data = digits(size=size or 16, channels=channels or 1, seed=seed, classes=classes)
        return data.take(n_train, n_test, seed)
    if name == "shapes":
        data = shapes(
            n_train=n_train or 2000,
            n_test=n_test or 500,
            size=32,
            channels=channels or 3,
            seed=seed,
            domain=domain,
            classes=classes,
        )
        return replace(data, train_x=resize(data.train_x, size), test_x=resize(data.test_x, size))
    if name == "cifar10":
        if domain not in (None, "day"):
            raise DataError("Domain shifts apply to the generated shapes, not to CIFAR-10.")
        return cifar10(
            data_dir, n_train=n_train, n_test=n_test, size=size, channels=channels or 3, seed=seed, classes=classes
        )
    raise DataError(f"Unknown dataset '{name}'; choose one of {', '.join(DATASETS)}.")


def fingerprint(name: str, data_dir: str | None = None) -> str:
    """What identifies the data in a cache key: the name, and for CIFAR-10 the folder and its files' sizes."""
    if name != "cifar10":
        return name
    path = cifar10_folder(data_dir).resolve()
    stats = [
        (f, (path / f).stat().st_size, int((path / f).stat().st_mtime))
        for f in CIFAR10_TRAIN + (CIFAR10_TEST, CIFAR10_META)
    ]
    return f"cifar10:{path}:{hashlib.sha256(repr(stats).encode()).hexdigest()[:12]}"


def chance(data: Dataset) -> float:
    """Accuracy of always guessing the most common test class."""
    counts = torch.bincount(data.test_y, minlength=data.num_classes)
    return float(counts.max()) / max(1, len(data.test_y)) if len(data.test_y) else math.nan
