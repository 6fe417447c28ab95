"""A small HTTP probe exporter, the placeholder application of the gscgen monitoring example.

Every PROBE_INTERVAL_SECONDS it requests each URL of PROBE_TARGETS (comma-separated) and
exposes, on :9105/metrics, whether it answered with a status below 400 and how long it took.
"""

import os
import time
import urllib.error
import urllib.request

from prometheus_client import Gauge, start_http_server

UP = Gauge("probe_success", "1 when the target answered with a status below 400", ["target"])
SECONDS = Gauge("probe_duration_seconds", "How long the probe took", ["target"])


def probe(url: str) -> None:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            ok = response.status < 400
    except (urllib.error.URLError, OSError):
        ok = False
    SECONDS.labels(url).set(time.monotonic() - started)
    UP.labels(url).set(1 if ok else 0)


def main() -> None:
    targets = [t for t in os.environ.get("PROBE_TARGETS", "").split(",") if t]
    interval = float(os.environ.get("PROBE_INTERVAL_SECONDS", "15"))
    start_http_server(9105)
    while True:
        for target in targets:
            probe(target)
        time.sleep(interval)


if __name__ == "__main__":
    main()
