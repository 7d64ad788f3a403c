"""Speed and memory of the dependency-graph builder, against a parsing floor and peer tools.

    python benchmarks/graph_speed.py [--project django|mid|flask|rich|PATH ...]
                                     [--no-peers] [--repeat N] [--profile]

Each phase runs in a fresh subprocess.  floor: read + tree-sitter-parse the builder's own
file list.  cold: `build_graph` (Python only) on an empty cache folder.  warm: the same on
that cache.  A graph loads blocks and edges as queries need them, so the time to load all
of them after the warm build is reported beside it (+load all).  After both builds,
`update_file` is timed for 20 statements appended to functions of mid-size files (each
undone, untimed) and for the rename of the most-called function (worst case): after the
warm build on the loaded graph, after the cold one on a graph that loads what the update
touches.  Peak memory is the phase process's ru_maxrss, read right after the
build.  peers: pyan3, PyCG, aider's repo map from _work/peers-venv on the same .py files,
whole-process wall time and ru_maxrss (os.wait4) with a timeout; they are compared with the
cold build's whole-process wall time (builder phases are otherwise timed in-process).
Presets are PyPI sdists unpacked into benchmarks/_work/ (git-ignored) with their own
`git init`: discovery honours git, and this repository ignores _work/.
--repeat N keeps the best time and the largest peak memory, and pools incremental timings.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

WORK = Path(__file__).resolve().parent / "_work"
PEERS_VENV = WORK / "peers-venv"
PRESETS = {"django": "django==5.1.*", "flask": "flask==3.1.*", "rich": "rich==13.9.*"}
ALIASES = {"mid": "flask"}  # not rich: pyan3 2.9 crashes on any function named `top`
PHASE_TIMEOUT, PEER_TIMEOUT, INSTALL_TIMEOUT = 3600.0, 600.0, 900.0
INCREMENTAL_EDITS = 20
TARGETS = "cold <= 3x floor, warm <= 10% of cold, incremental median <= 50 ms, faster than every peer that resolves calls"
# name -> (pip requirement, module proving the install, resolves calls?).  PyCG 0.0.8's
# wheel ships its package as `PyCG`, which `import pycg` cannot find on Linux.
PEERS = {
    "pyan3": ("pyan3", "pyan", True),
    "pycg": ("pycg==0.0.7", "pycg", True),
    "aider": ("aider-chat", "aider.repomap", False),
}
AIDER_MAP = """
import sys
from pathlib import Path
from aider.io import InputOutput
from aider.repomap import RepoMap
class Model:  # aider only asks the LLM model for token counts; stay offline
    def token_count(self, text): return len(text) // 4
root, files = sys.argv[1], Path(sys.argv[2]).read_text().split("\\n")
io = InputOutput(pretty=False, yes=True, fancy_input=False)
repo_map = RepoMap(map_tokens=1024, root=root, main_model=Model(), io=io)
print(len(repo_map.get_repo_map([], [str(Path(root) / f) for f in files]) or ""))
"""


def run_measured(cmd: list[str], timeout: float, cwd: Path | None = None) -> dict[str, Any]:
    """Run `cmd`: status ok|crash|timeout, wall seconds, its own peak RSS in MB, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started, started_at, status = time.perf_counter(), time.time(), None
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        while not (waited := os.wait4(proc.pid, os.WNOHANG))[0]:
            if time.perf_counter() - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                waited, status = os.wait4(proc.pid, 0), "timeout"
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(waited[1])
        out.seek(0)
        err.seek(0)
        return {
            "status": status or ("ok" if proc.returncode == 0 else "crash"),
            "wall": round(seconds, 3),
            "started_at": started_at,
            "rss_mb": round(waited[2].ru_maxrss / 1024, 1),
            "stdout": out.read().decode(errors="replace")[-300:],
            "stderr_tail": err.read().decode(errors="replace").strip().splitlines()[-15:],
        }


def run_phase(phase: str, root: Path, cache: Path, profile: Path | None = None) -> dict[str, Any]:
    """One builder or floor phase in a fresh interpreter (see `worker`)."""
    result_file = cache.with_suffix(f".{phase}.json")
    prefix = ["-m", "cProfile", "-o", str(profile)] if profile else []
    cmd = [sys.executable, *prefix, __file__, "--worker", phase, str(root), str(cache)]
    run = run_measured([*cmd, str(result_file)], PHASE_TIMEOUT)
    if run["status"] == "ok":
        run.update(json.loads(result_file.read_text()))
        if "built_at" in run:  # process start-up + build, without the timed updates
            run["build_wall"] = round(run.pop("built_at") - run["started_at"], 3)
        result_file.unlink()
    return run


