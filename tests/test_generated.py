"""Our one template for the generator is the pinned upstream template, changed only as its header says."""

from __future__ import annotations

from pathlib import Path

import openapi_python_client

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / "generated" / "templates" / "endpoint_module.py.jinja"
UPSTREAM = Path(openapi_python_client.__file__).parent / "templates" / "endpoint_module.py.jinja"
DOCSTRING = '    """The keyword arguments of `httpx.Client.request` for this operation, with a relative URL."""\n'


def test_the_endpoint_template_is_upstreams_with_a_public_request_builder() -> None:
    ours = OURS.read_text(encoding="utf-8")
    header, _, body = ours.partition("-#}\n")
    assert "Re-copy it when the pin moves" in header
    expected = UPSTREAM.read_text(encoding="utf-8").replace("_get_kwargs", "request_kwargs")
    assert body.replace(DOCSTRING, "", 1) == expected, "re-copy the upstream template and re-apply the change"
