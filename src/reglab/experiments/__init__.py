"""Experiments built from many trained models.

- ``compare``: named models on one data set, and each again over seeds (``compare``, ``compare_seeds``);
- ``sweep``: grids of settings × seeds, chosen on a dev set (``run_sweep``);
- ``store``: the SQLite results store that makes sweeps resumable, with ``keys`` (what identifies a run);
- ``chunks``: a grid cut into chunks of same-shaped models, and the chunk function that trains one;
- ``executors``: where chunks train, in this process or on a Dask cluster (``connect``).
"""
