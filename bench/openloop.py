"""An open-loop load: requests sent at a fixed rate whatever the answers take (wrk2's way;
wrk2 is not packaged for Debian), so a slow answer does not hold back the next request.

    python -m bench.openloop BASE REQUESTS TOKENS RATE SECONDS

REQUESTS and TOKENS are bench/wrk.lua's files (each line sent once, in order). Latency is
measured from the moment a request was due to be sent, not from when it left, so a queue in
the client counts too (no coordinated omission). Prints one JSON line like wrk.lua's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx


def _requests(path: str, tokens: list[str]) -> list[tuple[str, str, dict, bytes | None]]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        method, target, token, kind, body, if_match = (line.split("\t") + [""] * 6)[:6]
        headers = {"If-Match": if_match} if if_match else {}
        if token != "-":
            headers["Authorization"] = f"Bearer {tokens[int(token)]}"
        if kind == "json":
            headers["Content-Type"] = "application/json"
        elif kind == "form":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        out.append((method, target, headers, body.encode() if kind != "-" else None))
    return out


async def run(base: str, reqs: list, rate: float, seconds: float) -> dict:
    n = min(len(reqs), int(rate * seconds))
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        start = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            method, target, headers, body = reqs[i]
            try:
                r = await client.request(method, target, headers=headers, content=body)
                if r.status_code >= 400:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(one(i) for i in range(n)))
        took = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2)

    return {"requests": n, "seconds": round(took, 3), "rps": round(n / took, 1),
            "offered_rps": rate, "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "max_ms": round(1000 * latencies[-1], 2), "errors": errors, "non_2xx": errors,
            "socket_errors": 0}


def main() -> None:
    base, req_file, tok_file, rate, seconds = sys.argv[1:6]
    tokens = Path(tok_file).read_text(encoding="utf-8").split()
    result = asyncio.run(run(base, _requests(req_file, tokens), float(rate), float(seconds)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
