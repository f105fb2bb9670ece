"""A CIFAR-10 folder a user types stays inside the operator's data root; batches are size-checked first."""

import pickle
import pickletools

import numpy as np
import pytest
from test_data import write_cifar

from explorer.errors import DataError
from explorer.live import data
from explorer.live import settings as operator


@pytest.fixture
def root(tmp_path, monkeypatch):
    folder = tmp_path / "root"
    folder.mkdir()
    monkeypatch.setenv(operator.DATA_ROOT_ENV, str(folder))
    monkeypatch.delenv(data.CIFAR10_ENV, raising=False)
    return folder


def _refusal(folder) -> str:
    with pytest.raises(DataError) as refused:
        data.cifar10_folder(folder)
    return str(refused.value)


def test_a_folder_inside_the_root_loads_absolute_or_relative(root):
    write_cifar(root / "cifar-10-batches-py")
    assert data.cifar10_folder(str(root / "cifar-10-batches-py")) == root / "cifar-10-batches-py"
    assert data.cifar10_folder("cifar-10-batches-py") == root / "cifar-10-batches-py"  # read from the root
    assert data.cifar10("cifar-10-batches-py").train_x.shape == (20, 3, 32, 32)


def test_outside_the_root_the_answer_is_the_same_whether_or_not_the_folder_exists(root, tmp_path):
    write_cifar(tmp_path / "secret")  # a real CIFAR-10 folder, outside the root
    (root / "link").symlink_to(tmp_path / "secret")
    answers = {
        _refusal(tmp_path / "secret"),  # exists
        _refusal(tmp_path / "nowhere"),  # does not
        _refusal("/etc"),
        _refusal("../secret"),  # climbs out of the root
        _refusal("link"),  # a symbolic link inside that points out
        _refusal("../" + "x" * 5000),  # too long for the file system
        _refusal("a\x00b"),  # a NUL byte
    }
    assert len(answers) == 1
    (answer,) = answers
    assert "inside this server's data root" in answer and "EXPLORER_DATA_ROOT" in answer
    assert "secret" not in answer and "nowhere" not in answer


def test_inside_the_root_a_missing_folder_is_named_in_short(root):
    assert "There is no folder" in _refusal("missing")
    long = _refusal("x" * 5000)
    assert "There is no folder" in long and len(long) < 300


def test_a_file_larger_than_a_cifar_batch_is_refused_before_it_is_read(root, monkeypatch):
    write_cifar(root / "c")
    monkeypatch.setattr(data, "MAX_FILE_BYTES", 1000)  # the test batches are about 12 kB
    with pytest.raises(DataError, match="more than a CIFAR-10 batch"):
        data.cifar10("c")


def test_a_pickle_cannot_ask_for_a_huge_array(root):
    folder = root / "c"
    write_cifar(folder)
    # numpy's own pickle of an empty array, with its shape in _reconstruct's call rewritten to 10^12 elements
    text = pickle.dumps({"data": np.zeros(0, np.uint8), "labels": []}, protocol=2)
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(text)]
    assert ("GLOBAL", "numpy.core.multiarray _reconstruct") in ops or any("_reconstruct" in str(a) for _, a in ops)
    evil = text.replace(pickle.dumps((0,), protocol=2)[2:-1], pickle.dumps((10**12,), protocol=2)[2:-1], 1)
    (folder / "test_batch").write_bytes(evil)
    with pytest.raises(DataError, match="not a readable CIFAR-10 batch"):
        data.cifar10("c")


def test_numpy_ndarray_cannot_be_called_by_a_pickle(root):
    folder = root / "c"
    write_cifar(folder)
    # GLOBAL numpy.ndarray, then REDUCE with ((10**12,),): what a hand-made pickle would do to allocate
    evil = b"\x80\x02cnumpy\nndarray\n" + pickle.dumps(((10**12,),), protocol=2)[2:-1] + b"R."
    (folder / "test_batch").write_bytes(evil)
    with pytest.raises(DataError, match="not a readable CIFAR-10 batch"):
        data.cifar10("c")


def test_more_rows_than_a_batch_holds_are_refused_before_the_labels_become_an_array(root, monkeypatch):
    write_cifar(root / "c", per_batch=6)
    monkeypatch.setattr(data, "BATCH_IMAGES", 5)
    with pytest.raises(DataError, match="more than 5 images"):
        data.cifar10("c")
