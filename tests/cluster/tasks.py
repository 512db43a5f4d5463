"""A background task for the two-node test: it notes which node ran it, once per run."""

import os
import time

from django_tasks import task


@task()
def mark(path: str, n: int) -> int:
    time.sleep(0.05)  # long enough that both nodes' workers take some
    line = f"{n} {os.environ.get('AKUN_NODE', '?')} {os.getpid()}\n"
    with open(path, "a") as f:  # O_APPEND: whole lines from concurrent writers
        f.write(line)
    return n
