"""`python -m common.llm.fake_provider` serves the same behaviour as the embedded server."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from common.llm.fake_provider import load_policy
from common.llm.scripted import echo_policy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def server_process() -> AsyncIterator[str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "common.llm.fake_provider",
        "--port",
        str(port),
        "--script",
        "1=503",
        "--policy",
        "common.llm.scripted:echo_policy",
        stdout=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(500):  # wait for start-up, not for a timing
                try:
                    await client.get(f"{url}/stats")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        await process.communicate()


async def test_the_command_line_server_injects_its_scripted_faults(server_process):
    request = {"model": "deepseek-chat", "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=server_process) as client:
        first = await client.post("/v1/chat/completions", json=request)
        second = await client.post("/v1/chat/completions", json=request)
        stats = (await client.get("/stats")).json()

    assert first.status_code == 503
    assert second.json()["choices"][0]["message"]["content"] == "echo: hi"
    assert stats["by_status"] == {"200": 1, "503": 1}


def test_a_policy_is_loaded_from_its_module_path():
    assert load_policy("common.llm.scripted:echo_policy") is echo_policy
