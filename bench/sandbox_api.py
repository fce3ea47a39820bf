"""Benchmark of the sandbox API server; prints its figures (medians and ratios measured in one run).

    python bench/sandbox_api.py [--seconds 3] [--objects 1000] [--watchers 50]

Measures, against ``python -m gitops_lab.sandbox`` in a child process, with one aiohttp client in this process:
GET of one object over keep-alive connections (req/s) and its ratio to a bare aiohttp "hello" server (HTTPS, same
certificate, same client); LIST of 1,000 ConfigMaps; the time for one write to reach 50 watchers; cold start to
/readyz; the server's RSS holding 1,000 objects. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import aiohttp
import psutil

HELLO_SERVER = textwrap.dedent("""
    import ssl, sys
    from aiohttp import web
    async def hello(request):
        return web.Response(body=b'{"hello":"world"}', content_type="application/json")
    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[3]), ssl_context=context, print=None, access_log=None)
""")


class Server:
    def __init__(self, state_dir: pathlib.Path) -> None:
        self.state_dir = state_dir
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> float:
        """Start; return seconds until /readyz answered."""
        began = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "gitops_lab.sandbox", "--state-dir", str(self.state_dir)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("Sandbox serving"):
            raise SystemExit(f"the sandbox did not start: {line!r}")
        self.url = line.split()[-1]
        asyncio.run(_wait_ready(self.url, self.ssl()))
        return time.perf_counter() - began

    def ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.state_dir / "pki" / "ca.crt"))

    def headers(self) -> dict[str, str]:
        token = (self.state_dir / "pki" / "token").read_text().strip()
        return {"Authorization": f"Bearer {token}"}

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)


async def _wait_ready(url: str, context: ssl.SSLContext) -> None:
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url + "/readyz", ssl=context) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.005)


async def _throughput(url: str, context: ssl.SSLContext, headers: dict[str, str], seconds: float,
                      concurrency: int = 8) -> float:
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=context)
    count = 0
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                async with session.get(url) as response:
                    await response.read()
                    assert response.status == 200, response.status
                count += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - began)


async def _create_configmaps(server: Server, n: int) -> None:
    connector = aiohttp.TCPConnector(limit=8, ssl=server.ssl())
    async with aiohttp.ClientSession(connector=connector, headers=server.headers()) as session:
        sem = asyncio.Semaphore(8)

        async def create(i: int) -> None:
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i:04d}"},
                    "data": {"index": str(i), "text": "x" * 100}}
            async with sem, session.post(server.url + "/api/v1/namespaces/default/configmaps",
                                         json=body) as response:
                await response.read()
                assert response.status == 201, response.status

        await asyncio.gather(*(create(i) for i in range(n)))


async def _list_ms(server: Server, rounds: int) -> list[float]:
    times = []
    async with aiohttp.ClientSession(headers=server.headers()) as session:
        for _ in range(rounds):
            began = time.perf_counter()
            async with session.get(server.url + "/api/v1/namespaces/default/configmaps",
                                   ssl=server.ssl()) as response:
                data = await response.json()
            times.append((time.perf_counter() - began) * 1000)
            assert len(data["items"]) >= 1000
    return times


async def _fanout_ms(server: Server, watchers: int, writes: int) -> list[float]:
    context = server.ssl()
    connector = aiohttp.TCPConnector(limit=watchers + 2, ssl=context)
    async with aiohttp.ClientSession(connector=connector, headers=server.headers()) as session:
        async with session.post(server.url + "/api/v1/namespaces/default/configmaps",
                                json={"metadata": {"name": "fanout"}, "data": {"n": "0"}}) as response:
            rv = (await response.json())["metadata"]["resourceVersion"]
        queues: list[asyncio.Queue[float]] = [asyncio.Queue() for _ in range(watchers)]
        url = (server.url + "/api/v1/namespaces/default/configmaps?watch=true&fieldSelector=metadata.name%3Dfanout"
               f"&resourceVersion={rv}")
        started = asyncio.Event()
        opened = 0

        async def watch(queue: asyncio.Queue[float]) -> None:
            nonlocal opened
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=None)) as response:
                opened += 1
                if opened == watchers:
                    started.set()
                async for line in response.content:
                    if line.strip():
                        queue.put_nowait(time.perf_counter())

        tasks = [asyncio.create_task(watch(q)) for q in queues]
        await asyncio.wait_for(started.wait(), 30)
        await asyncio.sleep(0.2)
        times = []
        for n in range(1, writes + 1):
            began = time.perf_counter()
            async with session.patch(server.url + "/api/v1/namespaces/default/configmaps/fanout",
                                     data=json.dumps({"data": {"n": str(n)}}),
                                     headers={"Content-Type": "application/merge-patch+json"}) as response:
                assert response.status == 200, response.status
            arrivals = [await asyncio.wait_for(q.get(), 10) for q in queues]
            times.append((max(arrivals) - began) * 1000)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return times


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput run")
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=50)
    args = parser.parse_args()
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-sandbox-"))

    starts = []
    for i in range(5):
        server = Server(root / f"cold-{i}")
        starts.append(server.start())
        server.stop()

    server = Server(root / "main")
    server.start()
    hello = None
    try:
        asyncio.run(_create_configmaps(server, args.objects))
        assert server.proc is not None
        rss_mb = psutil.Process(server.proc.pid).memory_info().rss / 2**20
        pki = server.state_dir / "pki"
        port = _free_port()
        hello = subprocess.Popen([sys.executable, "-c", HELLO_SERVER, str(pki / "server.crt"),
                                  str(pki / "server.key"), str(port)])
        asyncio.run(_wait_ready(f"https://127.0.0.1:{port}", server.ssl()))
        get_url = server.url + "/api/v1/namespaces/default/configmaps/cm-0001"
        sandbox_rates, hello_rates = [], []
        for _ in range(3):  # interleaved, so both see the same machine noise
            sandbox_rates.append(asyncio.run(_throughput(get_url, server.ssl(), server.headers(), args.seconds)))
            hello_rates.append(asyncio.run(_throughput(f"https://127.0.0.1:{port}/hello", server.ssl(), {},
                                                       args.seconds)))
        list_times = asyncio.run(_list_ms(server, 10))
        fanout = asyncio.run(_fanout_ms(server, args.watchers, 20))
    finally:
        server.stop()
        if hello is not None:
            hello.terminate()
            hello.wait(10)

    get_rate, hello_rate = statistics.median(sandbox_rates), statistics.median(hello_rates)
    print("sandbox API benchmark (medians; this machine, one run)")
    print(f"  GET one object, keep-alive, 8 connections: {get_rate:8.0f} req/s")
    print(f"  bare aiohttp hello, same client and TLS:   {hello_rate:8.0f} req/s")
    print(f"  ratio sandbox / hello:                     {get_rate / hello_rate:8.2f}   (goal >= 0.5)")
    print(f"  LIST of {args.objects} ConfigMaps:                {statistics.median(list_times):8.1f} ms")
    print(f"  one write reaching {args.watchers} watchers:            {statistics.median(fanout):8.1f} ms "
          f"(p95 {sorted(fanout)[int(len(fanout) * 0.95) - 1]:.1f} ms)")
    print(f"  cold start to /readyz (median of 5):       {statistics.median(starts) * 1000:8.0f} ms")
    print(f"  RSS holding {args.objects} objects:               {rss_mb:8.1f} MiB")


if __name__ == "__main__":
    main()
