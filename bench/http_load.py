"""Drive an HTTP endpoint from a separate load process: `wrk` when installed, else Python."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: wrk's latency units, in milliseconds.
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    """What one load run measured."""

    client: str
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def pick_client(choice: str) -> str:
    """ "wrk" or "python"; "auto" takes wrk when it is on the PATH."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk), use --load-client python")
    return choice


def _lua(body: str, headers: dict[str, str]) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = [==[{body}]==]"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk latency: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Load:
    """The figures of `wrk --latency` output."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output lacks {pattern!r}:\n{output}")
        return match

    done = find(r"^\s*(\d+) requests in ([\d.]+)(\w+),")
    seconds = _ms(done.group(2) + done.group(3)) / 1000
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Load(
        client="wrk",
        requests=int(done.group(1)),
        seconds=seconds,
        requests_per_s=float(find(r"^Requests/sec:\s*([\d.]+)").group(1)),
        p50_ms=_ms(find(r"^\s*50%\s+(\S+)").group(1)),
        p99_ms=_ms(find(r"^\s*99%\s+(\S+)").group(1)),
        errors=errors,
    )


def run_load(
    client: str,
    url: str,
    body: str,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    workdir: Path,
) -> Load:
    """POST `body` to `url` from `concurrency` connections for `seconds`."""
    headers = {"Content-Type": "application/json", **headers}
    if client == "wrk":
        script = workdir / "submit.lua"
        script.write_text(_lua(body, headers))
        # One wrk thread: its event loop keeps 32 connections busy and leaves the other core
        # to the server under test.
        args = ["wrk", "-t1", f"-c{concurrency}", f"-d{round(seconds)}s", "--latency"]
        done = subprocess.run([*args, "-s", str(script), url], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed: {done.stdout}{done.stderr}")
        return parse_wrk(done.stdout)
    body_file = workdir / "body.json"
    body_file.write_text(body)
    args = [sys.executable, "-m", "bench.load_client", url, "--body-file", str(body_file)]
    args += [f"--header={k}: {v}" for k, v in headers.items()]
    args += ["-c", str(concurrency), "-d", str(seconds)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return Load(client="python", **json.loads(done.stdout))
