"""Warnings at import for the two ways an install goes wrong without a
word: a source checkout shadowing the installed wheel (the pure twin runs),
and websocket-client installed into the same ``websocket`` directory;
and the error for a tree built by half.  Each runs a copy of the package
in a fresh interpreter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import websocket

PACKAGE = os.path.dirname(websocket.__file__)


def copy_package(tmp_path, compiled: bool) -> str:
    """A copy of the package (with or without the built extension)."""
    target = tmp_path / "websocket"
    ignore = ["__pycache__", "*.c", "*.html"] + ([] if compiled else ["*.so", "*.pyd"])
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns(*ignore))
    return str(target)


def import_in(directory, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "WEBSOCKET_NO_EXTENSIONS"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import websocket; print(websocket.implementation, websocket.__file__)"],
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_source_tree_without_the_extension_says_why_it_runs_pure(tmp_path):
    target = copy_package(tmp_path, compiled=False)
    # A checkout has the .pyx (an installed wheel, which these tests may be
    # running against, does not).
    open(os.path.join(target, "_speedups.pyx"), "a").close()
    done = import_in(tmp_path)
    assert done.stdout.startswith("python " + str(tmp_path)), done
    assert "imported from the source tree" in done.stderr
    assert "pip install -e ." in done.stderr and "RuntimeWarning" in done.stderr
    # Asked for pure Python: no warning.
    done = import_in(tmp_path, WEBSOCKET_NO_EXTENSIONS="1")
    assert done.stdout.startswith("python ") and done.stderr == ""


def test_a_built_source_tree_is_silent(tmp_path):
    target = copy_package(tmp_path, compiled=True)
    built = [n for n in os.listdir(target) if n.endswith((".so", ".pyd"))]
    assert built, f"the extension is not built in {PACKAGE}: pip install -e ."
    done = import_in(tmp_path)
    assert done.stdout.startswith("cython ") and done.stderr == "", done


def test_websocket_client_in_the_same_directory_is_named(tmp_path):
    target = copy_package(tmp_path, compiled=False)
    # websocket-client's modules, as pip would put them beside ours.
    # (Its _abnf.py, _core.py and _app.py have namesakes here, its import
    # paths: only the modules this package never has tell.)
    for name in ("_abnf.py", "_core.py", "_http.py", "_cookiejar.py"):
        with open(os.path.join(target, name), "w") as f:
            f.write("# websocket-client\n")
    done = import_in(tmp_path, WEBSOCKET_NO_EXTENSIONS="1")
    assert "websocket-client is installed in" in done.stderr, done
    assert "pip uninstall -y websocket-client websocket-fast" in done.stderr
    assert "would delete this package's __init__.py" in done.stderr


def test_a_half_built_tree_is_refused_by_name(tmp_path):
    # The other rooms compiled beside a TLS layer that is not (a build
    # stopped between them, or a checkout updated without rebuilding): the
    # compiled protocol would run beside slow Python TLS.  Import fails
    # and names the file; asked for pure Python, every room runs from source.
    target = copy_package(tmp_path, compiled=True)
    tls_builds = [n for n in os.listdir(target) if n.startswith("_tls.") and n.endswith((".so", ".pyd"))]
    assert tls_builds, f"the TLS layer is not built in {PACKAGE}: pip install -e ."
    for name in tls_builds:
        os.remove(os.path.join(target, name))
    done = import_in(tmp_path)
    assert done.returncode != 0 and "ImportError" in done.stderr, done
    assert "rooms are not all the same build" in done.stderr and "_tls.py not compiled" in done.stderr
    assert "reinstall websocket-fast" in done.stderr
    done = import_in(tmp_path, WEBSOCKET_NO_EXTENSIONS="1")
    assert done.stdout.startswith("python ") and done.stderr == "", done
