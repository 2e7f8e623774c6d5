"""Imported by the fork server that starts ``figure_jobs.FigureWorker``'s processes, and only there.

Importing it loads matplotlib, draws a throwaway figure and makes the process ignore Ctrl-C
(``figure_jobs.warm_up``), so that every worker forked from the server starts warm and protected.
"""

from .figure_jobs import warm_up

warm_up()
