"""`incident-inspector` checks the desktop libraries before Qt starts."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from incident_gui import launch, preflight


def test_platform_is_the_first_requested_one_and_xcb_by_default() -> None:
    assert preflight.platform_name({}) == "xcb"
    assert preflight.platform_name({"QT_QPA_PLATFORM": "offscreen:size=1366x768"}) == "offscreen"
    assert preflight.platform_name({"QT_QPA_PLATFORM": "wayland;xcb"}) == "wayland"


def test_offscreen_needs_qts_own_libraries_and_xcb_its_plugin_libraries_too() -> None:
    # Seen in a minimal Debian chroot: QtCore itself needs libglib-2.0 even offscreen.
    offscreen = preflight.missing_packages("offscreen", lambda _soname: False)
    assert offscreen == preflight.DESKTOP_LIBRARIES
    everything = preflight.missing_packages("xcb", lambda _soname: False)
    assert everything["libxcb-cursor.so.0"] == "libxcb-cursor0"
    assert everything["libEGL.so.1"] == "libegl1"
    assert "libxcb-cursor.so.0" not in preflight.missing_packages("wayland", lambda _s: False)


def test_one_line_names_the_missing_libraries_and_the_install_command() -> None:
    absent = {"libxcb-icccm.so.4", "libGL.so.1"}
    line = preflight.problem([], {"QT_QPA_PLATFORM": "xcb"}, lambda s: s not in absent)
    assert line is not None and "\n" not in line
    assert "libGL.so.1" in line and "libxcb-icccm.so.4" in line
    assert line.endswith("sudo apt-get install libgl1 libxcb-icccm4")
    assert preflight.problem(["--version"], {}, lambda _s: False) is None
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    assert preflight.problem([], offscreen, lambda s: s not in preflight.XCB_LIBRARIES) is None
    assert "libGL.so.1" in (preflight.problem([], offscreen, lambda s: s not in absent) or "")


def test_the_loader_is_really_asked() -> None:
    assert preflight._loads("libc.so.6")
    assert not preflight._loads("libnot-a-real-library-incident.so.7")


def test_launch_exits_1_with_the_line_before_importing_qt(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(preflight, "_loads", lambda soname: soname != "libxcb-shape.so.0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert launch.main(["--smoke"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install libxcb-shape0" in err


def test_a_subprocess_never_loads_qt_when_a_library_is_missing() -> None:
    code = ("import sys; from incident_gui import launch, preflight;"
            "preflight._loads = lambda s: s != 'libdbus-1.so.3';"
            "rc = launch.main([]);"
            "print(rc, any(m.startswith('PySide6.Qt') for m in sys.modules))")
    env = {"QT_QPA_PLATFORM": "xcb", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert done.stdout.strip() == "1 False"
    assert "libdbus-1-3" in done.stderr and "Traceback" not in done.stderr


def test_version_needs_no_qt_and_an_unknown_missing_library_is_one_line() -> None:
    code = textwrap.dedent("""
        import builtins
        from incident_gui import launch, preflight
        preflight._loads = lambda soname: True
        real = builtins.__import__
        def fake(name, *args, **kwargs):
            if name.startswith("PySide6"):
                raise ImportError("libfoo.so.1: cannot open")
            return real(name, *args, **kwargs)
        builtins.__import__ = fake
        print(launch.main(["--version"]))
        print(launch.main([]))
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"QT_QPA_PLATFORM": "xcb", "PATH": "/usr/bin:/bin"},
                          timeout=60, check=False)
    assert done.stdout.splitlines()[0].startswith("incident-inspector ")
    assert done.stdout.splitlines()[1:] == ["0", "1"]
    assert done.stderr == "incident-inspector: Qt cannot start: libfoo.so.1: cannot open\n"
