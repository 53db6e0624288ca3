#!/usr/bin/env python3
"""Every external program the tests, benchmarks and install scripts run must
come from a Debian package that install/deps.sh installs.

Usage: check_programs.py SOURCE_DIR

1. Scan the sources for the programs they run: the commands of the shell
   scripts under tests/, bench/ and install/ (heredoc bodies and array
   literals left out), the absolute program paths and the shell command lines
   (formats of `sh(...)`, of `snprintf(cmd|script|line, ...)` in files that
   hand them to system/popen/sh -c) of the C sources under tests/ and bench/,
   the spawn/spawnSync/execFile calls and the Chromium path of the browser
   tests, and the find_program() calls of the CMake files.
2. Every name found must be in PROGRAMS below (an external program) or in
   NOT_PROGRAMS (shell keywords and builtins, functions the scripts define):
   a name in neither fails the check, so a new program cannot slip in
   unnoticed.
3. Every program in PROGRAMS is resolved on PATH (following symlinks and
   Debian alternatives with realpath) and `dpkg -S` must name its package,
   which must be one that install/deps.sh installs (parsed out of its
   packages=(...) and packages+=(...) lines) or one they depend on (apt
   installs those with them), or an Essential or Priority: required package
   (which Debian guarantees on every system: coreutils, grep, sed, apt, mawk).
   Programs that deps.sh installs only when missing (`command -v X ||
   packages+=(P)`: Node.js may come with the machine) are accepted from
   elsewhere when present.
"""
import os
import re
import shutil
import subprocess
import sys

# External programs run by tests/, bench/ and install/.
PROGRAMS = {
    # Essential packages
    "bash", "sh", "cat", "chmod", "cmp", "cp", "cut", "date", "dirname", "env", "find",
    "grep", "head", "id", "ls", "mkdir", "mktemp", "mv", "nproc", "rm", "sed",
    "sha256sum", "sleep", "sort", "stat", "tail", "tee", "timeout", "touch", "tr",
    "uniq", "wc", "xargs", "basename", "od", "seq", "dd", "diff", "gzip", "tar",
    "readlink", "realpath", "dpkg", "dpkg-query", "csplit", "fold",
    # Priority: required packages (apt, mawk)
    "apt-get", "awk",
    # from install/deps.sh
    "cmake", "ctest", "pkg-config", "sqlite3", "openssl", "zbarimg", "fontforge", "clang",
    "gcc", "cc", "make", "curl", "python3", "wrk", "pdftoppm", "pdftotext", "pdffonts", "pdfimages",
    "pdfinfo", "convert", "identify", "xxd", "qrencode", "node", "npm", "chromium",
    "pcscd", "flock",
    # the national tier's tests: the PostgreSQL server and client (postgresql), run as its
    # own user (runuser, util-linux; chown, coreutils)
    "psql", "runuser", "chown",
}

# Names that look like commands but are not programs from a package.
NOT_PROGRAMS = {
    # shell keywords and builtins
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "in", "function", "select", "time", "set", "unset", "export", "local", "readonly",
    "return", "exit", "shift", "trap", "cd", "pwd", "source", ".", "eval", "exec", "wait",
    "read", "declare", "typeset", "command", "type", "hash", "builtin", "break", "continue",
    "let", "shopt", "getopts", "umask", "ulimit", "alias", "unalias", "jobs", "fg", "bg",
    "disown", "pushd", "popd", "dirs", "mapfile", "readarray", "caller", "enable", "help",
    "logout", "printf", "echo", "test", "true", "false", "kill", ":", "[", "[[", "]]", "{", "}",
    "!",
    # the program under test (passed in as $B, $CIVREG, CIVREG_BIN)
    "civreg",
    # deps.sh runs it only when it is present and deps.sh is not run as root
    "sudo",
    # words of a shell parameter message (${4:?standby needs the primary folder})
    "needs",
}


