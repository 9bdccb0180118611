"""Peer SDKs, when the bench extra installed them: the openai SDK making a comparable POST."""

from __future__ import annotations

import importlib.util
import json

import httpx2

from bench.imports import imports
from bench.measure import Figure, interleaved

BASE = "http://clann.bench/v1"
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "bench-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there"}, "finish_reason": "stop"}],
}


def openai_figures(repeats: int, inner: int, import_runs: int) -> list[Figure]:
    if importlib.util.find_spec("openai") is None:
        return []
    import openai

    body = json.dumps(COMPLETION).encode()

    def mock() -> httpx2.Client:
        headers = {"Content-Type": "application/json"}
        return httpx2.Client(
            transport=httpx2.MockTransport(lambda r: httpx2.Response(200, headers=headers, content=body))
        )

    client = openai.OpenAI(api_key="bench-key", base_url=BASE, http_client=mock(), max_retries=0)
    raw = mock()
    messages = [{"role": "user", "content": "Hello there"}]

    def ours() -> object:
        return client.chat.completions.create(model="bench-model", messages=messages)  # type: ignore[arg-type]

    def theirs() -> object:
        response = raw.post(
            f"{BASE}/chat/completions",
            json={"model": "bench-model", "messages": messages},
            headers={"Authorization": "Bearer bench-key"},
        )
        return json.loads(response.content)

    target, base = interleaved(ours, theirs, repeats, inner)
    name = f"peer: openai {openai.__version__} chat.completions.create (MockTransport)"
    return [
        Figure(name, "us", 1e6, target, base, "raw httpx2 + json.loads", "report", None),
        imports("openai", "httpx2", import_runs, None, "report"),
    ]
