"""Import time in a fresh process, measured inside it (interpreter start-up excluded).

Both packages are first compiled to bytecode, as pip does when it installs a
wheel: httpx2 in site-packages was, while this checkout's pyclann (an editable
install) would otherwise be compiled from source on every import whenever
PYTHONDONTWRITEBYTECODE is set, which measures the compiler, not the import.
"""

from __future__ import annotations

import compileall
import importlib.util
import subprocess
import sys
from pathlib import Path

from bench.measure import Figure

_PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def compile_bytecode(*modules: str) -> None:
    """Compile each module's package (and pyclann's generated package) to bytecode, quietly."""
    for module in (*modules, "pyclann._generated"):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin is not None:
            compileall.compile_dir(Path(spec.origin).parent, quiet=2)


def import_seconds(module: str) -> float:
    output = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)], capture_output=True, check=True, text=True
    )
    return float(output.stdout)


def imports(module: str, baseline: str, runs: int, limit: float | None, goal: str) -> Figure:
    compile_bytecode(module, baseline)
    target: list[float] = []
    base: list[float] = []
    for run in range(runs):
        for name, into in [(module, target), (baseline, base)][:: 1 if run % 2 == 0 else -1]:
            into.append(import_seconds(name))
    return Figure(f"import {module} (fresh process)", "ms", 1e3, target, base, f"import {baseline}", goal, limit)
