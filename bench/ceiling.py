"""How much of general/status's ratio is Ugene's own work: the baseline's hello served by Ugene itself.

    .venv/bin/python bench/ceiling.py [rounds] [seconds]

make bench compares general/status with a bare aiohttp app's JSON hello. This splits that ratio in two.
It starts `ugene serve` pinned as make bench pins it, with one route more, /hello, the very handler of
bench/baseline.py, and drives in turn, `rounds` times (3) for `seconds` (8) each with 32 connections,
the baseline's /hello, Ugene's /hello and Ugene's general/status. Ugene's /hello over the baseline's is
what the server around a handler costs (the access log, uvloop, the router); status over Ugene's
/hello is what the envelope path costs (read and parse the envelope, route, access rule, arguments,
handler, localized answer, metrics, request id).

The route is added here, by wrapping ugene.cli.create_app in the served process (`--serve`); the
package itself has no such route.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import hello  # noqa: E402
from load import STATUS, wrk  # noqa: E402
from servers import LOAD_CORE, cpu_seconds, free_port, pin_postgres, start_baseline, start_ugene, stop, work_dir  # noqa: E402


def serve() -> int:
    """`ugene serve`, with the baseline's hello at /hello."""
    import ugene.cli as cli
    create_app = cli.create_app

    def with_hello(settings, **kwargs):
        app = create_app(settings, **kwargs)
        app.router.add_route("*", "/hello", hello)
        return app
    cli.create_app = with_hello
    return cli.main(["serve"])


def main() -> int:
    from ugene.embedded_pg import EmbeddedPostgres
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    os.sched_setaffinity(0, {LOAD_CORE})
    work = work_dir("ceiling")
    ugene = baseline = None
    try:
        ugene, _ = start_ugene(work / "data", free_port(), work,
                               program=(sys.executable, str(Path(__file__).resolve()), "--serve"))
        cluster = EmbeddedPostgres(work / "data" / "pg", log=lambda line: None)
        pin_postgres(cluster.cluster)
        port = re.search(r"ugene serving on http://127.0.0.1:(\d+)", ugene.log.read_text()).group(1)
        base_port = free_port()
        baseline = start_baseline(base_port, cluster.dsn(), os.urandom(16).hex(), "", work)
        targets = [("baseline hello", baseline.pid, f"http://127.0.0.1:{base_port}/hello", ["post", "{}"]),
                   ("ugene hello", ugene.pid, f"http://127.0.0.1:{port}/hello", ["post", "{}"]),
                   ("ugene status", ugene.pid, f"http://127.0.0.1:{port}/api", ["post", STATUS])]
        for _, _, url, args in targets:                                   # warm-up, not counted
            wrk(url, "api.lua", args, 3, 32)
        requests = {name: 0 for name, *_ in targets}     # each target runs as long: counts compare as rates
        for round_ in range(1, rounds + 1):
            for name, pid, url, args in targets:
                before = cpu_seconds(pid)
                figures = wrk(url, "api.lua", args, seconds, 32)
                cpu = cpu_seconds(pid) - before
                requests[name] += figures.requests
                print(f"round {round_}  {name:<15} {figures.rps:9.0f} req/s  cpu {1000 * cpu / max(1, figures.requests):.4f} "
                      f"ms/req  errors {figures.errors}", flush=True)
        rate = {name: count / (rounds * seconds) for name, count in requests.items()}
        print(f"\nugene hello / baseline hello   {rate['ugene hello'] / rate['baseline hello']:.2f}   (the server around a handler)"
              f"\nugene status / ugene hello     {rate['ugene status'] / rate['ugene hello']:.2f}   (the envelope path)"
              f"\nugene status / baseline hello  {rate['ugene status'] / rate['baseline hello']:.2f}   (make bench's ratio; goal 0.8)")
        return 0
    finally:
        stop(baseline, ugene)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:2] == ["--serve"] else main())
