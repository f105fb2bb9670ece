"""Built-in datasets: digits, generated shapes with domain shifts, and CIFAR-10 files the tests write."""

import os
import pickle

import numpy as np
import pytest
import torch

from explorer.errors import DataError
from explorer.live import data


def test_digits_are_the_bundled_1797_images_split_by_the_seed():
    d = data.digits(size=16, channels=1, seed=0)
    assert len(d.train_y) + len(d.test_y) == 1797
    assert d.input_shape == (1, 16, 16) and d.num_classes == 10
    assert d.train_x.dtype == torch.float32 and 0 <= d.train_x.min() and d.train_x.max() <= 1
    assert torch.bincount(d.test_y).min() >= 40  # stratified: every digit is tested
    again, other = data.digits(seed=0), data.digits(seed=1)
    assert torch.equal(again.train_x, d.train_x) and torch.equal(again.test_y, d.test_y)
    assert not torch.equal(other.test_y, d.test_y)
    rgb = data.digits(size=32, channels=3)
    assert rgb.input_shape == (3, 32, 32) and torch.equal(rgb.train_x[:, 0], rgb.train_x[:, 2])


def test_shapes_are_reproducible_balanced_and_depend_on_the_seed():
    a, b = data.shapes(n_train=200, n_test=50, seed=3), data.shapes(n_train=200, n_test=50, seed=3)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.train_y, b.train_y)
    assert a.input_shape == (3, 32, 32) and a.classes == data.SHAPES
    assert torch.bincount(torch.cat([a.train_y, a.test_y])).tolist() == [25] * 10
    c = data.shapes(n_train=200, n_test=50, seed=4)
    assert not torch.equal(a.train_x, c.train_x)


def test_domain_shifts_change_how_the_same_scenes_look():
    day = data.shapes(n_train=100, n_test=10, seed=1)
    night = data.shapes(n_train=100, n_test=10, seed=1, domain="night")
    inverted = data.shapes(n_train=100, n_test=10, seed=1, domain="inverted")
    rotated = data.shapes(n_train=100, n_test=10, seed=1, domain="rotated")
    assert torch.equal(day.train_y, night.train_y)  # the same scenes, differently lit
    assert night.train_x.mean() < 0.5 * day.train_x.mean()
    assert torch.allclose(inverted.train_x, 1 - day.train_x, atol=1e-6)
    # a quarter turn of the scene: turning it back is far closer to the day image than the rotated one is
    back = min((torch.rot90(rotated.train_x, k, dims=(2, 3)) - day.train_x).abs().mean() for k in (1, -1))
    assert back < 0.3 * (rotated.train_x - day.train_x).abs().mean()
    custom = data.shapes(n_train=100, n_test=10, seed=1, domain=data.Domain(noise=0.3))
    assert (custom.train_x - day.train_x).std() > 0.15


def test_label_sets_are_relabelled_from_zero():
    high = data.shapes(n_train=100, n_test=40, seed=0, classes=range(5, 10))
    assert high.classes == data.SHAPES[5:] and high.num_classes == 5
    # n_train images of the chosen classes, equally many of each
    assert torch.bincount(high.train_y).tolist() == [20] * 5 and torch.bincount(high.test_y).tolist() == [8] * 5
    digits = data.digits(classes=[7, 1])
    assert digits.classes == ("7", "1") and set(digits.test_y.tolist()) == {0, 1}


def test_bad_selections_are_one_sentence():
    with pytest.raises(DataError, match="domain"):
        data.shapes(domain="dusk")
    with pytest.raises(DataError, match="between 0 and 9"):
        data.digits(classes=[3, 10])
    with pytest.raises(DataError, match="Unknown dataset"):
        data.load("mnist")
    with pytest.raises(DataError, match="shapes"):
        data.load("digits", domain="night")


def test_take_is_a_seeded_subset():
    d = data.digits()
    a, b = d.take(100, 20, seed=5), d.take(100, 20, seed=5)
    assert len(a.train_y) == 100 and len(a.test_y) == 20 and torch.equal(a.train_x, b.train_x)
    assert not torch.equal(a.train_y, d.take(100, 20, seed=6).train_y)


