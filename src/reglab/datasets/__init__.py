"""Data sets: built-in generators, file readers, and the choice between them.

Every data set comes as a ``Dataset``: a train and a test split in the public orientation
(X (n_samples, n_features), y (n_samples,)) plus a one-line ``source`` saying where it came from.

- ``dataset``: the ``Dataset`` type and split sizes;
- ``generators``: the built-in sets (``make_dataset``, ``GENERATORS``);
- ``loaders``: the course's .mat layout, .csv and .npz files (``load_file``, ``load_bytes`` for a file's bytes in
  memory, ``load_points``);
- ``resolve``: which one a command uses (``resolve_data``, ``find_course_file``).
"""

from .dataset import Dataset
from .generators import DEFAULT_DATASET, GENERATOR_DEFAULTS, GENERATORS, make_dataset
from .loaders import FILE_SUFFIXES, load_bytes, load_course, load_file, load_points
from .resolve import COURSE_ENV_VAR, find_course_file, resolve_data

__all__ = [
    "Dataset",
    "GENERATORS",
    "GENERATOR_DEFAULTS",
    "DEFAULT_DATASET",
    "COURSE_ENV_VAR",
    "FILE_SUFFIXES",
    "make_dataset",
    "load_course",
    "load_file",
    "load_bytes",
    "load_points",
    "resolve_data",
    "find_course_file",
]
