import io
import os
import subprocess
import sys

from akun.roster.importing import Progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_log_lines_otherwise(caplog):
    tty = _Terminal()
    bar = Progress(stream=tty)
    bar.update("peserta_didik.csv", 50, 100, 1234, final=True)
    assert "\r" in tty.getvalue() and "#" * 15 in tty.getvalue() and "1,234 rows" in tty.getvalue()
    plain = io.StringIO()
    with caplog.at_level("INFO", logger="akun.roster.import"):
        Progress(stream=plain).update("ptk.csv", 100, 100, 99, final=True)
    assert plain.getvalue() == ""
    assert "ptk.csv: 99 rows read (100%)" in caplog.text


def test_akun_command_lists_the_operator_tasks():
    out = subprocess.run(
        [sys.executable, "-m", "akun", "help"], capture_output=True, text=True, check=True
    )
    for command in ("roster", "accounts", "demo", "serve"):
        assert command in out.stdout


def test_demo_sets_up_a_platform_and_prints_sign_ins(tmp_path):
    env = dict(
        os.environ,
        AKUN_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3",
    )
    out = subprocess.run(
        [sys.executable, "-m", "akun", "demo", "--no-serve", "--scale", "0.0002"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "Applied as import" in out.stdout
    lines = [line for line in out.stdout.splitlines() if "@" in line]
    assert any(".belajar.test" in line and "student" in line for line in lines), out.stdout
    assert any("admin." in line for line in lines), out.stdout
    assert "Operator portal (school operator), at /operator/" in out.stdout
    assert "akun admins totp" in out.stdout
