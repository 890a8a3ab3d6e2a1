"""End-to-end benchmark: this client against every peer, side by side.

    python3 bench/run.py                # everything: envs, 5 interleaved runs, report
    python3 bench/run.py --quick        # 3 runs at 1/4 of the sizes
    python3 bench/run.py --peers ours,raw-socket --workloads rtt-64 --runs 3

Creates one virtual environment per peer under bench/.venvs (websocket-client
shares our import name, so never in ours), starts bench/servers.py pinned to
CPU 1, runs every client pinned to CPU 0 (and rtt-64 once more with both on
CPU 0), peers interleaved within each run, and writes bench/results/
results.json, results.md (medians, min/max, ratios) and results.png.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"
RESULTS = HERE / "results"
CLIENTS = HERE / "clients"
sys.path.insert(0, str(CLIENTS))
from common import FEED_RATE, WORKLOADS, compressed, tls  # noqa: E402

#: env name: (needs Python >= 3.12, packages)
ENVS = {
    "ours": (False, [f"{ROOT}[zlib-ng]", "matplotlib==3.11.*", "uvloop==0.23.*"]),
    "websocket-client": (False, ["websocket-client==1.9.*"]),
    "websocket-client-wsaccel": (False, ["websocket-client==1.9.*", "wsaccel==0.6.7"]),
    "websockets": (False, ["websockets==17.4"]),
    "picows": (False, ["picows==2.3.1", "uvloop==0.23.*"]),
    "aiohttp": (False, ["aiohttp==3.14.*", "uvloop==0.23.*"]),
    "websocket-rs": (True, ["websocket-rs==0.7.10"]),
    # Another checkout of this project (BENCH_BEFORE=path, e.g. a git
    # worktree of the commit before a change), for the "ours-before" row:
    # before and after interleaved in one run.
    "ours-before": (False, [f"{os.environ.get('BENCH_BEFORE', ROOT)}[zlib-ng]"]),
}
#: peer: (env, client script, extra environment)
PEERS = {
    # The standard library's zlib, as every peer uses: compressed rows then
    # compare the same zlib work.
    "ours": ("ours", "peer_ours.py", {"WEBSOCKET_NO_EXTENSIONS": "0", "WEBSOCKET_ZLIB": "zlib"}),
    "ours-pure": ("ours", "peer_ours.py", {"WEBSOCKET_NO_EXTENSIONS": "1", "WEBSOCKET_ZLIB": "zlib"}),
    "ours-before": ("ours-before", "peer_ours.py", {"WEBSOCKET_NO_EXTENSIONS": "0", "WEBSOCKET_ZLIB": "zlib"}),
    # The [zlib-ng] extra (compressed workloads only).
    "ours-zlib-ng": ("ours", "peer_ours.py", {"WEBSOCKET_NO_EXTENSIONS": "0", "WEBSOCKET_ZLIB": "zlib-ng"}),
    # The same sends through send_many() (one call for all messages): a row
    # of its own, never the "ours" row, since no peer's loop batches.
    "ours-send-many": ("ours", "peer_ours.py", {"WEBSOCKET_NO_EXTENSIONS": "0", "BENCH_SEND_MANY": "1"}),
    # receive_into() one reused buffer instead of receive() (README,
    # "Streaming and zero-copy"): a row of its own, as no peer has it.
    "ours-into": ("ours", "peer_ours.py", {"WEBSOCKET_NO_EXTENSIONS": "0", "BENCH_RECEIVE_INTO": "1"}),
    # socket_options=[(SOL_SOCKET, SO_RCVBUF, n)] before connecting: what a
    # fixed receive buffer does to the receive rows (README, "Transports").
    "ours-rcvbuf-256k": ("ours", "peer_ours.py", {"WEBSOCKET_NO_EXTENSIONS": "0", "BENCH_RCVBUF": "262144"}),
    "ours-rcvbuf-4m": ("ours", "peer_ours.py", {"WEBSOCKET_NO_EXTENSIONS": "0", "BENCH_RCVBUF": "4194304"}),
    # websocket-client's own benchmark client, unchanged, on this package's
    # websocket-client API (websocket/_compat.py): the drop-in's speed.
    "ours-compat": ("ours", "peer_websocket_client.py", {"WEBSOCKET_NO_EXTENSIONS": "0"}),
    "websocket-rs": ("websocket-rs", "peer_websocket_rs.py", {}),
    "picows": ("picows", "peer_picows.py", {}),
    "websocket-client+wsaccel": ("websocket-client-wsaccel", "peer_websocket_client.py", {}),
    "websocket-client": ("websocket-client", "peer_websocket_client.py", {}),
    "websockets": ("websockets", "peer_websockets.py", {}),
    "aiohttp": ("aiohttp", "peer_aiohttp.py", {}),
    # The peers without their compiled parts, for the pure twin's table
    # (picows and websocket-rs have no pure build; websocket-client is one).
    "websockets-pure": ("websockets", "peer_websockets.py", {"BENCH_PURE": "1"}),
    "aiohttp-pure": ("aiohttp", "peer_aiohttp.py", {"BENCH_PURE": "1", "AIOHTTP_NO_EXTENSIONS": "1"}),
    # The asyncio face (websocket.asyncio) on uvloop and on asyncio's loop.
    "ours-asyncio": ("ours", "peer_ours_asyncio.py", {"WEBSOCKET_NO_EXTENSIONS": "0", "WEBSOCKET_ZLIB": "zlib"}),
    "ours-asyncio-default-loop": ("ours", "peer_ours_asyncio.py",
                                  {"WEBSOCKET_NO_EXTENSIONS": "0", "WEBSOCKET_ZLIB": "zlib", "BENCH_LOOP": "asyncio"}),
    "raw-socket": ("ours", "peer_raw.py", {}),
    # The raw client with its TLS over ssl.MemoryBIO (clients/common.py,
    # BioSocket): the floor of a client built on Python's ssl as ours is.
    "raw-tls-bio": ("ours", "peer_raw.py", {"BENCH_TLS_BIO": "1"}),
}
#: peers that only run some kinds of workload
ONLY = {"ours-send-many": {"send"}, "ours-into": {"recv", "rtt", "feed"}, "ours-rcvbuf-256k": {"recv"}, "ours-rcvbuf-4m": {"recv"}}
#: peers that only run the TLS workloads
TLS_ONLY = {"raw-tls-bio"}
#: peers run only when --peers names them
OPT_IN = {"ours-rcvbuf-256k", "ours-rcvbuf-4m", "raw-tls-bio", "ours-before", "ours-asyncio",
          "ours-asyncio-default-loop"}
#: peers that run the compressed ("z-") workloads: the others have no
#: permessage-deflate (picows, websocket-client, websocket-rs), and
#: send_many() adds nothing to compressing.
COMPRESSING = {"ours", "ours-pure", "ours-zlib-ng", "ours-before", "ours-asyncio", "ours-asyncio-default-loop",
               "websockets", "aiohttp", "raw-socket",
               "websockets-pure", "aiohttp-pure"}
#: the pure-Python builds: the pure twin's own table compares it with these
PURE = {"ours-pure", "websocket-client", "websockets-pure", "aiohttp-pure"}


#: peers left out of the TLS ("tls-") workloads, and why
NO_TLS = {"websocket-rs": "its sync client takes no SSL context (no way to trust the bench's certificate)"}


def runs_workload(peer: str, workload: str) -> bool:
    if compressed(workload):
        return peer in COMPRESSING
    if tls(workload) and peer in NO_TLS:
        return False
    if peer == "ours-zlib-ng" or (peer in TLS_ONLY and not tls(workload)):
        return False
    return peer not in ONLY or WORKLOADS[real_workload(workload)][0] in ONLY[peer]
CLIENT_CPU, SERVER_CPU = 0, 1
ONE_CORE = "rtt-64-1core"


def real_workload(workload: str) -> str:
    """The client workload behind a name (the one-core run is rtt-64)."""
    return "rtt-64" if workload == ONE_CORE else workload


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def newer_python() -> str | None:
    """A Python >= 3.12 for websocket-rs (abi3 wheels for cp312 and up)."""
    for name in ("python3.14", "python3.13", "python3.12"):
        path = shutil.which(name)
        if path and subprocess.run([path, "-c", ""], capture_output=True).returncode == 0:
            return path
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(glob.glob(str(pyenv / "3.1[2-9]*/bin/python3")), reverse=True):
        return candidate
    return None


def env_python(env: str) -> Path:
    return VENVS / env / "bin" / "python"


def ensure_env(env: str, reinstall_ours: bool) -> str | None:
    """Create the env if needed; returns why it cannot be, or None."""
    needs_new, packages = ENVS[env]
    python = sys.executable
    if needs_new:
        python = newer_python()
        if python is None:
            return "needs Python >= 3.12 (its wheels are cp312-abi3); none found on this machine"
    marker = VENVS / env / ".installed"
    wanted = json.dumps(packages)
    if marker.exists() and marker.read_text() == wanted and not (env.startswith("ours") and reinstall_ours):
        return None
    log(f"== creating bench env {env} ({python})")
    shutil.rmtree(VENVS / env, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(VENVS / env)], check=True)
    pip = [str(env_python(env)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    out = subprocess.run(pip + packages, capture_output=True, text=True)
    if out.returncode != 0:
        return f"pip install failed: {out.stderr.strip().splitlines()[-1:]}"
    marker.write_text(wanted)
    return None


def make_certificate() -> None:
    """A self-signed certificate for 127.0.0.1 (openssl), for the server
    (BENCH_CERT, BENCH_KEY) and trusted by the clients (BENCH_CA)."""
    where = RESULTS / "tls"
    where.mkdir(parents=True, exist_ok=True)
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    os.environ.update(BENCH_CA=str(cert), BENCH_CERT=str(cert), BENCH_KEY=str(key))


def start_server() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [str(env_python("ours")), str(HERE / "servers.py")],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, WEBSOCKET_NO_EXTENSIONS="0"),
    )
    line = proc.stdout.readline().split()
    assert line and line[0] == "ready", f"server did not start: {line}"
    os.sched_setaffinity(proc.pid, {SERVER_CPU})
    return proc, int(line[1])


def client_command(peer: str, workload: str, port: int, scale: float) -> tuple[list[str], dict[str, str]]:
    """The command and environment of ``peer``'s bench client (also
    peer_icount.py's, which runs it under valgrind); cwd: ``CLIENTS``."""
    env_name, script, extra = PEERS[peer]
    cmd = [str(env_python(env_name)), str(CLIENTS / script),
           "--url", f"ws://127.0.0.1:{port}", "--workload", real_workload(workload), "--scale", str(scale)]
    env = dict(os.environ, PYTHONPATH=str(CLIENTS), **extra)
    env.pop("VIRTUAL_ENV", None)
    return cmd, env


