"""`make mutate`: mutation testing of the modules that decide the numbers, against the fast tests.

mutmut 3 (configured in pyproject's [tool.mutmut]) changes one small thing at a time in
kpi/engine.py, kpi/views/, kpi/people.py, kpi/baseline.py, kpi/rollups.py and kpi/ingest/plan.py
(a `<` for a `<=`, a dropped argument, a changed string) and runs the fast tests that execute the changed
function; a mutant that no test notices "survives". The run happens in a copy of the tree under
build/mutate/ (mutmut writes its mutants/ folder there), so the working tree is never mutated and
edits made meanwhile do not disturb it. The score and the survivors go into docs/testing.md
between the generated-section markers; survivors explained as equivalent in
scripts/equivalent_mutants.txt are marked so.

    python scripts/mutate.py                     # copy the working tree, run everything
    python scripts/mutate.py --ref HEAD          # copy a commit instead
    python scripts/mutate.py --only kpi/people.py --only kpi/baseline.py   # some modules
    python scripts/mutate.py --resume --only kpi/engine.py   # add a module to the last run
    python scripts/mutate.py --retest            # new test files: the unexplained survivors again
    python scripts/mutate.py --retest --fresh    # the same on a new copy of the tree, with the
                                                 # mutants a stopped run did not reach, every
                                                 # function changed since its module's run and
                                                 # every module new to only_mutate afresh
    python scripts/mutate.py --only kpi/ingest/plan.py --minutes 90   # stop after 90 minutes
    python scripts/mutate.py --report-only       # rewrite docs/testing.md from the kept results

Each module's last result (statuses, the survivors' diffs, the commit and date it ran on) is kept in
docs/mutation/<module>.json, so the report adds up runs of different modules on different days.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutate"
DOC = ROOT / "docs" / "testing.md"
KEPT = ROOT / "docs" / "mutation"  # each module's last result, so runs of some modules add up
EQUIVALENT = ROOT / "scripts" / "equivalent_mutants.txt"
BEGIN, END = "<!-- mutate:begin -->", "<!-- mutate:end -->"


def modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def copy_tree(ref: str | None, target: Path | None = None) -> None:
    """``target`` (the working copy) holds the files git knows of (tracked and new), from the
    tree or a commit."""
    target = target or WORK
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    if ref:
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        return
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_mutmut(names: list[str], children: int, minutes: float | None = None) -> float:
    """One `mutmut run` in the copy (only the mutants ``names`` match, when given); its seconds.
    With ``minutes``, the run is stopped then: what it checked so far is kept (mutmut records
    each mutant's result as it goes), the rest stays "not checked" for a later ``--retest
    --fresh``."""
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.Popen([str(mutmut), "run", "--max-children", str(children), *names],
                           cwd=WORK, env=env, start_new_session=True)
    try:
        code = run.wait(timeout=minutes * 60 if minutes else None)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGTERM)  # mutmut and the children testing mutants
        run.wait()
        print(f"stopped after {minutes:g} minutes; the mutants not reached stay 'not checked'")
    else:
        if code:
            raise SystemExit(f"mutmut run failed (exit code {code})")
    return time.monotonic() - started


def results() -> dict[str, dict[str, str]]:
    """module -> mutant name -> status, from mutmut's .meta files in the copy."""
    from mutmut.stats import status_by_exit_code

    out: dict[str, dict[str, str]] = {}
    for module in modules():
        meta = WORK / "mutants" / (module + ".meta")
        if meta.exists():
            codes = json.loads(meta.read_text())["exit_code_by_key"]
            out[module] = {k: status_by_exit_code[v] for k, v in codes.items()}
    return out


def diff(name: str) -> str:
    shown = subprocess.run([str(Path(sys.executable).with_name("mutmut")), "show", name],
                           cwd=WORK, capture_output=True, text=True).stdout
    lines = [line for line in shown.splitlines()
             if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    return "\n".join(lines)


def equivalent() -> dict[str, str]:
    """mutant name -> why it cannot change any result (scripts/equivalent_mutants.txt)."""
    if not EQUIVALENT.exists():
        return {}
    found = {}
    for line in EQUIVALENT.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(" ")
            found[name] = why.strip()
    return found


KILLED = ("killed", "timeout", "caught by type check")


def origin_of(ref: str | None) -> str:
    """What the copy was made of: the short sha of ``ref`` (a name like HEAD resolved), or the
    working tree's."""
    if not ref:
        return head()
    return subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def head() -> str:
    """The commit the copy was made from (+ when the working tree had changes)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout
    return git("rev-parse", "--short", "HEAD").strip() + ("+" if git("status", "--porcelain",
                                                                     "kpi") else "")


def keep(found: dict[str, dict[str, str]], only: list[str], seconds: float | None,
         commit: str) -> None:
    """Store the result of the modules this run covered in docs/mutation/."""
    KEPT.mkdir(exist_ok=True)
    for module, statuses in found.items():
        if only and module not in only:
            continue
        survivors = {n: diff(n) for n, st in statuses.items() if st == "survived"}
        (KEPT / (module.replace("/", ".") + ".json")).write_text(json.dumps(
            {"module": module, "commit": commit, "date": time.strftime("%Y-%m-%d"),
             "minutes": round(seconds / 60) if seconds else None, "statuses": statuses,
             "survivors": survivors}, indent=1, sort_keys=True) + "\n")


def kept() -> dict[str, dict]:
    out = {}
    for module in modules():
        path = KEPT / (module.replace("/", ".") + ".json")
        if path.exists():
            out[module] = json.loads(path.read_text())
    return out


def section(found: dict[str, dict]) -> str:
    explained = equivalent()
    lines = [BEGIN, "", "| module | mutants | run | killed | survived | equivalent | no test runs it "
             "| score | score where a test runs it | run on |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    totals: Counter[str] = Counter()
    survivors: list[tuple[str, str]] = []
    for module, result in found.items():
        statuses = result["statuses"]
        alive = [n for n, s in statuses.items() if s == "survived"]
        row = Counter(mutants=len(statuses),
                      run=sum(1 for s in statuses.values() if s != "not checked"),
                      killed=sum(1 for s in statuses.values() if s in KILLED),
                      survived=len(alive), equivalent=sum(1 for n in alive if n in explained),
                      untested=sum(1 for s in statuses.values() if s == "no tests"))
        totals.update(row)
        took = f", {result['minutes']} min" if result.get("minutes") else ""
        lines.append(_row(module, row) + f" {result['date']} ({result['commit']}{took}) |")
        survivors += [(n, result["survivors"].get(n, "")) for n in sorted(alive)]
    lines.append(_row("**all**", totals) + " |")
    lines += ["", "score: killed / (run - equivalent), a mutant no fast test runs counting as "
              "alive; the last score column leaves those out. A timeout counts as killed. Runs "
              "with `nice` on 2 shared cores.", ""]
    if survivors:
        lines += ["### Surviving mutants", ""]
        for name, change in survivors:
            why = explained.get(name)
            lines += [f"- `{name}`" + (f" — equivalent: {why}" if why else " — **not explained**"),
                      "", "  ```diff", *("  " + d for d in change.splitlines()), "  ```", ""]
    lines.append(END)
    return "\n".join(lines)


def _row(module: str, row: Counter[str]) -> str:
    judged = row["run"] - row["equivalent"]
    tested = judged - row["untested"]
    score = f"{100 * row['killed'] / judged:.1f}%" if judged else "-"
    where = f"{100 * row['killed'] / tested:.1f}%" if tested else "-"
    return (f"| {module} | {row['mutants']} | {row['run']} | {row['killed']} | {row['survived']} "
            f"| {row['equivalent']} | {row['untested']} | {score} | {where} |")  # + the run column


def write_doc(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else f"# Testing\n\n## Mutation testing\n\n{BEGIN}\n{END}\n"
    if BEGIN not in doc:
        doc += f"\n## Mutation testing\n\n{BEGIN}\n{END}\n"
    doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: text, doc, flags=re.S)
    DOC.write_text(doc)


def unchanged(module: str, commit: str) -> bool:
    """Whether ``module`` is the same in the working tree as in ``commit`` (so its mutants keep
    their names and a new copy may retest them)."""
    base = commit.rstrip("+")
    return subprocess.run(["git", "diff", "--quiet", base, "--", module], cwd=ROOT).returncode == 0


def functions(source: str) -> dict[str, str]:
    """Each function's source by its mutmut name ('_deal_status', 'Store.query')."""
    import ast

    tree, found = ast.parse(source), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = ast.get_source_segment(source, node) or ""
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{item.name}"] = ast.get_source_segment(source, item) or ""
    return found


def function_of(mutant: str) -> str:
    """'kpi.ingest.plan.x__deal_status__mutmut_12' -> '_deal_status';
    'kpi.store.xǁStoreǁquery__mutmut_3' -> 'Store.query'."""
    last = mutant.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]
    return ".".join(last.split("ǁ")[1:]) if last.startswith("xǁ") else last[2:]


def same_functions(module: str, commit: str, moved_from: str | None = None) -> set[str]:
    """The functions of ``module`` whose code is the same now as in ``commit``: their mutants
    keep their names and their results, whatever else changed in the module (``moved_from``:
    the file the module's functions were in at ``commit``, when they have moved since)."""
    base = commit.rstrip("+")
    then = subprocess.run(["git", "show", f"{base}:{moved_from or module}"], cwd=ROOT,
                          capture_output=True, text=True)
    if then.returncode:
        return set()
    old, now = functions(then.stdout), functions((ROOT / module).read_text())
    return {name for name, code in now.items() if old.get(name) == code}


def retest_names(fresh: bool) -> list[str]:
    """The unexplained survivors to run again: from the copy, or (``fresh``) from the kept
    results, in the functions whose code has not changed since they ran (with the mutants no test
    ran then: new tests may run them now; and those a run stopped by ``--minutes`` did not
    reach, so that a long run goes on where it stopped)."""
    explained = equivalent()
    if not fresh:
        return [n for statuses in results().values() for n, s in statuses.items()
                if s == "survived" and n not in explained]
    names = []
    for module, r in kept().items():
        same = same_functions(module, r["commit"], r.get("moved_from"))
        names += [n for n, s in r["statuses"].items()
                  if s in ("survived", "no tests", "not checked") and n not in explained
                  and function_of(n) in same]
    return names


def changed_functions() -> list[str]:
    """Name patterns of the mutants of every function changed (or added) since its module's
    kept run: run afresh with ``--retest --fresh``, their old results dropped."""
    patterns = []
    for module, r in kept().items():
        same = same_functions(module, r["commit"], r.get("moved_from"))
        now = functions((ROOT / module).read_text())
        prefix = module.removesuffix(".py").replace("/", ".")
        for name in now:
            if name not in same:
                cls, _, method = name.rpartition(".")
                patterns.append(f"{prefix}.xǁ{cls}ǁ{method}__mutmut_*" if cls
                                else f"{prefix}.x_{name}__mutmut_*")
    return patterns


def merge(found: dict[str, dict[str, str]], names: list[str], seconds: float | None,
          changed: list[str] = ()) -> None:
    """Put a retest's statuses of ``names`` into the kept results; for the functions ``changed``
    since the kept run, the new run's statuses replace the old ones."""
    import fnmatch

    wanted = set(names)
    for module, result in kept().items():
        statuses = found.get(module, {})
        fresh = {n: s for n, s in statuses.items()
                 if any(fnmatch.fnmatchcase(n, p) for p in changed)}
        hits = {n: statuses[n] for n in result["statuses"] if n in wanted and n in statuses}
        if not hits and not fresh:
            continue
        gone = {function_of(n) for n in fresh}
        result["statuses"] = {n: s for n, s in result["statuses"].items()
                              if function_of(n) not in gone or n in fresh}
        result["statuses"].update(hits)
        result["statuses"].update(fresh)
        result["survivors"] = {n: (result["survivors"].get(n) if n not in fresh else None)
                               or diff(n)
                               for n, st in result["statuses"].items() if st == "survived"}
        if fresh:  # every function's statuses are of the copy's code now (the others are the same)
            origin = WORK / ".copied-from"
            result["commit"] = origin.read_text().strip() if origin.exists() else result["commit"]
            result.pop("moved_from", None)  # and the module is where it was copied from
        result["retested"] = {"date": time.strftime("%Y-%m-%d"), "mutants": len(hits) + len(fresh),
                              "minutes": round(seconds / 60) if seconds else None,
                              "functions changed since": sorted(gone)}
        (KEPT / (module.replace("/", ".") + ".json")).write_text(
            json.dumps(result, indent=1, sort_keys=True) + "\n")


def names_of(modules: list[str]) -> list[str]:
    """mutmut name patterns of the mutants of ``modules`` ('kpi/people.py' -> 'kpi.people.*')."""
    return [m.removesuffix(".py").replace("/", ".") + ".*" for m in modules]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", help="mutate this commit instead of the working tree")
    parser.add_argument("--only", action="append", default=[], help="one module (repeatable)")
    parser.add_argument("--resume", action="store_true", help="keep the last copy and results")
    parser.add_argument("--retest", action="store_true",
                        help="copy new test files and run the unexplained survivors")
    parser.add_argument("--fresh", action="store_true",
                        help="with --retest: a new copy of the tree, and the kept survivors of "
                             "the modules unchanged since their run")
    parser.add_argument("--report-only", action="store_true", help="only rewrite docs/testing.md")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--minutes", type=float,
                        help="stop the run after this long and keep what it checked")
    args = parser.parse_args()
    seconds = None
    names = names_of(args.only)
    if args.retest and args.fresh:
        global WORK
        WORK = ROOT / "build" / "mutate-fresh"  # beside a run that may still use build/mutate
        names, changed = retest_names(fresh=True), changed_functions()
        new = [m for m in modules() if m not in kept()]  # added to only_mutate: run whole
        if args.only:  # the modules asked for alone
            prefixes = tuple(n.removesuffix("*") for n in names_of(args.only))
            names = [n for n in names if n.startswith(prefixes)]
            changed = [c for c in changed if c.startswith(prefixes)]
            new = [m for m in new if m in args.only]
        if names or changed or new:
            copy_tree(args.ref)
            (WORK / ".copied-from").write_text(origin_of(args.ref))
            seconds = run_mutmut(names_of(new) + changed + names, args.children, args.minutes)
            merge(results(), names, seconds, changed)
            if new:  # keep() of no module would write every module's statuses of this run
                keep(results(), new, seconds, (WORK / ".copied-from").read_text().strip())
        write_doc(section(kept()))
        print(f"retested {len(names)} survivors; wrote the mutation section of "
              f"{DOC.relative_to(ROOT)}")
        return
    if args.retest:
        for path in (ROOT / "tests").rglob("test_*.py"):  # new test files (the copy's code is
            target = WORK / path.relative_to(ROOT)      # as old as the copy: so are its tests)
            if target.parent.exists() and not target.exists():
                shutil.copy2(path, target)
        names = retest_names(fresh=False)
    if not args.report_only and (names or not args.retest):
        if not (args.resume or args.retest) or not WORK.exists():
            copy_tree(args.ref)
            (WORK / ".copied-from").write_text(origin_of(args.ref))
        origin = WORK / ".copied-from"  # the code the mutants were made of
        commit = origin.read_text().strip() if origin.exists() else "?"
        seconds = run_mutmut(names, args.children, args.minutes)
        keep(results(), [] if args.retest else args.only, seconds, commit)
    write_doc(section(kept()))
    print(f"wrote the mutation section of {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
