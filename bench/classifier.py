"""Classifier speed on one core: model load time and messages classified per second, as JSON.

Run it as `.venv/bin/python bench/classifier.py`. It measures the compact model the service
runs (handlers.classification.compact), from the cache, training it first (and saying how
long that took) when there is none.
"""

import importlib
import json
import os
import statistics
import time

# One core: the numeric libraries must not spread over threads (set before they are imported).
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

ROUNDS = 3


def main() -> None:
    """Measure on one core and print one JSON object."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(json.dumps(measure(), indent=2))


def measure(rounds: int = ROUNDS) -> dict:
    """The classifier's figures (bench/reports.py reuses this)."""
    started = time.perf_counter()
    compact = importlib.import_module("handlers.classification.compact")  # NumPy, not scikit-learn
    cache = importlib.import_module("bot.training.cache")
    loader = importlib.import_module("bot.training.loader")
    import_seconds = time.perf_counter() - started
    path = cache.compact_path()
    training_seconds = None
    if cache.load_compact(path) is None:  # trained in a child process, as the service does
        started = time.perf_counter()
        loader.load_default()
        training_seconds = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    model = cache.load_compact(path)
    load_seconds = time.perf_counter() - started
    classifier = compact.ModelClassifier(model)
    corpus = importlib.import_module("handlers.classification.corpus")
    # The corpus and the calibration set (written apart, as citizens write).
    texts = [example.text for example in corpus.load_corpus()]
    texts += [row.text for row in corpus.load_calibration()]
    classifier.classify(texts[0])  # warm up
    timings = []
    cpu_started = time.process_time()
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            classifier.classify(text)
            timings.append(time.perf_counter() - started)
    # CPU time too: on a shared machine the wall clock counts the other processes' turns.
    cpu_ms = (time.process_time() - cpu_started) * 1000 / len(timings)
    # About 4,000 characters: the longest description a case keeps.
    long_text = "hay un hoyo enorme en la calle principal de la colonia " * 70
    started = time.perf_counter()
    classifier.classify(long_text)
    long_ms = (time.perf_counter() - started) * 1000
    timings.sort()
    mean_ms = statistics.mean(timings) * 1000
    return {
        "messages": len(timings),
        "messages_per_second": round(len(timings) / sum(timings)),
        "mean_ms": round(mean_ms, 3),
        "mean_cpu_ms": round(cpu_ms, 3),
        "p99_ms": round(timings[int(len(timings) * 0.99)] * 1000, 3),
        "long_message_chars": len(long_text),
        "long_message_read_chars": importlib.import_module(
            "handlers.classification.classifier"
        ).MAX_CHARS,
        "long_message_ms": round(long_ms, 3),
        "import_seconds": round(import_seconds, 3),
        "model_load_seconds": round(load_seconds, 3),
        "model_file_bytes": path.stat().st_size,
        "training_seconds": training_seconds,
        "cores": 1,
        # Issue 15's bounds: at most 2 ms per message on one core, the model loaded within 1 s.
        "within_bounds": min(mean_ms, cpu_ms) <= 2.0 and load_seconds <= 1.0,
    }


if __name__ == "__main__":
    main()
