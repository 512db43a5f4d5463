"""Port ranges shared out between pytest-xdist workers: each worker takes its own slice of a
helper's range, so that servers started by tests on two workers never race for a port."""

import os


def share(ports: range) -> range:
    """This worker's slice of `ports` (the whole range outside xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return ports
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(worker[2:])
    size = len(ports) // count
    if size < 1:
        raise RuntimeError(f"{len(ports)} ports cannot be shared by {count} test workers")
    return ports[index * size : (index + 1) * size]
