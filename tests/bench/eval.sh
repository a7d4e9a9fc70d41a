#!/usr/bin/env bash
# eval.sh: (1) ft-eval's prefix reuse: tokens forwarded over the whole C-Eval val split (52 subjects, 1,346
# questions, 5-shot, prompts uncut) with each subject's shared prefix computed once, against the tokens that
# running every prompt from its start would forward; target <= 1/3. (2) The model core's forward throughput: stories260K (Llama, ../shared/models/stories260K/hf) on one
# batch of B x T tokens through ft_model_forward (cpu backend, OpenMP on every core) beside PyTorch
# (Debian python3-torch, tests/bench/eval_torch.py: the same Llama forward written with torch ops, as many
# threads) in the same run: tokens/s of each and the ratio against the target (>= 2x PyTorch's tokens/s).
# Rule: both time the forward alone (weights loaded, one warm-up pass, fastest of RUNS passes) on the same
# ids; the last position's logits must agree (checksum) or the run is broken; a missed target prints FAIL
# and exits 0. FT_BENCH_B, FT_BENCH_T, FT_BENCH_RUNS change the batch and passes; OMP_NUM_THREADS (ft) and
# FT_BENCH_THREADS (PyTorch) the threads; FT_BENCH_PYTHON the interpreter that has torch. Both run under the
# same OMP_WAIT_POLICY, passive unless set: on a machine shared with other jobs, OpenMP threads that spin at
# each barrier fight those jobs for the cores and make both sides several times slower and erratic (measured
# here: ft 0.24-0.55 s spinning vs 0.12-0.15 s passive, PyTorch 2.6-3.2 s vs 0.9-1.5 s).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O="$top/$O" ;; esac
if [ -n "${FT_TESTDATA:-}" ]; then shared=$FT_TESTDATA; else shared=$(cd "$top/../shared" 2>/dev/null && pwd); fi
B=${FT_BENCH_B:-8}
T=${FT_BENCH_T:-256}
RUNS=${FT_BENCH_RUNS:-5}
TARGET_RATIO=2
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
model=${shared:+$shared/models/stories260K/hf}
python=${FT_BENCH_PYTHON:-/usr/bin/python3}

if [ -z "$model" ] || [ ! -f "$model/model.safetensors" ]; then
    echo "# SKIP eval: stories260K not found (../shared/models/stories260K/hf or \$FT_TESTDATA)"
    exit 0
fi
if ! "$python" -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "# SKIP eval: PyTorch, the peer, is not installed for $python (Debian package python3-torch)"
    exit 0
fi
if [ ! -f "$O/libft.a" ]; then
    echo "eval: '$O/libft.a' is not built (run make)" >&2
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ft-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# (1) Prefix reuse over the C-Eval val split. --max-length 8192 keeps every prompt whole (stories260K's 512
# positions would cut them and hide the shared prefix); one thread, as ft-eval picks for this model size.
ceval=$shared/data/ceval
if [ -f "$ceval/mapping.json" ] && [ -x "$O/bin/ft-eval" ]; then
    if ! "$O/bin/ft-eval" -q --threads 1 --model "$model" --tokenizer "$shared/models/stories260K/tok512.model" \
        --task ceval --data "$ceval" --max-length 8192 --json "$tmp/ceval.json" >/dev/null 2>"$tmp/ceval.err"; then
        echo "eval: ft-eval failed:" >&2; cat "$tmp/ceval.err" >&2; exit 1
    fi
    read -r fwd full nq secs <<<"$(jq -r '[.tokens.forwarded, .tokens.without_reuse, .summary.total, .seconds] | @tsv' "$tmp/ceval.json")"
    echo "# ft-eval, C-Eval val, stories260K + tok512, 5-shot, prompts uncut: $nq questions in $(printf '%.1f' "$secs") s"
    awk -v a="$fwd" -v b="$full" 'BEGIN { r = a / b; printf "prefix reuse: %d tokens forwarded vs %d without = %.3f  %s (target <= 0.333)\n", a, b, r, (r <= 1 / 3) ? "PASS" : "FAIL" }'
else
    echo "# SKIP eval prefix reuse: no C-Eval data in $ceval or no $O/bin/ft-eval"
fi

# The driver, built against this build's library.
pkgs="libcjson libutf8proc opencc libxxhash libzstd sentencepiece"
# shellcheck disable=SC2046
if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -pthread -fopenmp -I"$top/common" -I"$top/kernels" \
    $(pkg-config --cflags $pkgs) -o "$tmp/eval-driver" "$top/tests/bench/eval-driver.c" "$O/libft.a" \
    $(pkg-config --libs $pkgs) -lstdc++ -lpthread -lm; then
    echo "eval: cannot build the driver" >&2
    exit 1
fi

read -r ours_tokens ours_s ours_sum <<<"$("$tmp/eval-driver" "$model" "$B" "$T" "$RUNS")"
[ -n "${ours_sum:-}" ] || { echo "eval: the driver failed" >&2; exit 1; }
read -r torch_tokens torch_s torch_sum <<<"$("$python" "$top/tests/bench/eval_torch.py" "$model" "$B" "$T" "$RUNS")"
[ -n "${torch_sum:-}" ] || { echo "eval: eval_torch.py failed" >&2; exit 1; }
if ! awk -v a="$ours_sum" -v b="$torch_sum" -v n="$B" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-3 * n * 512) }'; then
    echo "eval: ft and PyTorch disagree on the logits (checksums $ours_sum vs $torch_sum)" >&2
    exit 1
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
echo "# stories260K forward, B=$B x T=$T = $ours_tokens tokens, fp32; $(nproc) cores${cpu:+, $cpu};" \
    "fastest of $RUNS passes after a warm-up; OMP_WAIT_POLICY=$OMP_WAIT_POLICY; torch $("$python" -c 'import torch; print(torch.__version__)')"
fmt='%-44s %10s %12s\n'
# shellcheck disable=SC2059
printf "$fmt" forward seconds tokens/s
# shellcheck disable=SC2059
printf "$fmt" "ft_model_forward (cpu backend)" "$ours_s" "$(awk -v n="$ours_tokens" -v s="$ours_s" 'BEGIN { printf "%.0f", n / s }')"
# shellcheck disable=SC2059
printf "$fmt" "PyTorch (eval_torch.py)" "$torch_s" "$(awk -v n="$torch_tokens" -v s="$torch_s" 'BEGIN { printf "%.0f", n / s }')"
echo "# last-position logit checksums: ft $ours_sum, PyTorch $torch_sum"
ratio=$(awk -v a="$ours_s" -v b="$torch_s" 'BEGIN { printf "%.2f", b / a }')
verdict=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? "PASS" : "FAIL" }')
echo "ratio ft / PyTorch (tokens/s) = ${ratio}x  $verdict (target >= ${TARGET_RATIO}x)"
exit 0
