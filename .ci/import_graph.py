"""Which file of a crate's `src/` imports which, and whether any file sits on
an import cycle (imports, directly or through others, a file that imports it
back).

    python3 .ci/import_graph.py crates/brownout/src          # the graph, then the check
    python3 .ci/import_graph.py crates/brownout/src cycles   # the check only

A file imports another when it names an item of it: a `use` path or an inline
`crate::`/`super::`/`self::` path (`mod` declarations are structure, not
imports; the crate root is left out as a target). Exits 1 when a cycle exists.
"""
import os, re, sys
root = sys.argv[1]
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.relpath(os.path.join(d, f), root)
            files[p] = open(os.path.join(d, f)).read()

def modpath(p):
    parts = p[:-3].split('/')
    if parts[-1] in ('mod', 'lib'):
        parts = parts[:-1]
    return parts

bymod = {tuple(modpath(p)): p for p in files}

def resolve(segs):
    # longest prefix of segs that names a module file
    for n in range(len(segs), -1, -1):
        key = tuple(segs[:n])
        if key in bymod:
            return bymod[key]
    return None

def strip_comments(src):
    src = re.sub(r'//[^\n]*', '', src)
    return src

edges = {p: set() for p in files}
for p, src in files.items():
    me = modpath(p)
    is_mod = p.endswith('mod.rs') or p == 'lib.rs'
    code = strip_comments(src)
    # drop #[cfg(test)] mod tests { ... } blocks crudely: cut from '#[cfg(test)]\nmod tests' to end
    i = code.find('#[cfg(test)]\nmod tests')
    if i >= 0:
        code = code[:i]
    paths = []
    # use statements, possibly with braces
    # inline `mod x { ... }` blocks: extent of each, to resolve super:: inside them
    inline = []
    for mm in re.finditer(r'\bmod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{', code):
        depth = 0
        for j in range(mm.end() - 1, len(code)):
            if code[j] == '{': depth += 1
            elif code[j] == '}':
                depth -= 1
                if depth == 0: break
        inline.append((mm.start(), j, mm.group(1)))
    def scope(pos):
        return [name for (a, b, name) in inline if a <= pos <= b]
    for m in re.finditer(r'\buse\s+([^;]+);', code):
        here = me + scope(m.start())
        body = m.group(1).replace('\n', ' ')
        def expand(prefix, s):
            s = s.strip()
            if '{' in s:
                head, rest = s.split('{', 1)
                rest = rest.rsplit('}', 1)[0]
                depth = 0; cur = ''; items = []
                for ch in rest:
                    if ch == '{': depth += 1
                    if ch == '}': depth -= 1
                    if ch == ',' and depth == 0:
                        items.append(cur); cur = ''
                    else:
                        cur += ch
                items.append(cur)
                out = []
                for it in items:
                    if it.strip():
                        out += expand(prefix + head.strip().rstrip(':').split('::') if head.strip() else prefix, it)
                return out
            return [prefix + [x.strip() for x in s.split(' as ')[0].split('::') if x.strip()]]
        paths += [(here, x) for x in expand([], body)]
    for m in re.finditer(r'\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)', code):
        paths.append((me + scope(m.start()), m.group(1).split('::')))
    for here, segs in paths:
        segs = [s for s in segs if s]
        if not segs: continue
        if segs[0] == 'crate':
            target = segs[1:]
        elif segs[0] == 'super':
            base = list(here)
            while segs and segs[0] == 'super':
                base = base[:-1]; segs = segs[1:]
            target = base + segs
        elif segs[0] == 'self':
            target = list(here) + segs[1:]
        else:
            continue
        t = resolve(target)
        if t and t != p:
            # a parent file naming its own child module via `mod x;` is structure; `use self::x::..` counts
            edges[p].add(t)

# drop lib.rs as a target (crate root re-exports), keep as source
for p in edges:
    edges[p].discard('lib.rs')

def reach(a):
    seen = set(); stack = [a]
    while stack:
        x = stack.pop()
        for y in edges[x]:
            if y not in seen:
                seen.add(y); stack.append(y)
    return seen

cycles = []
for p in sorted(files):
    if p == 'lib.rs': continue
    r = reach(p)
    if p in r:
        cycles.append(p)
mode = sys.argv[2] if len(sys.argv) > 2 else 'graph'
if mode == 'graph':
    for p in sorted(edges):
        if p == 'lib.rs': continue
        print(f"{p:28} -> {', '.join(sorted(edges[p])) or '(nothing)'}")
print(f"\nfiles on an import cycle: {len(cycles)}")
for c in cycles:
    print("  ", c)
sys.exit(1 if cycles else 0)
