#!/usr/bin/env python3
"""Fail when the modules of a crate depend on each other in a cycle.

Reads every `.rs` file under each crate's `src/`, collects the `crate::` and `super::`
paths its code names (comments are ignored), and resolves each one to the module file it
lands in. A dependency between two modules counts between their ancestors that are
siblings: `level::environment::deep` naming `support::prng` is the edge `level -> support`
among the crate root's children. A parent and its own descendants may name each other
freely (a child is a part of its parent). Every set of siblings must form a DAG.

Usage: scripts/check_module_cycles.py [CRATE_DIR ...]   (default: every crates/*)
Exit 0 when there is no cycle, 1 when there is one (each cycle printed), 2 on bad input.
"""

import pathlib
import re
import sys

PATH_RE = re.compile(r"\b(crate|super)((?:::\w+)+|::\{)")
GROUP_RE = re.compile(r"\bcrate::\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
LINE_COMMENT_RE = re.compile(r"//.*")
BLOCK_COMMENT_RE = re.compile(r"/\*.*?\*/", re.S)
STRING_RE = re.compile(r'"(?:\\.|[^"\\])*"')


def module_path(src: pathlib.Path, file: pathlib.Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip(code: str) -> str:
    code = BLOCK_COMMENT_RE.sub("", code)
    code = STRING_RE.sub('""', code)
    return "\n".join(LINE_COMMENT_RE.sub("", line) for line in code.splitlines())


def named_paths(code: str, here: tuple, is_dir_module: bool):
    """Yields the absolute module paths (tuples) that `code` names."""
    for group in GROUP_RE.finditer(code):
        depth, item = 0, ""
        for char in group.group(1) + ",":
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            if char == "," and depth == 0:
                head = item.strip().split("{")[0]
                names = [n for n in head.split("::") if n.strip()]
                if names and names[0] != "self":
                    yield tuple(n.strip() for n in names)
                item = ""
            else:
                item += char
    for match in PATH_RE.finditer(code):
        names = [n for n in match.group(2).split("::") if n and n != "{"]
        if match.group(1) == "crate":
            yield tuple(names)
        else:
            # `super` from a file module `a/b.rs` is `a`; from `a/b/mod.rs` it is `a` too.
            base = list(here[:-1])
            while names and names[0] == "super":
                base = base[:-1]
                names = names[1:]
            yield tuple(base + names)


def resolve(path: tuple, modules: set) -> tuple:
    for length in range(len(path), -1, -1):
        if path[:length] in modules:
            return path[:length]
    return ()


def find_cycle(graph: dict):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def check_crate(crate: pathlib.Path) -> int:
    src = crate / "src"
    files = sorted(f for f in src.rglob("*.rs") if f.name != "main.rs")
    modules = {module_path(src, f) for f in files}
    graphs = {}
    for file in files:
        here = module_path(src, file)
        code = strip(file.read_text())
        for named in named_paths(code, here, file.name == "mod.rs"):
            target = resolve(named, modules)
            common = 0
            while common < min(len(here), len(target)) and here[common] == target[common]:
                common += 1
            if common == len(here) or common == len(target):
                continue  # ancestor and descendant
            parent = here[:common]
            graphs.setdefault(parent, {}).setdefault(here[common], set()).add(target[common])
    failures = 0
    for parent in sorted(graphs):
        cycle = find_cycle(graphs[parent])
        if cycle:
            where = "::".join(("crate",) + parent)
            print(f"{crate.name}: module cycle under {where}: {' -> '.join(cycle)}")
            failures += 1
    if not failures:
        count = sum(len(g) for g in graphs.values())
        print(f"{crate.name}: {len(modules)} modules, {count} with dependencies, no cycle")
    return failures


def main(argv) -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    crates = [pathlib.Path(a) for a in argv] or sorted((root / "crates").iterdir())
    for crate in crates:
        if not (crate / "src").is_dir():
            print(f"not a crate directory (no src/): {crate}", file=sys.stderr)
            return 2
    return 1 if sum(check_crate(c) for c in crates) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
