"""Pixeletica installs in parts: the bare package converts images without a web server, Celery or PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pixeletica.cli import commands

ROOT = Path(__file__).resolve().parent.parent
#: Modules of the extras; converting an image must load none of them.
SERVICE_MODULES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "celery", "kombu", "psycopg")


def _clean_env() -> dict[str, str]:
    """This environment without settings and without PYTHONPATH (which would import the checkout instead)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PIXELETICA_", "TASK_")) and k != "PYTHONPATH"}


def _small_png(path: Path) -> Path:
    Image.new("RGB", (12, 8), (200, 40, 40)).save(path)
    return path


@pytest.mark.slow
def test_convert_and_palette_load_no_module_of_the_extras(tmp_path):
    image = _small_png(tmp_path / "red.png")
    code = (
        "import sys\n"
        "from pixeletica.cli.main import app\n"
        "for argv in (['convert', sys.argv[1], '--width', '6', '--out', sys.argv[2]], ['palette', 'categories']):\n"
        "    try:\n"
        "        app(argv)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        f"print('LOADED', sorted({{m.split('.')[0] for m in sys.modules}} & set({SERVICE_MODULES!r})))\n"
    )
    env = {**_clean_env(), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(image), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout, done.stdout
    assert (tmp_path / "out" / "red_dithered.png").is_file()


def test_the_extras_named_by_commands_are_pyproject_s_own():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(commands.EXTRAS) | {"all", "test", "dev"} == set(extras)
    assert extras["all"] == [f"pixeletica[{','.join(commands.EXTRAS)}]"]
    assert "pixeletica[all]" in extras["test"]
    assert set(commands.NEEDS) == set(commands.COMMANDS) - {"convert", "palette"}


def test_each_extra_s_modules_are_what_its_requirements_install():
    """cli/commands.py's EXTRAS (the modules that tell an extra is there) name each requirement of that extra."""
    import importlib.metadata
    import re
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    provided_by = importlib.metadata.packages_distributions()

    def distribution(requirement: str) -> str:
        return re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")

    for extra, modules in commands.EXTRAS.items():
        wanted = {distribution(r) for r in extras[extra]}
        named = {d.lower().replace("_", "-") for m in modules for d in provided_by.get(m, [])}
        assert named == wanted, (extra, wanted - named, named - wanted)


def _without(modules: tuple[str, ...], args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``pixeletica *args`` in a process where ``modules`` cannot be imported, as if their extra were not installed."""
    code = (
        "import sys\n"
        f"sys.modules.update(dict.fromkeys({modules!r}))\n"
        "from pixeletica.cli.main import run\n"
        f"sys.argv = ['pixeletica', *{args!r}]\n"
        "run()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)


def test_a_missing_extra_is_one_line_and_exit_code_2_before_or_while_running(tmp_path):
    env = {**_clean_env(), "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "PIXELETICA_DATA_DIR": str(tmp_path)}
    before = _without(("fastapi",), ["serve"], env)
    assert before.returncode == 2
    assert before.stderr == "error: pixeletica serve needs the server extra: pip install 'pixeletica[server]'\n"
    env["PIXELETICA_BROKER_URL"] = "redis://127.0.0.1:1/0"
    running = _without(("celery",), ["worker", "--celery"], env)
    assert running.returncode == 2
    assert running.stderr == "error: pixeletica worker needs the celery extra: pip install 'pixeletica[celery]'\n"


@pytest.mark.slow
def test_the_bare_package_installs_in_a_fresh_venv_and_converts(tmp_path):
    """pip install pixeletica (no extras) from the source tree, with its dependencies from the package index."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=120)
    python, pixeletica = venv / "bin" / "python", venv / "bin" / "pixeletica"
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pixeletica, *args], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path, check=False
        )

    shown = run("--help")
    assert shown.returncode == 0 and "convert" in shown.stdout and "serve" in shown.stdout, shown.stderr
    converted = run("convert", str(_small_png(tmp_path / "red.png")), "--width", "6", "--out", str(tmp_path / "out"))
    assert converted.returncode == 0, converted.stderr
    for name in ("red_dithered.png", "red_blocks.npz", "red_materials.csv", "red_materials.json", "red_materials.txt"):
        assert (tmp_path / "out" / name).is_file(), name
    assert run("palette", "categories").returncode == 0

    find = "import importlib.util as u, sys; print([m for m in sys.argv[1:] if u.find_spec(m)])"
    present = subprocess.run([python, "-c", find, *SERVICE_MODULES], capture_output=True, text=True, env=env)
    assert present.stdout.strip() == "[]", present.stdout + present.stderr

    serve = run("serve")
    assert serve.returncode == 2, serve.stdout + serve.stderr
    assert serve.stderr == "error: pixeletica serve needs the server extra: pip install 'pixeletica[server]'\n"
    listed = run("task", "list")
    assert listed.returncode == 2 and listed.stderr.count("\n") == 1 and "pixeletica[server]" in listed.stderr
    cluster = run("cluster", "up")
    assert cluster.returncode == 2 and "pip install 'pixeletica[server,celery,postgres]'" in cluster.stderr
