"""quiet_import: native start-up chatter on fd 2 is muted, errors are not."""

import subprocess
import sys
import textwrap


def _run(tmp_path, body):
    (tmp_path / "chatty.py").write_text(textwrap.dedent("""
        import os
        os.write(2, b"I0000 native notice written straight to fd 2\\n")
        RAISE = False
        if RAISE:
            raise ImportError("broken module")
    """).replace("RAISE = False", body))
    code = "from mfcore.quiet_import import quiet_import\nquiet_import('chatty')\nimport sys\nprint('ok', file=sys.stderr)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)


def test_fd2_output_during_import_is_muted_and_stderr_restored(tmp_path):
    result = _run(tmp_path, "RAISE = False")
    assert result.returncode == 0 and result.stderr == "ok\n"


def test_import_errors_still_surface(tmp_path):
    result = _run(tmp_path, "RAISE = True")
    assert result.returncode != 0 and "broken module" in result.stderr and "native notice" not in result.stderr
