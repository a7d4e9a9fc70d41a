# lib.sh: sourced by every CLI test: a temp dir of its own, the built tools on PATH, TAP helpers.
# Rule: each test_expect_* runs its body in a subshell, so one failing step never hides the next test.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FT_BUILD:-$top/build}
export PATH="$build/bin:$PATH"
if [ -n "${FT_TESTDATA:-}" ]; then shared=$FT_TESTDATA; else shared=$(cd "$top/../shared" 2>/dev/null && pwd); fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ft-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
test_count=0
test_failed=0

test_expect_success() { # name body
    test_count=$((test_count + 1))
    if (set -e; eval "$2") >"$tmp/.out" 2>&1; then
        echo "ok $test_count - $1"
    else
        echo "not ok $test_count - $1"
        sed 's/^/#   /' "$tmp/.out" | tail -n 30
        test_failed=$((test_failed + 1))
    fi
}

test_skip() { # name reason
    test_count=$((test_count + 1))
    echo "ok $test_count - $1 # SKIP $2"
}

# need_data PATH...: true when every path exists under the shared test data.
need_data() {
    [ -n "$shared" ] || return 1
    for p in "$@"; do [ -e "$shared/$p" ] || return 1; done
}

test_done() {
    echo "1..$test_count"
    [ "$test_failed" -eq 0 ]
}

# expect_eq GOT WANT [what]
expect_eq() {
    if [ "$1" != "$2" ]; then
        echo "${3:-value}: got '$1', want '$2'" >&2
        return 1
    fi
}

# doc_examples DOC TOOL MIN: runs every ```sh block of the manual DOC as a test; when a ```text block follows
# it, the output must be exactly that text. Fails when fewer than MIN examples were found.
doc_examples() {
    local doc=$1 tool=$2 min=$3 sh n name
    awk -v dir="$tmp" '
        /^```sh$/   { n++; f = dir "/ex." n ".sh"; inblk = 1; next }
        /^```text$/ { f = dir "/ex." n ".out"; inblk = 1; next }
        /^```$/     { inblk = 0; next }
        inblk       { print > f }
    ' "$doc"
    local found=0
    for sh in ex.*.sh; do
        [ -f "$sh" ] || continue
        found=$((found + 1))
        n=${sh#ex.}; n=${n%.sh}
        name="$(basename "$doc") example $n: $(grep -m1 -o "$tool[^|<>]*" "$sh" | head -1 | cut -c1-60)"
        if [ -f "ex.$n.out" ]; then
            test_expect_success "$name" "bash -e $sh >got.$n && diff -u ex.$n.out got.$n"
        else
            test_expect_success "$name" "bash -e $sh >/dev/null"
        fi
    done
    [ "$found" -ge "$min" ] || { echo "not ok - fewer than $min examples found in $doc"; exit 1; }
}