# -- workers (inside the phase subprocesses) ---------------------------------------------------


def list_file(root: Path) -> Path:
    """The builder's file list, written by the cold phase for the floor and the peers."""
    return WORK / f"files-{root.name}.txt"


def worker(phase: str, root: Path, cache: Path) -> dict[str, Any]:
    if phase == "floor":
        return floor(root, list_file(root).read_text().split("\n"))
    from codeplan.graph import GraphOptions, analysis_build, build_graph

    options = GraphOptions(use_cache=True, cache_dir=cache, languages=("python",))
    started = time.perf_counter()
    builder = build_graph(root, options=options)
    result: dict[str, Any] = {"seconds": time.perf_counter() - started, "built_at": time.time()}
    result["analysis"] = analysis_build()
    result["build_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not builder.report.files:  # e.g. a folder that another repository's git ignores
        raise SystemExit(f"the builder found no Python files under {root}")
    result.update(blocks=len(builder.graph), edges=builder.graph.edge_count())
    result.update({k: v for k, v in vars(builder.report).items() if isinstance(v, int | dict)})
    if phase == "warm":  # the graph loads what queries need: here, everything
        started = time.perf_counter()
        loaded = sum(1 for _ in builder.graph.edges()), sum(1 for _ in builder.graph.blocks())
        result["load_all_s"] = time.perf_counter() - started
        assert loaded == (result["edges"], result["blocks"]), "counts promised what loaded"
    if phase == "cold":
        list_file(root).write_text("\n".join(builder.graph.paths()))
    return result | (incremental(builder, root) if phase != "profile" else {})


def floor(root: Path, paths: list[str]) -> dict[str, Any]:
    import tree_sitter_python
    from tree_sitter import Language, Parser

    parser = Parser(Language(tree_sitter_python.language()))
    started = time.perf_counter()
    for path in paths:
        parser.parse((root / path).read_bytes())
    seconds = time.perf_counter() - started
    lines = sum((root / p).read_bytes().count(b"\n") for p in paths)
    return {"seconds": seconds, "files": len(paths), "lines": lines}


def parses(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def with_statement(text: str) -> str | None:
    """`text` with a statement appended to the body of one of its functions (None: none)."""
    functions = [
        node
        for node in ast.walk(parses(text) or ast.Module([], []))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body[-1].lineno > node.lineno
    ]
    if not functions:
        return None
    last = functions[len(functions) // 2].body[-1]
    lines = text.split("\n")
    indent = re.match(r"[ \t]*", lines[last.lineno - 1]).group()  # type: ignore[union-attr]
    lines.insert(last.end_lineno or last.lineno, f"{indent}_bench_probe = 1")
    return "\n".join(lines) if parses("\n".join(lines)) else None


def incremental(builder: Any, root: Path) -> dict[str, Any]:
    from codeplan.graph import BlockKind, Relation

    sized = sorted(((root / p).stat().st_size, p) for p in builder.graph.paths())
    middle = [p for _, p in sized[len(sized) // 4 : 3 * len(sized) // 4]]
    timings: list[float] = []
    for path in middle[:: max(1, len(middle) // (2 * INCREMENTAL_EDITS))]:
        original = (root / path).read_text(encoding="utf-8")
        edited = with_statement(original)
        if edited is None or len(timings) == INCREMENTAL_EDITS:
            continue
        started = time.perf_counter()
        builder.update_file(path, edited)
        timings.append((time.perf_counter() - started) * 1000)
        builder.update_file(path, original)
    graph = builder.graph
    callers = Counter(e.target for e in graph.edges(Relation.CALLS))
    for block_id, _ in callers.most_common():
        target = graph.block(block_id)
        data = (root / target.path).read_bytes()
        head, body = data[: target.start_byte], data[target.start_byte : target.end_byte]
        old, new = f"def {target.name}(".encode(), f"def {target.name}_x(".encode()
        kind_ok = target.kind in (BlockKind.FUNCTION, BlockKind.METHOD)
        if kind_ok and not target.name.startswith("__") and old in body:
            break
    else:
        return {"incremental_ms": timings, "rename": {"ms": float("nan"), "reresolved": 0}}
    renamed = head + body.replace(old, new, 1) + data[target.end_byte :]
    started = time.perf_counter()
    update = builder.update_file(target.path, renamed)
    ms = (time.perf_counter() - started) * 1000
    rename = {"block": target.id, "callers": callers[target.id], "ms": ms}
    rename |= {"reresolved": len(update.reresolved), "interface_changed": update.interface_changed}
    return {"incremental_ms": timings, "rename": rename}


# -- projects and peers --------------------------------------------------------------------------


def prepare(name: str) -> Path:
    """The source folder of a preset (downloaded and unpacked once) or of a path."""
    name = ALIASES.get(name, name)
    if name not in PRESETS:
        if not Path(name).is_dir():
            raise SystemExit(f"{name}: neither a preset ({', '.join(PRESETS)}) nor a folder")
        return Path(name).resolve()
    root, download = WORK / name, WORK / "dl" / name
    if not root.is_dir():
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary"]
        subprocess.run([*pip, ":all:", PRESETS[name], "-d", str(download)], check=True)
        with tarfile.open(next(download.glob("*.tar.gz"))) as archive:
            top = archive.getnames()[0].split("/")[0]
            archive.extractall(WORK, filter="data")
        (WORK / top).rename(root)
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def ensure_peers() -> dict[str, str]:
    """Install missing peers into their venv; name -> "" if usable, else why not."""
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(PEERS_VENV)], check=True)
    problems = dict.fromkeys(PEERS, "")
    for name, (requirement, module, _) in PEERS.items():
        if subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode:
            print(f"installing {requirement} into {PEERS_VENV} ...", flush=True)
            install = [str(python), "-m", "pip", "install", "-q", requirement]
            run = run_measured(install, INSTALL_TIMEOUT)
            if run["status"] != "ok":
                problems[name] = f"not installed ({run['status']}): {run['stderr_tail'][-1:]}"
    return problems


def run_peers(root: Path, problems: dict[str, str]) -> dict[str, Any]:
    files, bin_dir = list_file(root), PEERS_VENV / "bin"
    paths = files.read_text().split("\n")
    commands = {
        "pyan3": [bin_dir / "pyan3", "--dot", "--uses", "--no-defines", "--file", os.devnull],
        "pycg": [bin_dir / "python", "-m", "pycg", "--package", ".", "-o", os.devnull],
        "aider": [bin_dir / "python", "-c", AIDER_MAP, root, files],
    }
    results: dict[str, Any] = {}
    for name, cmd in commands.items():
        if problems[name]:
            results[name] = {"status": problems[name]}
            continue
        for stale in root.glob(".aider.tags.cache.v*"):  # aider would reuse its tag cache
            shutil.rmtree(stale)
        print(f"  peer {name} ...", flush=True)
        run = run_measured(
            [*map(str, cmd), *([] if name == "aider" else paths)], PEER_TIMEOUT, root
        )
        results[name] = run | {"resolves_calls": PEERS[name][2]}
    return results


# -- orchestration and output ------------------------------------------------------------------------


def measure(root: Path, repeat: int, peers: dict[str, str] | None, profile: bool) -> dict:
    cache = Path(tempfile.mkdtemp(dir=WORK, prefix=f"cache-{root.name}-"))
    runs: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": [], "floor": []}
    try:
        for _ in range(repeat):
            shutil.rmtree(cache)
            cache.mkdir()
            for phase, phase_runs in runs.items():
                print(f"  {phase} ...", flush=True)
                phase_runs.append(run_phase(phase, root, cache))
                if phase_runs[-1]["status"] != "ok":
                    print("\n".join(phase_runs[-1]["stderr_tail"]))
                    return {"failed": phase, phase: phase_runs[-1]}
        pooled = {
            p: [t for r in runs[p] for t in r.pop("incremental_ms")] for p in ("cold", "warm")
        }
        result: dict[str, Any] = {
            phase: min(phase_runs, key=lambda r: r["seconds"])
            | {k: max(r.get(k, 0) for r in phase_runs) for k in ("rss_mb", "build_rss_mb")}
            for phase, phase_runs in runs.items()
        }
        result["incremental"] = {
            phase: {
                "median_ms": statistics.median(ms),
                "p95_ms": statistics.quantiles(ms, n=20, method="inclusive")[-1],
                "all_ms": [round(t, 2) for t in ms],
            }
            for phase, ms in pooled.items()
        }
        if peers is not None:
            result["peers"] = run_peers(root, peers)
        if profile:
            shutil.rmtree(cache)
            print_profile(root, cache)
        return result
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def print_profile(root: Path, cache: Path) -> None:
    import pstats

    stats = WORK / f"profile-{root.name}.prof"
    print(f"  cProfile of a cold build ({stats}) ...", flush=True)
    run_phase("profile", root, cache, profile=stats)
    for order in ("cumulative", "tottime"):
        pstats.Stats(str(stats)).strip_dirs().sort_stats(order).print_stats(15)


def verdicts(r: dict[str, Any]) -> list[tuple[str, bool]]:
    cold, warm, floor_s = r["cold"]["seconds"], r["warm"]["seconds"], r["floor"]["seconds"]
    median = max(i["median_ms"] for i in r["incremental"].values())
    wall = r["cold"]["build_wall"]
    checks = [
        (f"cold {cold / floor_s:.1f}x floor <= 3x", cold <= 3 * floor_s),
        (f"warm {warm / cold:.0%} of cold <= 10%", warm <= 0.1 * cold),
        (f"incremental median {median:.1f} ms <= 50 ms", median <= 50),
    ]
    for name, peer in r.get("peers", {}).items():
        if peer.get("resolves_calls") and peer["status"] in ("ok", "timeout"):
            text = f"cold build wall {wall:.1f} s < {name} {peer['status']} {peer['wall']:.1f} s"
            checks.append((text, wall < peer["wall"]))
    return checks


def row(project: str, r: dict[str, Any]) -> list[str]:
    if "failed" in r:
        return [project, f"failed in {r['failed']}: {r[r['failed']]['stderr_tail'][-1:]}"]
    floor_s, cold, warm = (r[k]["seconds"] for k in ("floor", "cold", "warm"))
    warm_i, cold_i = (r["incremental"][p] for p in ("warm", "cold"))
    peers = [
        f"{p['status']} {p['wall']:.1f} s, {p['rss_mb']:.0f} MB" if "wall" in p else p["status"]
        for p in r.get("peers", {n: {"status": "skipped"} for n in PEERS}).values()
    ]
    return [
        project, str(r["floor"]["files"]), str(r["floor"]["lines"]), f"{floor_s:.2f}",
        f"{cold:.2f} ({cold / floor_s:.1f}x)",
        f"{warm:.2f} ({warm / cold:.0%})\n+{r['warm']['load_all_s']:.2f} load all",
        f"{warm_i['median_ms']:.1f} / {warm_i['p95_ms']:.1f}\n"
        f"({cold_i['median_ms']:.1f} / {cold_i['p95_ms']:.1f})",
        f"{r['warm']['rename']['ms']:.0f} ({r['warm']['rename']['reresolved']} files)",
        f"{r['cold']['build_rss_mb']:.0f}", *peers,
    ]  # fmt: skip


def print_table(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    title = (
        "Graph builder (incremental: after warm build and loading everything, then after"
        " cold build, loading as needed, in brackets)"
    )
    table = Table(title=f"{title}; peers: process wall and RSS")
    columns = "project|files|lines|floor s|cold s (x floor)|warm s (% cold)|incr med/p95 ms"
    for column in [*columns.split("|"), "rename ms", "cold peak MB", *PEERS]:
        table.add_column(column, justify="right")
    for project, r in results.items():
        table.add_row(*row(project, r))
    console = Console(width=200)
    console.print(table)
    console.print(f"targets: {TARGETS}")
    for project, r in results.items():
        if "failed" not in r:
            console.print(
                f"  {project}: graph analysis {r['cold']['analysis']} (see README, Speed)"
            )
        for text, ok in [] if "failed" in r else verdicts(r):
            console.print(f"  {project}: {'PASS' if ok else 'FAIL'} {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", nargs="+", default=["django", "mid"])
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="also cProfile one cold build")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        phase, root, cache, out = args.worker
        Path(out).write_text(json.dumps(worker(phase, Path(root), Path(cache))))
        return
    nproc = len(os.sched_getaffinity(0))
    print(f"nproc: {nproc}, python {sys.version.split()[0]}, targets: {TARGETS}")
    WORK.mkdir(exist_ok=True)
    peers = None if args.no_peers else ensure_peers()
    results = {}
    for name in args.project:
        root = prepare(name)
        print(f"{root.name}: {root}", flush=True)
        results[root.name] = measure(root, args.repeat, peers, args.profile) | {"root": str(root)}
    report = {"nproc": nproc, "targets": TARGETS, "projects": results}
    (WORK / "graph_speed.json").write_text(json.dumps(report, indent=2))
    print_table(results)
    print(f"nproc: {nproc}; JSON: {WORK / 'graph_speed.json'}")


if __name__ == "__main__":
    main()
