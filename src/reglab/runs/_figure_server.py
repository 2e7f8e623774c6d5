"""Imported by the fork server that starts ``figure_jobs.FigureWorker``'s processes, and only there.

Importing it prepares the server as a figure worker (``figure_jobs.prepare_worker``: matplotlib
loaded and warmed up with a throwaway figure, one BLAS thread, Ctrl-C ignored), so that every
worker forked from it starts prepared.

It also points the server's standard output at the null device (its workers inherit that; no
figure job writes there). The server ends only after the program that started it, taking the
time its interpreter needs to unload matplotlib (about 0.3 s): holding the program's standard
output, it kept a pipe such as ``reglab compare | tee log`` open that long. Standard error is
kept, for warnings and crash reports.
"""

import os

from .figure_jobs import prepare_worker

prepare_worker()

_null = os.open(os.devnull, os.O_WRONLY)
os.dup2(_null, 1)
os.close(_null)
