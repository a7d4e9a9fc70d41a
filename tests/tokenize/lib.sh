# tests/tokenize/lib.sh: sourced by the ft-tokenize CLI tests (tests/cli/t300*-tokenize-*.sh) and by
# tests/bench/tokenize.sh after their own setup: finds a Python 3 with SentencePiece's binding
# (python3-sentencepiece; a pyenv or venv python3 first on PATH often lacks it, so /usr/bin/python3 is
# tried too) and names the reference.
# Sets: tok_dir (this folder), ref (firefly_ref.py), spm_py (the python, empty when none has
# sentencepiece), spm_py_why (why not, for the SKIP line).
tok_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ref=$tok_dir/firefly_ref.py
spm_py="" spm_py_why="no python3 with the sentencepiece module (Debian python3-sentencepiece)"
for _p in ${FT_PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$_p" >/dev/null 2>&1 && "$_p" -c 'import sentencepiece' >/dev/null 2>&1; then
        spm_py=$(command -v "$_p")
        break
    fi
done
unset _p

# ft_tokenize_has OPTION: true when the built ft-tokenize's --help names OPTION (a test of an option the
# tool does not have yet is skipped, not failed).
ft_tokenize_has() {
    "$build/bin/ft-tokenize" --help 2>/dev/null | grep -q -- "$1"
}

# same_tokens GOT WANT MODEL: cmp; on a difference, prints the first differing record and where its
# tokens part (tests/tokenize/first_diff.py) and fails.
same_tokens() {
    cmp -s "$1" "$2" && return 0
    echo "$1 and $2 differ:" >&2
    "$spm_py" "$tok_dir/first_diff.py" --tokenizer "$3" "$1" "$2" >&2
    return 1
}
