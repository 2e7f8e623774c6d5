"""Run folders: what a command writes, built under a temporary name and renamed when complete.

- ``tables``: the tables, notes and JSON every run folder and terminal summary shares;
- ``compare``, ``train``, ``sweep``: the run folder of each command;
"""
