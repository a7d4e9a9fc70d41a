#!/usr/bin/env bash
# t4003-loader-docs: the examples of docs/loader.md (a C program over common/loader.h, compiled against this
# build's libft.a) and docs/pipelines.md (pipelines/sft.mk) run as written and print exactly the text shown.
. "$(dirname "$0")/lib.sh"

if ! need_data tokenizers/baichuan2/tokenizer.model; then
    test_skip 'docs/loader.md and docs/pipelines.md examples' 'no ../shared/tokenizers/baichuan2 (make fixtures)'
    test_done
    exit
fi
# What the examples expect beside them: the source tree's common/ and pipelines/, a build/ with libft.a and
# bin/, the Baichuan2 model directory.
ln -s "$shared/tokenizers/baichuan2" baichuan2
ln -s "$top/common" common
ln -s "$top/pipelines" pipelines
ln -s "$build" build
# A sanitizer build's libft.a needs the sanitizer runtimes: the example's plain `cc` gets them from a wrapper.
if nm "$build/libft.a" 2>/dev/null | grep -q __asan_; then
    mkdir wrap && printf '#!/bin/sh\nexec %s -fsanitize=address,undefined "$@"\n' "$(command -v cc)" >wrap/cc &&
        chmod +x wrap/cc && PATH=$tmp/wrap:$PATH
fi

# The ```c block that names first-batches.c in its first line.
awk '/^```c$/ { inc = 1; buf = ""; next }
     inc && /^```$/ { inc = 0; if (buf ~ /^[^\n]*first-batches\.c/) printf "%s", buf; next }
     inc { buf = buf $0 "\n" }' "$top/docs/loader.md" >first-batches.c
test_expect_success 'docs/loader.md: a ```c block is first-batches.c' '
    grep -q "^int main" first-batches.c && head -n 1 first-batches.c | grep -q "first-batches.c: "
'
doc_examples "$top/docs/loader.md" first-batches 1
rm -rf ex.* ds
doc_examples "$top/docs/pipelines.md" sft.mk 1

test_done
