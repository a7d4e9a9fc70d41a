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
PKGS       := libcjson libutf8proc opencc libxxhash libzstd sentencepiece
DEB_libcjson    := libcjson-dev
DEB_libutf8proc := libutf8proc-dev
DEB_opencc      := libopencc-dev
DEB_libxxhash   := libxxhash-dev
DEB_libzstd     := libzstd-dev
DEB_sentencepiece := libsentencepiece-dev

CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
FT_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread -fopenmp -Wall -Wextra -Wmissing-prototypes -Wvla -Wshadow \
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
# libsentencepiece is C++: its shim (common/*.cc) is the only C++ in the tree; the C programs link libstdc++.
LDLIBS_FT  = $(PKG_LIBS) -lstdc++ -lpthread -lm
# C++ shims: the same warnings where they apply to C++, no C-only ones.
FT_CXXFLAGS = -std=c++17 -D_GNU_SOURCE -pthread -Wall -Wextra -Wshadow -Icommon $(PKG_CFLAGS) \
              $(if $(filter 1,$(DEV)),-Werror) $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)

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
# kernels/*.c (the op table, the reference and CPU backends) go into the library too; kernels/cuda/ does not.
KERNEL_SRC := $(wildcard kernels/*.c)
COMMON_CXX := $(wildcard common/*.cc)
COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o) $(KERNEL_SRC:%.c=$(O)/%.o) $(COMMON_CXX:%.cc=$(O)/%.o)
LIB        := $(O)/libft.a

# Every tools/ft-NAME/ directory is a tool: main.c plus modules only it uses (TOOL_OBJ_ft-NAME).
TOOLS      := $(notdir $(wildcard tools/ft-*))
$(foreach t,$(TOOLS),$(eval TOOL_OBJ_$(t) := $(patsubst %.c,$(O)/%.o,$(filter-out tools/$(t)/main.c,$(wildcard tools/$(t)/*.c)))))
BINS       := $(TOOLS:%=$(O)/bin/%)

# A unit test or fuzz target named test-NAME-* / fuzz-NAME-* where tools/ft-NAME exists also links that
# tool's modules and sees its headers; the others link only the library.
tool_of     = $(firstword $(filter $(TOOLS),$(patsubst %,ft-%,$(word 2,$(subst -, ,$(notdir $(1)))))))
UNIT_SRC   := $(wildcard tests/unit/test-*.c tests/ops/test-*.c)
UNIT_BINS  := $(patsubst %.c,$(O)/tests/%,$(notdir $(UNIT_SRC)))
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/tests/%-replay)
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)

.PHONY: all deps check-deps check demo bench fuzz install uninstall clean tests cuda-info format
all: check-deps cuda-info $(BINS)

deps:
	@scripts/deps.sh

check-deps:
	@ok=1; $(foreach p,$(PKGS),pkg-config --exists $(p) || { ok=0; \
	  echo "ft: missing library '$(p)' (Debian package $(DEB_$(p))): run 'make deps' or 'apt-get install $(DEB_$(p))'" >&2; };) \
	[ $$ok = 1 ]

cuda-info:
	@if [ "$(FT_CUDA)" = 1 ]; then \
	  echo "ft: CUDA=$(CUDA): nvcc found at $(NVCC); CUDA parts: $(if $(CUDA_SRC),$(words $(CUDA_SRC)) sources,none in this tree yet)"; \
	else echo "ft: CUDA=$(CUDA): building without CUDA$(if $(NVCC),, (nvcc not found))"; fi

$(O)/%.o: %.c $(wildcard common/*.h kernels/*.h) $(wildcard tools/*.h tools/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(FT_CFLAGS) -Itools $(CFLAGS) -c -o $@ $<

$(O)/%.o: %.cc $(wildcard common/*.h)
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(FT_CXXFLAGS) $(CXXFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# tools/cli.c: the usage-error exit and option parsing every tool's main.c shares.
CLI_OBJ    := $(O)/tools/cli.o
$(O)/bin/%: $(O)/tools/%/main.o $(CLI_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(FT_CFLAGS) $(CFLAGS) $(FT_LDFLAGS) $(LDFLAGS) -o $@ $< $(TOOL_OBJ_$*) $(CLI_OBJ) $(LIB) $(LDLIBS_FT)
$(foreach t,$(TOOLS),$(eval $(O)/bin/$(t): $(TOOL_OBJ_$(t))))
.SECONDARY: $(TOOLS:%=$(O)/tools/%/main.o)

# Unit tests link the library and the harness (and their tool's modules, see tool_of).
.SECONDEXPANSION:
# The op tests (tests/ops/: every backend op against the reference, gradients by finite differences) build the
# same way.
$(O)/tests/test-%: $$(firstword $$(wildcard tests/unit/test-$$*.c tests/ops/test-$$*.c)) tests/unit/tap.h \
                   $(wildcard tests/unit/*.h tests/ops/*.h) $$(TOOL_OBJ_$$(call tool_of,test-$$*)) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(FT_CFLAGS) $(addprefix -Itools/,$(call tool_of,$@)) -Itests/unit -Itests/ops $(CFLAGS) $(FT_LDFLAGS) -o $@ $< \
	    $(TOOL_OBJ_$(call tool_of,$@)) $(LIB) $(LDLIBS_FT)

# Fuzz targets: replayed over their seed corpus by make check (any compiler), fuzzed by make fuzz (clang).
$(O)/tests/fuzz-%-replay: tests/fuzz/fuzz-%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) $$(TOOL_OBJ_$$(call tool_of,fuzz-$$*)) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(FT_CFLAGS) $(addprefix -Itools/,$(call tool_of,fuzz-$*)) $(CFLAGS) $(FT_LDFLAGS) -o $@ $< tests/fuzz/replay.c \
	    $(TOOL_OBJ_$(call tool_of,fuzz-$*)) $(LIB) $(LDLIBS_FT)

FUZZ_CC    ?= clang
FUZZ_TIME  ?= 60
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -pthread -fopenmp -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              -Icommon -Ikernels
# The C++ shim without UBSan's vptr check: the targets are linked by clang (C), without the C++ runtime
# that check needs.
FUZZ_CXXFLAGS := -std=c++17 -D_GNU_SOURCE -pthread -g -O1 -fsanitize=address,undefined -fno-sanitize=vptr -Icommon
$(O)/fuzz/cxx/%.o: common/%.cc $(wildcard common/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC)++ $(FUZZ_CXXFLAGS) $(PKG_CFLAGS) -c -o $@ $<
$(O)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(COMMON_SRC) $(KERNEL_SRC) $(COMMON_CXX:common/%.cc=$(O)/fuzz/cxx/%.o) \
             $$(filter-out tools/$$(call tool_of,$$*)/main.c,$$(wildcard tools/$$(call tool_of,$$*)/*.c)) $(wildcard common/*.h kernels/*.h tools/*/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(addprefix -Itools/,$(call tool_of,$*)) $(PKG_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS_FT)

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

bench:
	@FT_DEPS_BENCH=1 scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@O=$(O) tests/bench/run.sh $(BENCH)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/ft
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/ft/

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/ft

format:
	clang-format -i common/*.[ch] common/*.cc tools/*.[ch] tools/*/*.[ch] tests/unit/*.[ch] tests/ops/*.[ch] tests/fuzz/*.c

clean:
	rm -rf build build-san
