#!/usr/bin/env python3
"""Finds source files that call into each other in a circle.

A file A depends on a file B when A calls a function that B defines (tl_* functions
with external linkage, found by their definitions at the start of a line). Every
strongly connected group of two or more files is printed; the exit status is 1 if
there is one. Usage: circles.py DIR... (every *.c below each DIR)."""
import os
import re
import sys

DEF = re.compile(r'^(?:[A-Za-z_][\w \t\*]*?[\s\*])?(tl_\w+)\s*\([^;]*$')
CALL = re.compile(r'\b(tl_\w+)\s*\(')


def sources(dirs):
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith('.c'):
                    yield os.path.join(root, f)


def strip(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def main(dirs):
    defined, calls = {}, {}
    for path in sources(dirs):
        text = strip(open(path, encoding='utf-8').read())
        for line in text.splitlines():
            m = DEF.match(line)
            if m and not line.startswith(('static', '\t', ' ')):
                defined.setdefault(m.group(1), path)
        calls[path] = set(CALL.findall(text))
    graph = {f: {defined[c] for c in cs if c in defined and defined[c] != f}
             for f, cs in calls.items()}
    # Tarjan's strongly connected components
    index, low, stack, on, groups, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    for g in groups:
        print('files that call into each other in a circle:')
        for f in g:
            print('  %s -> %s' % (f, ', '.join(sorted(x for x in graph[f] if x in g))))
    return 1 if groups else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:] or ['src', 'drivers']))
