# ft: one GNU Makefile for the library, the tools, the tests, the fuzz targets and the benchmarks.
# make | make check | make demo | make bench | make fuzz | make install PREFIX=... ; options below.

CC       ?= cc
PREFIX   ?= /usr/local
CUDA     ?= auto
SANITIZE ?=
DEV      ?= 0
O        ?= build$(if $(SANITIZE),-san)

.SUFFIXES:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all
SHELL := /bin/bash

# Libraries found with pkg-config, and the Debian package that ships each .pc file.
PKGS       := libcjson libutf8proc opencc
DEB_libcjson   := libcjson-dev
DEB_libutf8proc := libutf8proc-dev
DEB_opencc     := libopencc-dev

CFLAGS   ?= -O2 -g
FT_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -Wall -Wextra -Wmissing-prototypes -Wvla -Wshadow \
            -Icommon -Ikernels $(PKG_CFLAGS)
ifeq ($(DEV),1)
FT_CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
FT_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
FT_LDFLAGS += -fsanitize=$(SANITIZE)
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS_FT  = $(PKG_LIBS) -lpthread -lm

# CUDA: auto builds the CUDA parts when nvcc is on PATH. The tree has no CUDA sources yet; the decision
# is made and reported here so the later kernels/cuda/ work plugs into it.
NVCC := $(shell command -v nvcc 2>/dev/null)
ifeq ($(CUDA),auto)
  FT_CUDA := $(if $(NVCC),1,0)
else ifeq ($(CUDA),1)
  FT_CUDA := 1
  ifeq ($(NVCC),)
    $(error CUDA=1 but nvcc is not on PATH (install the CUDA toolkit or use CUDA=0))
  endif
else ifeq ($(CUDA),0)
  FT_CUDA := 0
else
  $(error CUDA must be auto, 0 or 1, not '$(CUDA)')
endif
CUDA_SRC := $(wildcard kernels/cuda/*.cu)

# What --version -v reports.
FT_CFLAGS += -DFT_BUILD_INFO='"CUDA $(if $(filter 1,$(FT_CUDA)),yes,no) (CUDA=$(CUDA)), $(if $(SANITIZE),sanitizers $(SANITIZE),no sanitizers)$(if $(filter 1,$(DEV)),$(comma) -Werror)"'
comma := ,

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o)
LIB        := $(O)/libft.a

TOOLS      := ft-clean
CLEAN_SRC  := $(filter-out tools/ft-clean/main.c,$(wildcard tools/ft-clean/*.c))
CLEAN_OBJ  := $(CLEAN_SRC:%.c=$(O)/%.o)
BINS       := $(TOOLS:%=$(O)/bin/%)

UNIT_SRC   := $(wildcard tests/unit/test-*.c)
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/tests/%-replay)
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)

.PHONY: all deps check-deps check demo bench fuzz install uninstall clean tests cuda-info format
all: check-deps cuda-info $(BINS)

deps:
	@scripts/deps.sh

check-deps:
	@missing=""; for p in $(PKGS); do pkg-config --exists $$p || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  for p in $$missing; do case $$p in \
	    libcjson) d=$(DEB_libcjson);; libutf8proc) d=$(DEB_libutf8proc);; opencc) d=$(DEB_opencc);; esac; \
	    echo "ft: missing library '$$p' (Debian package $$d): run 'make deps' or 'apt-get install $$d'" >&2; \
	  done; exit 1; fi

cuda-info:
	@if [ "$(FT_CUDA)" = 1 ]; then \
	  echo "ft: CUDA=$(CUDA): nvcc found at $(NVCC); CUDA parts: $(if $(CUDA_SRC),$(words $(CUDA_SRC)) sources,none in this tree yet)"; \
	else echo "ft: CUDA=$(CUDA): building without CUDA$(if $(NVCC),, (nvcc not found))"; fi

$(O)/%.o: %.c $(wildcard common/*.h) $(wildcard tools/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(FT_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/bin/ft-clean: $(O)/tools/ft-clean/main.o $(CLEAN_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(FT_CFLAGS) $(CFLAGS) $(FT_LDFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_FT)

# Unit tests link the library and the harness; test-clean-* also the ft-clean modules.
$(O)/tests/test-%: tests/unit/test-%.c tests/unit/tap.h $(CLEAN_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(FT_CFLAGS) -Itools/ft-clean -Itests/unit $(CFLAGS) $(FT_LDFLAGS) -o $@ $< $(CLEAN_OBJ) $(LIB) $(LDLIBS_FT)

# Fuzz targets: replayed over their seed corpus by make check (any compiler), fuzzed by make fuzz (clang).
$(O)/tests/fuzz-%-replay: tests/fuzz/fuzz-%.c tests/fuzz/replay.c tests/fuzz/check.h $(CLEAN_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(FT_CFLAGS) -Itools/ft-clean $(CFLAGS) $(FT_LDFLAGS) -o $@ $< tests/fuzz/replay.c $(CLEAN_OBJ) $(LIB) $(LDLIBS_FT)

FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -pthread -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -Icommon -Itools/ft-clean
$(O)/fuzz/%: tests/fuzz/%.c tests/fuzz/check.h $(COMMON_SRC) $(CLEAN_SRC) $(wildcard common/*.h tools/ft-clean/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS_FT)

fuzz: check-deps $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p $(O)/fuzz/corpus-$$n; \
	  echo "ft: fuzzing $$n for $(FUZZ_TIME)s"; \
	  $$f -max_total_time=$(FUZZ_TIME) -max_len=65536 -artifact_prefix=$(O)/fuzz/$$n- \
	    $(O)/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

tests: all $(UNIT_BINS) $(FUZZ_REPLAY)

check: deps
	@$(MAKE) --no-print-directory tests
	@O=$(O) tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@O=$(O) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@O=$(O) tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/ft
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/ft/

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/ft

format:
	clang-format -i common/*.[ch] tools/*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c

clean:
	rm -rf build build-san
