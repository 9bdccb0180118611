"""The wheel, as a user gets it: what it adds to site-packages, and that it works from there.

The wheel is built offline from this checkout (the build backend is in the dev
requirements) and installed with `pip --target` into a folder of its own, which
a subprocess puts first on its path, outside the repository: so what runs is
the wheel's code, with the dependencies this environment already has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = [*PIP, "wheel", "--quiet", "--no-deps", "--no-index", "--no-build-isolation", "-w", str(out), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True)
    (found,) = out.glob("pyclann-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [*PIP, "install", "--quiet", "--no-deps", "--no-index", "--target", str(target), str(wheel)], check=True
    )
    return target


def run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run this Python with the installed wheel first on its path, in `cwd` (outside the repository)."""
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_wheel_adds_only_its_own_top_level_names(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist() if ".dist-info/" not in name}
    assert tops == {"pyclann"}


def test_the_installed_wheel_imports(installed: Path, tmp_path: Path) -> None:
    done = run(installed, tmp_path, "-c", "import pyclann, pyclann.testing; print(pyclann.__file__)")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed)


def test_the_installed_command_says_how_to_get_the_server_extra(installed: Path, tmp_path: Path) -> None:
    # The server's dependencies made unimportable, as they are without [server].
    script = (
        "import sys; sys.modules['uvicorn'] = None; from pyclann.devserver.__main__ import main; sys.exit(main([]))"
    )
    done = run(installed, tmp_path, "-c", script)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "clann-devserver needs the server extra (no module 'uvicorn'): pip install \"pyclann[server]\""
    ]


def test_a_user_project_passes_with_the_plugins_fixtures(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        "def test_it(clann_client):\n"
        "    session = clann_client.create_session('Mine', 'alice')\n"
        "    clann_client.append_message(session, 'user', 'hi')\n"
        "    assert [m.content for m in clann_client.list_messages(session)] == ['hi']\n"
    )
    done = run(installed, tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "test_user.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


# Imports pyclann and reads a page of messages (which imports msgspec), then prints each distribution they
# imported that the installed wheel neither requires nor reaches through what it requires.
_UNDECLARED = """
import importlib.metadata as md, json, re, sys
import httpx
before = set(sys.modules)  # httpx imports what its own extras give, when there (click, rich): not ours to declare
import pyclann

message = {"id": "chat_message:01JDXV3C5Z0K8Y8T6W3M2Q9R4N", "session": "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4M",
           "role": "user", "content": "hi", "created_at": "2026-11-26T09:00:00Z"}
page = {"data": [message], "has_more": False, "last_id": message["id"]}
http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=page)))
with pyclann.ChatClient("http://clann.test", token="t", http_client=http) as client:
    assert client.list_messages("01JDXV3C5Z0K8Y8T6W3M2Q9R4M")[0].content == "hi"

def name(text):
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", text).group()).lower()

def requires(dist):
    try:
        return [name(each) for each in md.requires(dist) or [] if "extra ==" not in each]
    except md.PackageNotFoundError:  # required on another platform or Python only
        return []

reached, todo = set(), ["pyclann"]
while todo:
    for dist in requires(todo.pop()):
        if dist not in reached:
            reached.add(dist)
            todo.append(dist)
owners = md.packages_distributions()
tops = {module.partition(".")[0] for module in set(sys.modules) - before}
imported = {name(dist) for top in tops for dist in owners.get(top, [])}
print(json.dumps(sorted(imported - reached - {"pyclann"})))
"""


def test_the_wheel_requires_every_distribution_a_listing_imports(installed: Path, tmp_path: Path) -> None:
    done = run(installed, tmp_path, "-c", _UNDECLARED)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
