"""``reglab.datasets.load_bytes``: a file's bytes held in memory read as the file itself is read."""

from __future__ import annotations

import io

import numpy as np
import pytest

from reglab.datasets import load_bytes, load_file

CSV = "x1,x2,label\n" + "\n".join(f"{i / 10},{(i * 7 % 11) / 10},{'a' if i % 3 else 'b'}" for i in range(40)) + "\n"


def test_a_csv_in_memory_is_the_file_on_disk(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(CSV)
    on_disk = load_file(path, test_fraction=0.25, seed=3)
    in_memory = load_bytes(CSV.encode(), "points.csv", test_fraction=0.25, seed=3)
    for name in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(in_memory, name), getattr(on_disk, name))
    assert in_memory.name == "points"
    assert in_memory.source == "uploaded file points.csv (30 train / 10 test, split at random, test fraction 0.25, seed 3)"


def test_npz_and_mat_in_memory(course_data_path):
    buffer = io.BytesIO()
    X = np.arange(20.0).reshape(10, 2)
    np.savez(buffer, X=X, y=np.arange(10) % 2)
    data = load_bytes(buffer.getvalue(), "a.npz", test_fraction=0.2)
    assert len(data.X_train) == 8 and len(data.X_test) == 2
    course = load_bytes(course_data_path.read_bytes(), "data.mat")
    assert course.X_train.shape == (211, 2) and course.X_test.shape == (200, 2)
    assert course.source == "course data from uploaded file data.mat"


@pytest.mark.parametrize("data, name, message", [
    (b"x1,x2,label\n1,2,a\n", "bad.txt", r"the file name 'bad.txt' must end in one of \.mat, \.csv, \.npz"),
    (b"x1,x2,label\n1,oops,a\n2,3,b\n", "bad.csv", r"bad.csv: row 2, 'x2' holds 'oops', which is not a number"),
    (b"\xff\xfe\x00", "bad.csv", "bad.csv is not a UTF-8 text CSV file"),
    (b"not a zip", "bad.npz", "bad.npz is not an .npz archive"),
    (b"garbage", "bad.mat", "bad.mat is not a readable MATLAB .mat file"),
])
def test_bad_bytes_name_the_file_and_what_is_wrong(data, name, message):
    with pytest.raises(ValueError, match=message):
        load_bytes(data, name)
