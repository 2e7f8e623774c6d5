"""Imported by the fork server that starts ``figure_jobs.FigureWorker``'s processes, and only there.

Importing it prepares the server as a figure worker (``figure_jobs.prepare_worker``: matplotlib
loaded and warmed up with a throwaway figure, one BLAS thread, Ctrl-C ignored), so that every
worker forked from it starts prepared.
"""

from .figure_jobs import prepare_worker

prepare_worker()
