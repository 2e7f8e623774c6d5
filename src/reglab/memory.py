"""The machine's memory: how much is available, and refusing what would not fit before it is allocated."""

from __future__ import annotations

import os

__all__ = ["available_memory", "memory_limit", "shown_bytes"]


def available_memory() -> int:
    """Physical memory available to this process, in bytes (Linux's MemAvailable, else the free pages)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # not on every platform
        return 2**34


def memory_limit() -> int:
    """Bytes one piece of work may take: half of the available memory (the rest for the system and the program)."""
    return available_memory() // 2


def shown_bytes(n: int) -> str:
    """A size for a message: ``"11 MiB"``, ``"1.5 TiB"``."""
    for unit, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:,.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{n} bytes"