# -- CIFAR-10 in its python format, written by the test -------------------------------------------------
LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar(folder, per_batch=4, bytes_keys=True, protocol=2):
    """Six batches and the meta file as the python version has them (dicts; uint8 rows of 3,072 values)."""
    rng = np.random.default_rng(0)
    key = (lambda k: k.encode()) if bytes_keys else (lambda k: k)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for i, name in enumerate([f"data_batch_{j}" for j in range(1, 6)] + ["test_batch"]):
        rows = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [(i + j) % 10 for j in range(per_batch)]
        batches[name] = (rows, labels)
        with open(folder / name, "wb") as f:
            pickle.dump(
                {
                    key("batch_label"): f"batch {i}".encode(),
                    key("labels"): labels,
                    key("data"): rows,
                    key("filenames"): [f"img{j}.png".encode() for j in range(per_batch)],
                },
                f,
                protocol=protocol,
            )
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(
            {
                key("label_names"): [n.encode() if bytes_keys else n for n in LABEL_NAMES],
                key("num_cases_per_batch"): per_batch,
                key("num_vis"): 3072,
            },
            f,
            protocol=protocol,
        )
    return batches


@pytest.mark.parametrize("bytes_keys, protocol", [(True, 2), (False, 4), (False, 5)])
def test_cifar_folder_loads_with_the_documented_pixel_layout(tmp_path, bytes_keys, protocol):
    batches = write_cifar(tmp_path / "cifar-10-batches-py", bytes_keys=bytes_keys, protocol=protocol)
    d = data.cifar10(tmp_path / "cifar-10-batches-py")
    assert d.classes == tuple(LABEL_NAMES) and d.input_shape == (3, 32, 32)
    assert len(d.train_y) == 20 and len(d.test_y) == 4
    rows, labels = batches["data_batch_1"]
    first = d.train_x[0]
    # each row: the red plane (1,024 values, row-major), then green, then blue
    assert first[0, 0, 0] == rows[0, 0] / 255 and first[0, 0, 1] == rows[0, 1] / 255
    assert first[0, 1, 0] == rows[0, 32] / 255 and first[1, 0, 0] == rows[0, 1024] / 255
    assert first[2, 31, 31] == rows[0, 3071] / 255
    assert d.train_y[:4].tolist() == labels and d.test_y.tolist() == batches["test_batch"][1]
    small = data.load("cifar10", data_dir=str(tmp_path / "cifar-10-batches-py"), n_train=6, n_test=2, size=16)
    assert small.input_shape == (3, 16, 16) and len(small.train_y) == 6 and len(small.test_y) == 2


def test_cifar_missing_or_corrupt_folders_are_one_sentence(tmp_path, monkeypatch):
    monkeypatch.delenv(data.CIFAR10_ENV, raising=False)
    with pytest.raises(DataError, match="needs a local folder"):
        data.cifar10(None)
    with pytest.raises(DataError, match="There is no folder"):
        data.cifar10(tmp_path / "nowhere")
    folder = tmp_path / "c"
    write_cifar(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataError, match="lacks data_batch_3"):
        data.cifar10(folder)
    (folder / "data_batch_3").write_bytes(b"this is not a pickle")
    with pytest.raises(DataError, match="not a readable CIFAR-10 batch"):
        data.cifar10(folder)
    with open(folder / "data_batch_3", "wb") as f:
        pickle.dump({"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]}, f)
    with pytest.raises(DataError, match="N x 3072"):
        data.cifar10(folder)
    monkeypatch.setenv(data.CIFAR10_ENV, str(tmp_path / "elsewhere"))
    with pytest.raises(DataError, match="elsewhere"):
        data.load("cifar10")


class Payload:
    """What a malicious 'CIFAR batch' could hold: unpickling it would run a command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):

        return (os.system, (f"touch {self.marker}",))


def test_the_unpickler_refuses_anything_but_plain_data(tmp_path):
    folder = tmp_path / "c"
    write_cifar(folder)
    marker = tmp_path / "pwned"
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": Payload(marker), "labels": [0]}, f, protocol=2)
    with pytest.raises(DataError, match="posix.system is not allowed|os.system is not allowed"):
        data.cifar10(folder)
    assert not marker.exists()
