# sft.mk: raw chat data to packed MDS shards: ft-clean -> ft-dedup -> ft-tokenize -> ft-pack, one file per
# stage and input kept under WORK, each input file cleaned, signed, filtered and tokenized on its own so that
# `make -j` runs them side by side; dedup is ft-dedup's scale-out form (sign each, cluster all, filter each),
# which gives the streaming result over the inputs in RAW's order. docs/pipelines.md tells the whole story.
#
#   make -f pipelines/sft.mk -j4 RAW="a.jsonl b.jsonl" TOKENIZER=tok.model TEMPLATE=qwen SEQ_LEN=2048 OUT=shards
#
# Rule: every step writes its target atomically (-o), a failed step leaves no target (.DELETE_ON_ERROR), and a
# pipe fails when any part does (pipefail); rerunning rebuilds only what is older than its inputs.

SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

# Inputs (required): the raw files, in order (their base names without extension must differ), the
# tokenizer, the chat template, the packed row length and the output directory.
RAW       ?=
TOKENIZER ?=
TEMPLATE  ?=
SEQ_LEN   ?=
OUT       ?=
# Where the tools are, where the intermediate files go, and each stage's extra options.
FT_BIN    ?= build/bin
WORK      ?= $(OUT).work
CLEAN_FLAGS    ?=
DEDUP_FLAGS    ?=
TOKENIZE_FLAGS ?= --max-seq-len $(SEQ_LEN)
PACK_FLAGS     ?=

.DEFAULT_GOAL := all
.PHONY: all stat

$(foreach v,RAW TOKENIZER TEMPLATE SEQ_LEN OUT,\
  $(if $(strip $($(v))),,$(error sft.mk: $(v)= is required (see the top of pipelines/sft.mk))))
$(foreach f,$(RAW),$(if $(wildcard $(f)),,$(error sft.mk: RAW: no such file: $(f))))

stem  = $(basename $(notdir $(1)))
STEMS := $(foreach f,$(RAW),$(call stem,$(f)))
ifneq ($(words $(STEMS)),$(words $(sort $(STEMS))))
$(error sft.mk: the RAW files' base names must differ: $(STEMS))
endif

CLEAN := $(STEMS:%=$(WORK)/clean/%.jsonl)
SIGS  := $(STEMS:%=$(WORK)/dedup/%.sig)
KEPT  := $(STEMS:%=$(WORK)/dedup/%.jsonl)
TOKS  := $(STEMS:%=$(WORK)/tok/%.tok)
LIST  := $(WORK)/dedup/dups.list

all: $(OUT)/index.json

# Per input file: clean (with its stats and rejects beside it).
define clean_rule
$(WORK)/clean/$(call stem,$(1)).jsonl: $(1) | $(WORK)/clean
	$(FT_BIN)/ft-clean -q $(CLEAN_FLAGS) --stats $(WORK)/clean/$(call stem,$(1)).stats.json \
	    --rejects $(WORK)/clean/$(call stem,$(1)).rejects.jsonl -o $$@ $$<
endef
$(foreach f,$(RAW),$(eval $(call clean_rule,$(f))))

# Dedup, scale-out: a signature per file, one duplicate list over all of them (in RAW's order), then each
# file's kept records (and its dropped ones, .dups).
$(WORK)/dedup/%.sig: $(WORK)/clean/%.jsonl | $(WORK)/dedup
	$(FT_BIN)/ft-dedup sign -q $(DEDUP_FLAGS) -o $@ $<
$(LIST): $(SIGS)
	$(FT_BIN)/ft-dedup cluster -q $(DEDUP_FLAGS) -o $@ $(SIGS)
$(WORK)/dedup/%.jsonl: $(WORK)/clean/%.jsonl $(LIST)
	$(FT_BIN)/ft-dedup filter -q $(DEDUP_FLAGS) --list $(LIST) --dups $(WORK)/dedup/$*.dups -o $@ $<

# Per file: token ids and loss masks.
$(WORK)/tok/%.tok: $(WORK)/dedup/%.jsonl | $(WORK)/tok
	$(FT_BIN)/ft-tokenize -q -t $(TOKENIZER) -T $(TEMPLATE) $(TOKENIZE_FLAGS) \
	    --stats $(WORK)/tok/$*.stats.json --rejects $(WORK)/tok/$*.rejects.jsonl -o $@ $<

# One pack over every stream in RAW's order; ft-pack makes OUT appear atomically (-f replaces an older one).
$(OUT)/index.json: $(TOKS)
	$(FT_BIN)/ft-pack -q -f --seq-len $(SEQ_LEN) $(PACK_FLAGS) -o $(OUT) $(TOKS)

stat: $(OUT)/index.json
	$(FT_BIN)/ft-pack stat $(OUT)

$(WORK)/clean $(WORK)/dedup $(WORK)/tok:
	mkdir -p $@
