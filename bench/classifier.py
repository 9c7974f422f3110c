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
    texts = [
        example.text
        for example in importlib.import_module("handlers.classification.corpus").load_corpus()
    ]
    classifier.classify(texts[0])  # warm up
    timings = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            classifier.classify(text)
            timings.append(time.perf_counter() - started)
    long_text = "hay un hoyo enorme en la calle principal de la colonia " * 200
    started = time.perf_counter()
    classifier.classify(long_text)
    long_ms = (time.perf_counter() - started) * 1000
    timings.sort()
    return {
        "messages": len(timings),
        "messages_per_second": round(len(timings) / sum(timings)),
        "mean_ms": round(statistics.mean(timings) * 1000, 3),
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
    }


if __name__ == "__main__":
    main()
