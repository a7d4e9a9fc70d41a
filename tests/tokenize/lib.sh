# tests/tokenize/lib.sh: sourced by the ft-tokenize CLI tests (tests/cli/t300*-tokenize-*.sh) and by
# tests/bench/tokenize.sh after their own setup: finds a Python 3 with SentencePiece's binding
# (python3-sentencepiece; a pyenv or venv python3 first on PATH often lacks it, so /usr/bin/python3 is
# tried too) and names the reference.
# Sets: tok_dir (this folder), ref (firefly_ref.py), spm_py (the python, empty when none has
# sentencepiece), spm_py_why (why not, for the SKIP line), and bpe_py, bpe_py_why likewise for the regex
# module, which the byte-level BPE (Qwen) reference needs.
tok_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ref=$tok_dir/firefly_ref.py
# python_with MODULE: the first of $FT_PYTHON, python3 and /usr/bin/python3 that imports MODULE (empty
# when none does).
python_with() {
    local p
    for p in ${FT_PYTHON:-} python3 /usr/bin/python3; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c "import $1" >/dev/null 2>&1; then
            command -v "$p"
            return
        fi
    done
}
spm_py=$(python_with sentencepiece) spm_py_why="no python3 with the sentencepiece module (Debian python3-sentencepiece)"
# The byte-level BPE reference (firefly_ref.BpeTokenizer) needs the regex module instead.
bpe_py=$(python_with regex) bpe_py_why="no python3 with the regex module (Debian python3-regex)"

# clean_inputs: the golden tests' inputs in the current directory: dummy.jsonl (the Firefly file as it is:
# its last line has no newline), moss.jsonl and meta.jsonl (every MOSS-003 sample cleaned as the pipeline
# does, the second with --keep-meta: a "system" in every record), moss-sub.jsonl (every 8th of moss.jsonl)
# and meta-sub.jsonl (every 16th of meta.jsonl).
clean_inputs() {
    local moss=$shared/data/moss/SFT_data/conversations F
    cp "$shared/data/firefly/dummy_data.jsonl" dummy.jsonl &&
        find "$moss" -name '*.json' | LC_ALL=C sort >files &&
        mapfile -t F <files &&
        ft-clean -q --moss-tools=strip -o moss.jsonl "${F[@]}" &&
        ft-clean -q --moss-tools=strip --keep-meta -o meta.jsonl "${F[@]}" &&
        awk 'NR % 8 == 1' moss.jsonl >moss-sub.jsonl &&
        awk 'NR % 16 == 5' meta.jsonl >meta-sub.jsonl
}

# ft_tokenize_has OPTION: true when the built ft-tokenize's --help names OPTION (a test of an option the
# tool does not have yet is skipped, not failed).
ft_tokenize_has() {
    "$build/bin/ft-tokenize" --help 2>/dev/null | grep -q -- "$1"
}

# same_tokens GOT WANT MODEL: cmp; on a difference, prints the first differing record and where its
# tokens part (tests/tokenize/first_diff.py; MODEL: a SentencePiece file or a byte-level BPE directory)
# and fails.
same_tokens() {
    cmp -s "$1" "$2" && return 0
    echo "$1 and $2 differ:" >&2
    local py=$spm_py
    [ -d "$3" ] && py=$bpe_py # a byte-level BPE directory
    "$py" "$tok_dir/first_diff.py" --tokenizer "$3" "$1" "$2" >&2
    return 1
}
