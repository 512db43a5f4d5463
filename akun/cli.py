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
    if args[:2] == ["secrets", "generate"] and len(args) == 2:
        # Before Django: production settings refuse to load with the weak keys it replaces.
        from akun.instance.management.commands.secrets import generated_lines

        sys.stdout.write(generated_lines())
        return
    execute_from_command_line(["akun", *args])


if __name__ == "__main__":
    main()
