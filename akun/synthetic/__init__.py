"""The synthetic Dapodik roster generator (`akun roster generate`): a tool for demos, tests and
benchmarks, not part of the roster domain. It writes the files the roster import reads, in the
format the roster defines (akun.roster.api)."""
