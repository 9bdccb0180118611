"""mypy's scope: every folder of ours is checked as our own code, never taken for an installed package.

mypy reads the `.pth` files of the environment's site-packages and takes what
it finds through a folder they name for installed code, whose errors it does
not report. An editable install that names the checkout (as hatchling's does
without `dev-mode-exact`) so hid every error in scripts/ and bench/.
"""

from __future__ import annotations

import site
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("pyclann", "tests", "scripts", "bench", "examples")


def _folders_named_by_pth_files() -> list[Path]:
    folders: list[Path] = []
    for packages in {*site.getsitepackages(), site.getusersitepackages()}:
        for pth in sorted(Path(packages).glob("*.pth")):
            for line in pth.read_text(encoding="utf-8").splitlines():
                # Lines starting with "import" are run, not added to the path; mypy skips them too.
                if line.strip() and not line.startswith(("#", "import ", "import\t")):
                    folders.append((Path(packages) / line.strip()).resolve())
    return folders


def test_mypy_checks_every_folder_of_ours() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert sorted(config["tool"]["mypy"]["files"]) == sorted(OURS)


def test_no_folder_on_the_installed_path_holds_our_code() -> None:
    # Were the checkout (or a folder above it) named, mypy would find scripts/ and bench/ there.
    named = _folders_named_by_pth_files()
    hiding = [folder for folder in named if any((folder / name).is_dir() for name in OURS if name != "pyclann")]
    assert hiding == [], f"{hiding} on sys.path through a .pth file: mypy would not report errors in them"
    assert sys.prefix != sys.base_prefix, "run the tests in the project's venv"
