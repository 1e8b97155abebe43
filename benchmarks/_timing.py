"""Interleaved timing shared by the benchmark scripts.

Every round times each case once, and each case's figure is its median over
the rounds, so slow phases of a shared machine hit all cases alike.
"""

import statistics
import time
from typing import Callable, Dict, List, Mapping, Optional


def interleaved_medians(calls: Mapping[str, Callable[[], object]], rounds: int,
                        calls_per_round: Mapping[str, int],
                        warmup: Optional[int] = None) -> Dict[str, float]:
    """Median microseconds per call of each case, after a warm-up.

    Args:
      calls: case name -> the zero-argument call to time.
      rounds: how many interleaved rounds.
      calls_per_round: case name -> how many calls make one round's sample.
      warmup: warm-up calls per case; default max(10, calls_per_round // 10).
    """
    for name, call in calls.items():  # warm up: traces, caches
        count = max(10, calls_per_round[name] // 10) if warmup is None else warmup
        for _ in range(count):
            call()
    samples: Dict[str, List[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            n = calls_per_round[name]
            start = time.perf_counter()
            for _ in range(n):
                call()
            samples[name].append((time.perf_counter() - start) / n * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}
