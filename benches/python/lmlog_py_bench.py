"""The Python LMLog 0.3.0 side of `compare`: the same cache_miss event,
paced latency and saturated throughput, one JSON row per line on stdout.

Usage: lmlog_py_bench.py DIR SAMPLES EVENTS

The logger runs with async_processing=False: with its default (True) and
no asyncio loop running, LMLog 0.3.0 queues events that are never written
(most of them never reach the file), so only the synchronous mode is
lossless and comparable.
"""

import json
import os
import sys
import time

import lmlog
from lmlog import AlwaysSampler, LLMLogger

KEY = "user:42:ab"
PACE_NS = 1500
WARMUP = 2000


def make_logger(path):
    # AlwaysSampler: the default sampler keeps ~1000 events/s and drops the
    # rest, which would make throughput meaningless.
    return LLMLogger(output=path, sampler=AlwaysSampler(), async_processing=False)


def count_lines(path, needle):
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        return sum(1 for line in f if needle in line)


def close(logger):
    logger._backend.close()


def timer_overhead():
    samples = []
    for _ in range(100_001):
        a = time.perf_counter_ns()
        b = time.perf_counter_ns()
        samples.append(b - a)
    samples.sort()
    return samples[len(samples) // 2]


def percentile(sorted_values, q):
    return float(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))])


def paced(directory, samples):
    path = os.path.join(directory, "paced.jsonl")
    logger = make_logger(path)
    overhead = timer_overhead()
    latencies = []
    total = WARMUP + samples
    for i in range(total):
        before = time.perf_counter_ns()
        logger.log_event("cache_miss", key=KEY, shard=i, latency_ms=0.125 * (i & 1023))
        after = time.perf_counter_ns()
        if i >= WARMUP:
            latencies.append(max(0, after - before - overhead))
        deadline = after + PACE_NS
        while time.perf_counter_ns() < deadline:
            pass
    close(logger)
    latencies.sort()
    on_disk = count_lines(path, b"cache_miss")
    return {
        "logger": "python-lmlog-" + lmlog.__version__,
        "scenario": "paced_3_fields",
        "median_ns": percentile(latencies, 0.5),
        "p99_ns": percentile(latencies, 0.99),
        "p999_ns": percentile(latencies, 0.999),
        "max_ns": float(latencies[-1]),
        "events_per_sec": None,
        "bytes_per_event": None,
        "dropped": total - on_disk,
        "events": total,
        "json_mb_per_sec": None,
        "runs": 1,
        "events_per_sec_range": None,
        "p999_ns_range": None,
    }


def saturated(directory, events):
    path = os.path.join(directory, "saturated.jsonl")
    logger = make_logger(path)
    started = time.perf_counter()
    for i in range(events):
        logger.log_event("cache_miss", key=KEY, shard=i, latency_ms=0.125 * (i & 1023))
    close(logger)
    seconds = time.perf_counter() - started
    size = os.path.getsize(path) if os.path.exists(path) else 0
    on_disk = count_lines(path, b"cache_miss")
    return {
        "logger": "python-lmlog-" + lmlog.__version__,
        "scenario": "saturated_1",
        "median_ns": None,
        "p99_ns": None,
        "p999_ns": None,
        "max_ns": None,
        "events_per_sec": events / seconds,
        "bytes_per_event": size / events,
        "dropped": events - on_disk,
        "events": events,
        "json_mb_per_sec": None,
        "runs": 1,
        "events_per_sec_range": None,
        "p999_ns_range": None,
    }


def main():
    directory, samples, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for row in (paced(directory, samples), saturated(directory, events)):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
