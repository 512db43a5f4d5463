"""The `akun` console command: every operator task is a Django management command.

`akun roster import DIR` runs the `roster` command with its `import` subcommand;
`akun serve`, `akun demo`, `akun migrate` likewise.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akun.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["akun", *args])


if __name__ == "__main__":
    main()
