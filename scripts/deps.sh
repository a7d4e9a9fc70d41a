#!/bin/sh
# deps.sh: installs the Debian packages ft needs when they are missing (make deps; make check/demo call it).
# Rule: check first with dpkg, touch apt only for what is absent; without root, say what to run.
set -eu
# Build: C and C++ compilers (the SentencePiece shim), make, pkg-config and the libraries. Tests and benchmarks:
# jq (the clean benchmark's peer), python3 + python3-sentencepiece (tokenizer golden tests), sentencepiece
# (spm_encode, the tokenize benchmark's peer), python3-numpy (the dedup benchmark's peer), python3-regex (the Qwen2
# pre-tokenizer pattern in the byte-level BPE golden test), python3-zstandard and zstd (the MDS layout test), time
# (GNU time: the benchmarks' peak RSS). Optional: clang + its runtime (libFuzzer targets, FT_DEPS_FUZZ=1) and
# python3-torch (the eval benchmark's PyTorch peer, FT_DEPS_BENCH=1, which make bench sets).
PKGS="gcc g++ make pkg-config libcjson-dev libutf8proc-dev libopencc-dev libopencc-data libxxhash-dev libzstd-dev
      libsentencepiece-dev jq time python3 python3-sentencepiece sentencepiece python3-numpy python3-regex python3-zstandard zstd"
[ "${FT_DEPS_FUZZ:-0}" = 1 ] && PKGS="$PKGS clang libclang-rt-dev"
[ "${FT_DEPS_BENCH:-0}" = 1 ] && PKGS="$PKGS python3-torch"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "ft: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ft: not root and no sudo: run 'apt-get install$missing' as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
