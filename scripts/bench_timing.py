"""Timing shared by the Python baselines of scripts/bench.sh (bench_torchvision.py, bench_ocr_model.py)."""
import statistics
import time


def median_seconds(runs, step):
    """The median time of `runs` timed calls of `step`, after one untimed warm-up call: the statistic
    cargovision_bench takes (tests/bench/bench_tasks.h), robust to the slow stretches of a shared machine."""
    step()
    seconds = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)