def fail(msg):
    print("check_programs: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- shell ------------------------------------------------------------------

SPLIT = re.compile(r"\|\||&&|[|;&`]|\$\(|<\(|>\(|\(|\)\s*\{|\bthen\b|\bdo\b|\belse\b|\{\s")
WORD = re.compile(r"^[A-Za-z][A-Za-z0-9._+-]*$")
LEADING = {"if", "elif", "while", "until", "!", "time", "exec", "command", "then", "do", "else",
           "sudo", "nohup", "env", "timeout", "xargs"}


def strip_comment(line):
    out, q = [], None
    for i, c in enumerate(line):
        if q:
            if c == q:
                q = None
        elif c in "'\"":
            q = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t;"):
            break
        out.append(c)
    return "".join(out)


def blank_quotes(s):
    """Drop comments and the data inside quotes (awk and python programs, SQL,
    messages), keeping the command substitutions inside double quotes."""
    out = []

    def code(i, closer):
        n = len(s)
        while i < n:
            c = s[i]
            if closer and c == closer:
                return i + 1
            if c == "\\":
                out.append(s[i:i + 2])
                i += 2
            elif c == "'":
                j = s.find("'", i + 1)
                out.append("''")
                i = n if j < 0 else j + 1
            elif c == '"':
                out.append('"')
                i = dquote(i + 1)
                out.append('"')
            elif c == "#" and (i == 0 or s[i - 1] in " \t\n;"):
                j = s.find("\n", i)
                i = n if j < 0 else j
            elif s.startswith("$(", i) or s.startswith("<(", i):
                out.append(s[i:i + 2])
                i = code(i + 2, ")")
                out.append(")")
            elif c == "(":
                out.append(c)
                i = code(i + 1, ")")
                out.append(")")
            else:
                out.append(c)
                i += 1
        return i

    def dquote(i):
        n = len(s)
        while i < n:
            c = s[i]
            if c == "\\":
                i += 2
            elif c == '"':
                return i + 1
            elif s.startswith("$(", i):
                out.append(" $(")
                i = code(i + 2, ")")
                out.append(") ")
            elif c == "`":
                j = s.find("`", i + 1)
                out.append(" `" + (s[i + 1:j] if j > 0 else "") + "` ")
                i = n if j < 0 else j + 1
            else:
                i += 1
        return i

    code(0, None)
    return "".join(out)


def shell_words(text, functions):
    """Command names in shell TEXT (heredocs, quoted data, array literals removed)."""
    names = []
    kept, heredoc = [], None
    for raw in text.split("\n"):
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?([A-Za-z_]+)['\"]?", raw)
        if m and not re.search(r"<<<", raw):
            heredoc = m.group(1)
            raw = raw[:m.start()]
        kept.append(raw)
    in_array, continued = False, ""
    for line in blank_quotes("\n".join(kept)).split("\n"):
        if in_array:
            if ")" in line:
                in_array = False
            continue
        if re.match(r"^\s*[A-Za-z_][A-Za-z0-9_]*\+?=\(", line) and ")" not in line:
            in_array = True
            continue
        line = re.sub(r"^\s*[A-Za-z_][A-Za-z0-9_]*\+?=\([^)]*\)", "", line)
        fm = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\(\s*\)", line)
        if fm:
            functions.add(fm.group(1))
            line = line[fm.end():]
        if continued:
            line = continued + " " + line
            continued = ""
        if line.rstrip().endswith("\\"):
            continued = line.rstrip()[:-1]
            continue
        for seg in SPLIT.split(line):
            names.extend(segment_command(seg))
    # `command -v X` names a program the script looks for
    names.extend(re.findall(r"command\s+-v\s+([A-Za-z][A-Za-z0-9._+-]*)", text))
    return names


def segment_command(seg):
    toks = seg.strip().split()
    while toks:
        t = toks[0]
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\+?=", t):       # assignment
            toks.pop(0)
        elif t in LEADING or t.startswith("-"):               # prefix words, their options
            toks.pop(0)
        elif re.match(r"^\d*[<>]", t):                         # redirection
            toks.pop(0)
            if re.match(r"^\d*[<>]+&?$", t) and toks:
                toks.pop(0)
        elif t.endswith(")") and not t.startswith("("):       # case pattern
            toks.pop(0)
        elif t.startswith('"${') or t.startswith("${"):       # "${SUDO[@]}" prefix
            if t.endswith("[@]}\"") or t.endswith("[@]}"):
                toks.pop(0)
            else:
                return []
        else:
            break
    if not toks:
        return []
    t = toks[0]
    if t.startswith("/"):
        t = os.path.basename(t)
    return [t] if WORD.match(t) else []


# ---- C, JavaScript, CMake ---------------------------------------------------

C_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def c_literals_after(text, pos):
    """The adjacent string literals starting at the first one after POS."""
    out = []
    m = C_STRING.search(text, pos)
    while m and text[pos:m.start()].strip() in ("", ",") or (
            m and not out and re.fullmatch(r"[\s\w&,()*]*", text[pos:m.start()])):
        out.append(m.group(1))
        pos = m.end()
        m = C_STRING.search(text, pos)
        if m and text[pos:m.start()].strip() != "":
            break
    return bytes("".join(out), "utf-8").decode("unicode_escape", "ignore")


def c_programs(text, functions):
    names = [m.group(2) for m in re.finditer(r'"(/usr)?/s?bin/([A-Za-z0-9._+-]+)"', text)]
    names += [m.group(1) for m in re.finditer(r'"/usr/bin/([A-Za-z0-9._+-]+)\s', text)]
    shells = re.search(r"\bsystem\s*\(|\bpopen\s*\(|\"-c\"", text) is not None
    calls = []
    if shells:
        calls += [m.end() for m in re.finditer(r"\b(?:v?snprintf)\s*\(\s*(?:cmd|script|line)\s*,"
                                               r"\s*sizeof\s*\w+\s*,", text)]
    calls += [m.end() for m in re.finditer(r"\bsh(?:_ok)?\s*\(\s*(?:&\w+\s*,\s*)?", text)]
    for pos in calls:
        cmd = c_literals_after(text, pos)
        cmd = re.sub(r"%[-0-9.]*l*[sdizuxX]", "@", cmd).replace("%%", "%")
        names += shell_words(cmd, functions)
    return names


def js_programs(text):
    names = re.findall(r"\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*'([A-Za-z0-9._+/-]+)'", text)
    names += re.findall(r"'/usr/bin/([A-Za-z0-9._+-]+)'", text)
    return [os.path.basename(n) for n in names]


def cmake_programs(text):
    return re.findall(r"find_program\(\s*\S+\s+(?:NAMES\s+)?([A-Za-z0-9._+-]+)", text)


def scan(src):
    found = {}
    functions = set()

    def add(names, where):
        for n in names:
            found.setdefault(n, where)

    for top in ("tests", "bench", "install"):
        for d, subdirs, files in os.walk(os.path.join(src, top)):
            subdirs[:] = [s for s in subdirs if s not in ("node_modules", "data")]
            for f in sorted(files):
                p = os.path.join(d, f)
                rel = os.path.relpath(p, src)
                try:
                    text = open(p, encoding="utf-8", errors="replace").read()
                except OSError:
                    continue
                if f.endswith(".sh") or text.startswith("#!/usr/bin/env bash") or \
                        text.startswith("#!/bin/sh"):
                    add(shell_words(text, functions), rel)
                elif f.endswith(".c"):
                    add(c_programs(text, functions), rel)
                elif f.endswith(".mjs") or f.endswith(".js"):
                    add(js_programs(text), rel)
                elif f.endswith(".cmake") or f == "CMakeLists.txt":
                    add(cmake_programs(text), rel)
    for n in list(found):
        if n in functions:
            del found[n]
    return found


# ---- deps.sh and dpkg -------------------------------------------------------

def deps_packages(src):
    text = open(os.path.join(src, "install", "deps.sh"), encoding="utf-8").read()
    pkgs, conditional = set(), {}
    # comments are stripped first: a ")" in one must not end the list
    code = "\n".join(strip_comment(line) for line in text.split("\n"))
    for m in re.finditer(r"packages\+?=\(([^)]*)\)", code):
        for line in m.group(1).split("\n"):
            pkgs.update(w for w in line.split() if WORD.match(w) or "-" in w)
    for m in re.finditer(r"command -v (\S+)[^\n|]*\|\|\s*packages\+=\((\S+)\)", text):
        conditional[m.group(1)] = m.group(2)
    return pkgs, conditional


_OWNERS = None


def dpkg_owner(path):
    """The packages whose file list holds PATH (what `dpkg -S` answers, read
    from dpkg's database once instead of one dpkg run per file)."""
    global _OWNERS
    if _OWNERS is None:
        _OWNERS = {}
        info = "/var/lib/dpkg/info"
        for f in os.listdir(info):
            if not f.endswith(".list"):
                continue
            pkg = f[:-5].split(":")[0]
            with open(os.path.join(info, f), encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    _OWNERS.setdefault(line.rstrip("\n"), []).append(pkg)
    cands = [path]
    for a, b in (("/usr/bin/", "/bin/"), ("/usr/sbin/", "/sbin/"), ("/bin/", "/usr/bin/"),
                 ("/sbin/", "/usr/sbin/")):
        if path.startswith(a):
            cands.append(b + path[len(a):])
    for c in cands:
        if c in _OWNERS:
            return _OWNERS[c]
    return None


def essential(pkg):
    """Essential or Priority: required: on every Debian system (debootstrap)."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Essential} ${Priority}", pkg],
                       capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.split() in (["yes", "required"], ["no", "required"],
                                                       ["yes", "important"], ["yes", "optional"])


def installed_closure(roots):
    """ROOTS and every installed package they depend on (apt installs those
    with them: python3 brings python3.11-minimal, imagemagick
    imagemagick-6.q16)."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Depends}, ${Pre-Depends}\n"],
                       capture_output=True, text=True)
    graph = {}
    for line in r.stdout.splitlines():
        pkg, _, deps = line.partition("\t")
        alts = []
        for d in deps.split(","):
            for a in d.split("|"):
                a = a.strip().split(" ")[0].split(":")[0]
                if a:
                    alts.append(a)
        graph[pkg] = alts
    seen, todo = set(), [p for p in roots if p in graph]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(d for d in graph.get(p, []) if d in graph and d not in seen)
    return seen


def main():
    if len(sys.argv) != 2:
        fail("usage: check_programs.py SOURCE_DIR")
    src = sys.argv[1]
    if shutil.which("dpkg") is None:
        print("check_programs: dpkg missing: not a Debian system, skipped")
        sys.exit(77)
    found = scan(src)
    unknown = sorted(n for n in found if n not in PROGRAMS and n not in NOT_PROGRAMS)
    if unknown:
        fail("programs run by the sources but not listed in tests/check_programs.py "
             "(add each to PROGRAMS and its package to install/deps.sh): " +
             ", ".join("%s (%s)" % (n, found[n]) for n in unknown))
    pkgs, conditional = deps_packages(src)
    closure = installed_closure(pkgs)
    problems = []
    used = sorted(n for n in found if n in PROGRAMS)
    for name in used:
        path = shutil.which(name)
        if path is None:
            problems.append("%s (run by %s) is not installed" % (name, found[name]))
            continue
        real = os.path.realpath(path)
        owners = dpkg_owner(real)
        if owners is None and name in conditional:
            continue  # deps.sh accepts a copy the machine came with
        if owners is None:
            # a copy outside Debian's folders (pyenv, /usr/local) shadows it on
            # this PATH: the Debian one must still be there
            for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
                p = os.path.join(d, name)
                if os.path.exists(p) and dpkg_owner(os.path.realpath(p)) is not None:
                    print("check_programs: note: %s on PATH is %s, not Debian's %s"
                          % (name, real, p))
                    real = os.path.realpath(p)
                    owners = dpkg_owner(real)
                    break
        if owners is None:
            problems.append("%s -> %s belongs to no Debian package" % (name, real))
            continue
        if not any(o in closure or essential(o) for o in owners):
            problems.append("%s -> %s comes from %s, which install/deps.sh does not install "
                            "(run by %s)" % (name, real, ", ".join(owners), found[name]))
    if problems:
        fail("\n  " + "\n  ".join(problems))
    print("check_programs: %d programs run by tests/, bench/ and install/, each from a package "
          "install/deps.sh installs or an Essential one: %s" % (len(used), " ".join(used)))


if __name__ == "__main__":
    main()