def run_client(peer: str, workload: str, port: int, scale: float, server: subprocess.Popen) -> dict:
    os.sched_setaffinity(server.pid, {CLIENT_CPU} if workload == ONE_CORE else {SERVER_CPU})
    cmd, env = client_command(peer, workload, port, scale)
    before = os.times()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900,
                         preexec_fn=lambda: os.sched_setaffinity(0, {CLIENT_CPU}), cwd=str(CLIENTS))
    after = os.times()
    if out.returncode != 0:
        return {"error": out.stderr.strip()[-600:]}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # The server's own CPU time over its workload window (first message to
    # last), as a share of that window's wall time.
    line = server.stdout.readline().split()
    assert line and line[0] == "cpu", f"server said {line}"
    result["server_cpu"] = float(line[1]) / max(float(line[2]), 1e-9)
    result["client_cpu"] = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return result


def rate(result: dict) -> float:
    """Round trips per second for rtt workloads, else MB/s (10^6 bytes)."""
    if WORKLOADS[result["workload"]][0] == "rtt":
        return result["count"] / result["seconds"]
    return result["count"] * result["size"] / result["seconds"] / 1e6


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} x {cpu}, {mem:.0f} GiB, {platform.platform()}, Python {platform.python_version()}"


def summarize_feed(wl: str, runs: dict, peers: list) -> tuple[list, dict]:
    """A feed's table: latency from the server's stamp to the client's
    check (lower is better), and the client's CPU per message."""
    stats = {}
    errors = {}
    for peer in peers:
        results = [r for r in runs.get((wl, peer), []) if "error" not in r]
        if (wl, peer) in runs and not results:
            errors[peer] = [r["error"] for r in runs[(wl, peer)]][0]
        if results:
            stats[peer] = {
                "p50_us": statistics.median(r["p50_us"] for r in results),
                "p99_us": statistics.median(r["p99_us"] for r in results),
                "p99_min": min(r["p99_us"] for r in results),
                "p99_max": max(r["p99_us"] for r in results),
                "p99.9_us": statistics.median(r["p99.9_us"] for r in results),
                "cpu_us": statistics.median(r["work_cpu"] / r["count"] * 1e6 for r in results),
                "server_cpu": statistics.median(r["server_cpu"] for r in results),
                "runs": len(results), "per_run": {r["run"]: r["p99_us"] for r in results},
            }
    others = {p: s["p99_us"] for p, s in stats.items() if not p.startswith(("raw-", "ours")) and not p.endswith("-pure")}
    best = min(others, key=others.get) if others else None
    lines = [f"### {wl} ({FEED_RATE:,} messages/s; latency in µs, lower is better)", "",
             "| client | p50 | p99 | p99 min - max | p99.9 | p99 vs best peer | client CPU per message |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for peer, st in sorted(stats.items(), key=lambda x: x[1]["p99_us"]):
        vs = ""
        if best:
            # best / ours per run: above 1 is lower latency than the best peer.
            ratios = [stats[best]["per_run"][k] / v for k, v in st["per_run"].items() if k in stats[best]["per_run"]]
            st["vs_best_peer"] = statistics.median(ratios) if ratios else None
            vs = f"{st['vs_best_peer']:.2f}x" if ratios else ""
        lines.append(f"| {peer} | {st['p50_us']:,.0f} | {st['p99_us']:,.0f} | {st['p99_min']:,.0f} - {st['p99_max']:,.0f} "
                     f"| {st['p99.9_us']:,.0f} | {vs} | {st['cpu_us']:.2f} µs |")
    lines += [f"| {peer} | failed: {err[-120:]!r} | | | | | |" for peer, err in errors.items()]
    lines.append("")
    if best:
        lines += [f"best peer: {best}", ""]
    return lines, stats


def summarize(runs: dict, workloads: list, peers: list) -> tuple[str, dict]:
    """Markdown tables and the numbers behind them."""
    lines, summary = [], {}
    for wl in workloads:
        kind = WORKLOADS[real_workload(wl)][0]
        if kind == "feed":
            table, summary[wl] = summarize_feed(wl, runs, peers)
            lines += table
            continue
        unit = "round trips/s" if kind == "rtt" else "MB/s"
        rows = []
        for peer in peers:
            if (wl, peer) not in runs:
                continue  # not run for this workload (see ONLY)
            results = [r for r in runs[(wl, peer)] if "error" not in r]
            errors = [r["error"] for r in runs[(wl, peer)] if "error" in r]
            if not results:
                rows.append((peer, None, errors[:1]))
                continue
            rates = [rate(r) for r in results]
            raw = {r["run"]: rate(r) for r in runs.get((wl, "raw-socket"), []) if "error" not in r}
            ratios = [rate(r) / raw[r["run"]] for r in results if r["run"] in raw]
            rows.append((peer, {
                "median": statistics.median(rates), "min": min(rates), "max": max(rates),
                "vs_raw": statistics.median(ratios) if ratios else None,
                "server_cpu": statistics.median(r["server_cpu"] for r in results),
                "client_cpu": statistics.median(r["client_cpu"] for r in results),
                # What a user on a real link pays, whoever the bottleneck is.
                "cpu_us": statistics.median(r["work_cpu"] / r["count"] * 1e6 for r in results),
                "rss_growth": max(r["rss_growth"] for r in results),
                "runs": len(results), "per_run": {r["run"]: rate(r) for r in results},
            }, errors[:1]))
        summary[wl] = {peer: stats for peer, stats, _ in rows if stats}
        peer_medians = {p: s["median"] for p, s in summary[wl].items() if not p.startswith(("raw-", "ours"))
                        and not p.endswith("-pure")}
        best_peer = max(peer_medians, key=peer_medians.get) if peer_medians else None
        title = {ONE_CORE: "rtt-64, client and server on one core"}.get(wl, wl)
        lines += [f"### {title} ({unit}, higher is better)", "",
                  "| client | median | min - max | vs raw socket | vs best peer | server CPU | client CPU per message | peak RSS growth |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for peer, stats, errors in sorted(rows, key=lambda r: -(r[1] or {"median": -1})["median"]):
            if stats is None:
                lines.append(f"| {peer} | failed: {(errors or ['no result'])[0][-120:]!r} | | | | | | |")
                continue
            vs_best = ""
            if best_peer:
                # Ratio to the best peer, median of per-run ratios.
                best = summary[wl][best_peer]["per_run"]
                ratios = [v / best[k] for k, v in stats["per_run"].items() if k in best]
                vs_best = f"{statistics.median(ratios):.2f}x" if ratios else ""
                stats["vs_best_peer"] = statistics.median(ratios) if ratios else None
            fmt = "{:,.0f}" if stats["median"] >= 100 else "{:,.1f}"
            vs_raw = "" if stats["vs_raw"] is None else f"{stats['vs_raw']:.2f}x"
            lines.append(
                f"| {peer} | {fmt.format(stats['median'])} | {fmt.format(stats['min'])} - {fmt.format(stats['max'])} "
                f"| {vs_raw} | {vs_best} | {stats['server_cpu']:.0%} | {stats['cpu_us']:,.2f} µs "
                f"| {stats['rss_growth'] / 2**20:.1f} MiB |"
            )
        lines.append("")
        if best_peer:
            lines.append(f"best peer: {best_peer}")
            lines.append("")
    return "\n".join(lines), summary


def summarize_pure(runs: dict, workloads: list) -> tuple[str, dict]:
    """The pure twin against the pure peers: one row per workload, its
    ratio to the best of them (medians of per-run ratios; for the feed, of
    p99 latency, best / ours)."""
    lines = ["## The pure twin against the pure peers", "",
             f"ours-pure (WEBSOCKET_NO_EXTENSIONS=1) against the peers' pure-Python builds: {', '.join(sorted(PURE - {'ours-pure'}))} "
             "(websockets without its C masking, aiohttp with AIOHTTP_NO_EXTENSIONS=1 on asyncio's loop; "
             "picows and websocket-rs have no pure build).", "",
             "| workload | ours-pure | best pure peer | its value | vs best pure peer (min - max) |",
             "|---|---:|---|---:|---:|"]
    summary = {}
    for wl in workloads:
        feed = WORKLOADS[real_workload(wl)][0] == "feed"
        per = {}
        for peer in PURE:
            results = [r for r in runs.get((wl, peer), []) if "error" not in r]
            if results:
                per[peer] = {r["run"]: (r["p99_us"] if feed else rate(r)) for r in results}
        if "ours-pure" not in per or len(per) < 2:
            continue
        medians = {p: statistics.median(v.values()) for p, v in per.items()}
        others = {p: m for p, m in medians.items() if p != "ours-pure"}
        best = (min if feed else max)(others, key=others.get)
        ratios = [(per[best][k] / v if feed else v / per[best][k]) for k, v in per["ours-pure"].items() if k in per[best]]
        ratio = statistics.median(ratios)
        summary[wl] = {"best": best, "ratio": ratio, "min": min(ratios), "max": max(ratios)}
        unit = " µs p99" if feed else ""
        lines.append(f"| {wl} | {medians['ours-pure']:,.1f}{unit} | {best} | {medians[best]:,.1f}{unit} "
                     f"| {ratio:.2f}x ({min(ratios):.2f} - {max(ratios):.2f}) |")
    lines.append("")
    return "\n".join(lines), summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every message count")
    ap.add_argument("--quick", action="store_true", help="3 runs at scale 0.25")
    ap.add_argument("--peers", default=",".join(p for p in PEERS if p not in OPT_IN))
    ap.add_argument("--workloads", default=",".join([*WORKLOADS, ONE_CORE]))
    ap.add_argument("--no-reinstall", action="store_true", help="keep the installed copy of this project")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.scale = 3, 0.25
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("needs 2 CPUs to pin client and server apart")
    peers = [p for p in args.peers.split(",") if p]
    workloads = [w for w in args.workloads.split(",") if w]
    for name, given, known in (("peer", peers, PEERS), ("workload", workloads, [*WORKLOADS, ONE_CORE])):
        unknown = [x for x in given if x not in known]
        if unknown:
            sys.exit(f"unknown {name} {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    if "raw-socket" not in peers:
        peers.append("raw-socket")
    skipped = {}
    for env in ["ours"] + sorted({PEERS[p][0] for p in peers} - {"ours"}):
        why = ensure_env(env, reinstall_ours=not args.no_reinstall)
        if why:
            for peer in [p for p in peers if PEERS[p][0] == env]:
                skipped[peer] = why
                log(f"skipping {peer}: {why}")
    peers = [p for p in peers if p not in skipped]
    make_certificate()
    server, port = start_server()
    runs: dict = {}
    started = time.monotonic()
    try:
        for run in range(args.runs):
            for wl in workloads:
                order = peers[run % len(peers):] + peers[: run % len(peers)]  # interleave
                for peer in order:
                    if not runs_workload(peer, wl):
                        continue
                    result = run_client(peer, wl, port, args.scale, server)
                    result["run"] = run
                    runs.setdefault((wl, peer), []).append(result)
                    shown = f"{rate(result):,.1f}" if "error" not in result else "ERROR " + result["error"][-200:]
                    if "p99_us" in result:
                        shown = f"p50 {result['p50_us']:,.0f} µs, p99 {result['p99_us']:,.0f} µs"
                    log(f"run {run + 1}/{args.runs} {wl:14} {peer:26} {shown}")
    finally:
        server.terminate()
        server.wait(10)
    table, summary = summarize(runs, workloads, peers)
    pure_table, pure_summary = summarize_pure(runs, workloads)
    table += "\n" + pure_table
    RESULTS.mkdir(exist_ok=True)
    header = [
        "# End-to-end benchmark results", "",
        f"Machine: {machine()}.",
        f"{args.runs} runs, peers interleaved, message counts x{args.scale}; client on CPU {CLIENT_CPU}, "
        f"server (bench/servers.py, compiled codec) on CPU {SERVER_CPU} unless said otherwise. "
        f"Median of runs, min - max; 'vs raw socket' and 'vs best peer' are medians of per-run ratios. "
        f"Server CPU is its CPU time over its own wall time from the workload's first message to its last. "
        f"Client CPU per message is the client's CPU time (user + system, all threads) over its timed work, "
        f"per message (per round trip for rtt). Took {time.monotonic() - started:.0f} s.", "",
    ]
    if skipped:
        header += [f"Skipped: {peer}: {why}." for peer, why in skipped.items()] + [""]
    if any(tls(wl) for wl in workloads):
        header += [f"Not in the TLS rows: {peer}: {why}." for peer, why in NO_TLS.items() if peer in peers] + [""]
    (RESULTS / "results.md").write_text("\n".join(header) + table)
    (RESULTS / "results.json").write_text(json.dumps(
        {"machine": machine(), "args": vars(args), "skipped": skipped, "summary": summary, "pure": pure_summary,
         "runs": [dict(r, workload_key=k[0], peer=k[1]) for k, rs in runs.items() for r in rs]}, indent=1))
    chart = subprocess.run([str(env_python("ours")), str(HERE / "chart.py"), str(RESULTS / "results.json"),
                            str(RESULTS / "results.png")], capture_output=True, text=True)
    if chart.returncode != 0:
        log(f"no chart: {chart.stderr.strip()[-300:]}")
    print("\n".join(header) + table)
    print(f"written: {RESULTS / 'results.md'}, results.json, results.png")


if __name__ == "__main__":
    main()
