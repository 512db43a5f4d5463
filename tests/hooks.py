"""Run the real `akun` command with a test hook installed, to kill it at a chosen point.

    python -m tests.hooks import-fault POINT -- roster import DIR
    python -m tests.hooks kill-after-batches N -- accounts issue ...
    python -m tests.hooks kill-provision-after-requests N -- provision run ...
    python -m tests.hooks kill-scim-after-bulks N -- provision run ...

The hooks are arguments of the production code (`RosterImport(fault_point=)`,
`issue_accounts(after_batch=)`); this entry point passes them and runs `akun.cli.main`.
"""

import functools
import os
import signal
import sys


def _die(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install_import_fault(point: str) -> None:
    """SIGKILL the roster import when it reaches `point` (e.g. after-staging)."""
    from akun.roster import importing as importer

    def fault_point(name: str) -> None:
        if name == point:
            _die(f"fault injected at {name}")

    class FaultyRosterImport(importer.RosterImport):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, fault_point=fault_point, **kwargs)

    importer.RosterImport = FaultyRosterImport


def install_kill_after_batches(n: int) -> None:
    """SIGKILL the issue run right after its n-th batch that committed accounts."""
    from akun.accounts import api

    def after_batch(commits: int) -> None:
        if commits >= n:
            _die(f"killed after {commits} committed batches")

    api.issue_accounts = functools.partial(api.issue_accounts, after_batch=after_batch)


def install_kill_provision_after_requests(n: int) -> None:
    """SIGKILL `akun provision` once its n-th batch request of user calls came back (org
    units and the schema aside): the target has done those calls, Akun has recorded none of
    them (mid-batch)."""
    from akun.provisioning import engine

    make = engine.client_for
    sent = [0]

    def after_batch(calls) -> None:
        if not isinstance(calls[0].key, int):  # org units, schema: keyed by path/name
            return
        sent[0] += 1
        if sent[0] >= n:
            _die(f"killed after {sent[0]} batch requests of users")

    def client_for(target, **kwargs):
        client = make(target, **kwargs)
        client.after_batch = after_batch
        return client

    engine.client_for = client_for


def install_kill_scim_after_bulks(n: int) -> None:
    """SIGKILL `akun provision` once its n-th /Bulk answer came back from a SCIM target: the
    target holds those users, Akun has recorded none of them (mid-batch)."""
    from akun.provisioning import engine

    make = engine.client_for
    sent = [0]

    def after_bulk(chunk) -> None:
        sent[0] += 1
        if sent[0] >= n:
            _die(f"killed after {sent[0]} /Bulk answers")

    def client_for(target, **kwargs):
        client = make(target, **kwargs)
        client.after_bulk = after_bulk
        return client

    engine.client_for = client_for


def install_cluster_consumer(path: str) -> None:
    """A durable consumer of every account event that notes each event it handles, and which
    node handled it, in the file `path` (the two-node test: no event twice)."""
    from akun.accounts import api

    def handle(events):
        with open(path, "a") as f:
            f.writelines(f"{e.id} {os.environ.get('AKUN_NODE', '?')}\n" for e in events)

    api.register_consumer("cluster-test", list(api.EventKind), handle, batch=5)


HOOKS = {
    "import-fault": install_import_fault,
    "kill-after-batches": install_kill_after_batches,
    "kill-provision-after-requests": install_kill_provision_after_requests,
    "kill-scim-after-bulks": install_kill_scim_after_bulks,
    "cluster-consumer": install_cluster_consumer,
}
NUMERIC = ("kill-after-batches", "kill-provision-after-requests", "kill-scim-after-bulks")


def main(argv: list[str]) -> None:
    name, value, sep, *command = argv
    if name not in HOOKS or sep != "--":
        sys.exit(f"usage: python -m tests.hooks {{{','.join(HOOKS)}}} VALUE -- AKUN-ARGS...")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akun.settings")
    import django

    django.setup()
    HOOKS[name](int(value) if name in NUMERIC else value)
    from akun.cli import main as akun_main

    akun_main(command)


if __name__ == "__main__":
    main(sys.argv[1:])
