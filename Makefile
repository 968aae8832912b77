# Makefile — builds nnc, its runtime and its tests.  GNU Make.
#
#   make            build build/nnc and build/libnnrt.a
#   make test       what CI runs: the suite, the suite with ASan and UBSan,
#                   and each fuzz target for a minute
#   make suite      the suite once (unit, golden, warnings, ...): the quick
#                   loop while developing
#   make demo       the main demo: check and summarize the examples
#   make deps       install missing Debian packages (as root), or say which
#   make clean      remove build/
#
#   make SANITIZE=1 suite  the suite built with ASan and UBSan under build/san
#                          (make SANITIZE=1 test is the same)
#
# Everything built goes under build/.  Missing tools and libraries are
# installed by `make deps`, which every other target reaches first; `make
# bench` also installs BENCH_DEB_PACKAGES, which nothing else needs.

CC      ?= cc
# The other compiler: `make suite` checks our sources warning-free with it too.
CC_ALT  ?= $(if $(findstring clang,$(CC)),gcc,clang)

BUILD   := build
ifeq ($(SANITIZE),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

# Debian packages the build and the tests need.
DEB_PACKAGES := flex bison check libopenblas-dev pkg-config libcjson-dev zlib1g-dev \
                clang graphviz libclang-rt-dev cppcheck valgrind

# Debian packages only `make bench` uses (FANN, a contender in workloads 1
# and 2).  Not part of DEB_PACKAGES, so the tests never need them; when
# they cannot be installed (not root, no network) the bench runs without
# FANN and says so in bench/RESULTS.md.
BENCH_DEB_PACKAGES := libfann-dev

# The warnings our own code must be free of, with gcc and clang alike.
WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wold-style-definition -Wwrite-strings \
            -Wvla -Wformat=2 -Wundef -Wpointer-arith -Wcast-align \
            -Wimplicit-fallthrough
# The generated scanner and parser build clean under WARNINGS with gcc 12 and
# clang 14; should a newer flex or bison trip one, relax it here, for the
# generated files only, rather than weakening the whole build.
GEN_RELAX :=

OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
CPPFLAGS := -Icompiler -I$(BUILD)/grammar -Iruntime -D_POSIX_C_SOURCE=200809L
ALLFLAGS  = -std=c11 $(CFLAGS) $(SANFLAGS) $(CPPFLAGS) -MMD -MP
# Libraries are looked up when a recipe runs, after `make deps`.
PKG_RT    = $(shell pkg-config --cflags openblas libcjson zlib)
LIBS_RT   = $(shell pkg-config --libs openblas libcjson zlib) -lm -pthread
LIBS_TEST = $(shell pkg-config --libs check) $(LIBS_RT)

COMPILER_SRC := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
COMPILER_OBJ := $(COMPILER_SRC:%.c=$(BUILD)/%.o) \
                $(BUILD)/grammar/nn.tab.o $(BUILD)/grammar/nn.lex.o
RUNTIME_SRC  := $(wildcard runtime/*.c)
RUNTIME_OBJ  := $(RUNTIME_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC     := $(wildcard tests/unit/*.c)
UNIT_OBJ     := $(UNIT_SRC:%.c=$(BUILD)/%.o)
DEPS_STAMP   := $(BUILD)/.deps-ok

.PHONY: hostile messages analyze all test suite demo demo-fashion bench deps clean unit golden warnings numeric reference e2e \
        infer embed install-test \
        install uninstall
all: $(BUILD)/nnc $(BUILD)/libnnrt.a

# --- dependencies -------------------------------------------------------
# Checks the packages with dpkg; installs the missing ones when root,
# otherwise prints the exact command and fails.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "make deps: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "make deps: missing Debian packages. Run:"; \
	  echo "  sudo apt-get install$$missing"; \
	  exit 1; \
	fi

$(DEPS_STAMP): Makefile
	@$(MAKE) --no-print-directory deps
	@mkdir -p $(@D) && touch $@

# --- the front end: flex and bison -----------------------------------------
$(BUILD)/grammar/nn.tab.c $(BUILD)/grammar/nn.tab.h: grammar/nn.y | $(DEPS_STAMP)
	@mkdir -p $(@D)
	bison -Wall -Werror --defines=$(BUILD)/grammar/nn.tab.h -o $(BUILD)/grammar/nn.tab.c $<

$(BUILD)/grammar/nn.lex.c $(BUILD)/grammar/nn.lex.h: grammar/nn.l | $(DEPS_STAMP)
	@mkdir -p $(@D)
	flex --header-file=$(BUILD)/grammar/nn.lex.h -o $(BUILD)/grammar/nn.lex.c $<

$(BUILD)/grammar/%.o: $(BUILD)/grammar/%.c $(BUILD)/grammar/nn.tab.h $(BUILD)/grammar/nn.lex.h
	$(CC) $(ALLFLAGS) $(WARNINGS) $(GEN_RELAX) -c $< -o $@

# Our sources need the generated headers to exist before their first build.
$(COMPILER_SRC:%.c=$(BUILD)/%.o): | $(BUILD)/grammar/nn.tab.h $(BUILD)/grammar/nn.lex.h

$(BUILD)/compiler/%.o: compiler/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALLFLAGS) $(WARNINGS) -c $< -o $@

$(BUILD)/libnnc.a: $(COMPILER_OBJ)
	@rm -f $@
	ar rcs $@ $^

# nnc build --infer-only --weights reads safetensors with the runtime's
# reader, so nnc links it (and cJSON).
$(BUILD)/nnc: $(BUILD)/compiler/main.o $(BUILD)/libnnc.a $(BUILD)/runtime/safetensors.o \
          $(BUILD)/runtime/fit.o
	$(CC) $(CFLAGS) $(SANFLAGS) $^ -o $@ $(shell pkg-config --libs libcjson) -lm

# --- the runtime ---------------------------------------------------------
$(BUILD)/runtime/%.o: runtime/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALLFLAGS) $(WARNINGS) $(PKG_RT) -c $< -o $@

$(BUILD)/libnnrt.a: $(RUNTIME_OBJ)
	@rm -f $@
	ar rcs $@ $^

# --- tests -------------------------------------------------------------
$(BUILD)/tests/unit/%.o: tests/unit/%.c | $(DEPS_STAMP) $(BUILD)/grammar/nn.tab.h $(BUILD)/grammar/nn.lex.h
	@mkdir -p $(@D)
	$(CC) $(ALLFLAGS) $(WARNINGS) $(PKG_RT) $(shell pkg-config --cflags check) -c $< -o $@

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libnnc.a $(BUILD)/libnnrt.a
	$(CC) $(CFLAGS) $(SANFLAGS) $^ -o $@ $(LIBS_TEST)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

golden: $(BUILD)/nnc
	tests/golden/run.sh $(BUILD)/nnc

# The test scripts add SANFLAGS to every program they compile and run: with
# SANITIZE=1 the generated code, the harnesses and the trainers nnc compiles
# are instrumented like the runtime they link.
TEST_ENV := SANFLAGS="$(SANFLAGS)"

# Generated C: finite-difference gradient checks, gcc/clang -Werror builds.
numeric: $(BUILD)/nnc $(BUILD)/libnnrt.a
	$(TEST_ENV) tests/numeric/run.sh $(BUILD)/nnc $(BUILD)

# Generated C against reference values computed with PyTorch (committed).
reference: $(BUILD)/nnc $(BUILD)/libnnrt.a
	$(TEST_ENV) tests/reference/run.sh $(BUILD)/nnc $(BUILD)

# The commands end to end: nnc train/eval/predict, the cache, --main, data
# errors, resume and atomic saves.
e2e: $(BUILD)/nnc $(BUILD)/libnnrt.a
	$(TEST_ENV) tests/e2e/run.sh $(BUILD)/nnc

# The inference-only build (nnc build --infer-only): its outputs against the
# training build's, its memory plan, its dependencies.
infer: $(BUILD)/nnc $(BUILD)/libnnrt.a
	$(TEST_ENV) tests/infer/run.sh $(BUILD)/nnc $(BUILD)

# examples/embed: a program with a trained model built in, no runtime.
EMBED := $(BUILD)/embed
$(EMBED)/careers.c: examples/embed/careers.nn examples/embed/careers.safetensors $(BUILD)/nnc
	$(BUILD)/nnc build examples/embed/careers.nn --infer-only --no-blas \
	  --weights examples/embed/careers.safetensors -o $(EMBED)
$(EMBED)/careers.h: $(EMBED)/careers.c ;
$(EMBED)/embed: examples/embed/main.c $(EMBED)/careers.c $(EMBED)/careers.h
	$(CC) -std=c99 -O2 -Wall -Wextra -Wpedantic -Werror $(SANFLAGS) -I$(EMBED) \
	  examples/embed/main.c $(EMBED)/careers.c -o $@ -lm
embed: $(EMBED)/embed
	$(EMBED)/embed | diff -u examples/embed/expected.txt -

# Benchmarks: a program, not a test (machines are shared and noisy).
# Writes bench/RESULTS.md; see bench/run.sh for its settings.  The bench-only
# packages are checked on every run (dpkg, no stamp: a failed install is
# retried next time) and their absence is not fatal.
bench: $(BUILD)/nnc $(BUILD)/libnnrt.a
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(BENCH_DEB_PACKAGES)" || \
	  echo "make bench: $(BENCH_DEB_PACKAGES) not installed: running without it"
	bench/run.sh $(BUILD)/nnc $(BUILD)

# Reliability: libFuzzer targets (make fuzz FUZZ_SECONDS=N; make fuzz-regress
# replays the seeds and regression inputs), hostile .nn files, every
# user-facing message produced by some test, static analysis.
include tests/fuzz/fuzz.mk

hostile: $(BUILD)/nnc
	HOSTILE_TIMEOUT=$(if $(SANITIZE),60,20) tests/fuzz/hostile.sh $(BUILD)/nnc

messages:
	tests/messages.sh

analyze: | $(DEPS_STAMP)
	tests/fuzz/analyze.sh

# Our sources must also be warning-free under the other compiler.
warnings: | $(DEPS_STAMP) $(BUILD)/grammar/nn.tab.h $(BUILD)/grammar/nn.lex.h
	@echo "checking warnings with $(CC_ALT)"
	@for f in $(COMPILER_SRC) compiler/main.c $(RUNTIME_SRC); do \
	  $(CC_ALT) -std=c11 -fsyntax-only -Werror $(WARNINGS) $(CPPFLAGS) $(PKG_RT) $$f || exit 1; \
	done
	@# the runtime's build-time options: no BLAS, no threads, neither
	@for d in -DNNRT_NO_BLAS -DNNRT_NO_THREADS "-DNNRT_NO_BLAS -DNNRT_NO_THREADS"; do \
	  for c in $(CC) $(CC_ALT); do \
	    for f in runtime/gemm.c runtime/pool.c; do \
	      $$c -std=c11 -fsyntax-only -Werror $(WARNINGS) $(CPPFLAGS) $(PKG_RT) $$d $$f || exit 1; \
	    done; \
	  done; \
	done

# The suite.  With SANITIZE=1 it runs every program the tests build, nnc's
# and the generated ones, instrumented; the checks of the sources alone
# (warnings, messages, analyze) and the fuzz targets' replay, which no
# SANITIZE changes, are left to the plain run.
TEST_PARTS := all unit golden numeric reference e2e infer embed install-test hostile
ifneq ($(SANITIZE),1)
TEST_PARTS += warnings fuzz-regress messages analyze
endif
suite: $(TEST_PARTS)
	@echo "all tests passed$(if $(SANITIZE), (ASan and UBSan))"

# What CI runs, the README's test command: the suite, the suite with ASan
# and UBSan, and each fuzz target for FUZZ_SECONDS (60), each two parts at
# a time (-O: each part's output together, when it is done).  With
# SANITIZE=1, the sanitized suite alone.
ifeq ($(SANITIZE),1)
test: suite
else
test:
	$(MAKE) --no-print-directory -j2 -O suite
	$(MAKE) --no-print-directory -j2 -O SANITIZE=1 suite
	$(MAKE) --no-print-directory -j2 -O fuzz
	@echo "make test: everything passed"
endif

# --- demo --------------------------------------------------------------
demo: $(BUILD)/nnc $(BUILD)/libnnrt.a
	examples/demo.sh $(CURDIR)/$(BUILD)/nnc $(CURDIR)/$(BUILD)/demo

# Fashion-MNIST comes from a Debian package of its own (about 30 MB), so
# only this demo installs it.
FASHION_DIR := /usr/share/datasets/fashion-mnist
demo-fashion: $(BUILD)/nnc $(BUILD)/libnnrt.a
	@if [ ! -f $(FASHION_DIR)/train-images-idx3-ubyte.gz ]; then \
	  $(MAKE) --no-print-directory deps DEB_PACKAGES=dataset-fashion-mnist; \
	fi
	examples/demo_fashion.sh $(CURDIR)/$(BUILD)/nnc $(CURDIR)/$(BUILD)/demo

# --- install -------------------------------------------------------------
# The usual layout: PREFIX/bin/nnc, PREFIX/lib/libnnrt.a, the runtime headers
# in PREFIX/include/nnc, pkg-config's nnrt.pc, the man page and the docs.
# DESTDIR is prepended to every path, for staging and packaging.
PREFIX  ?= /usr/local
VERSION := $(shell sed -n 's/^\#define NNC_VERSION "\(.*\)"/\1/p' compiler/nnc.h)
DOCS    := README.md docs/LANGUAGE.md docs/API.md docs/RUNTIME.md

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/nnc $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/doc/nnc
	install -m 755 $(BUILD)/nnc $(DESTDIR)$(PREFIX)/bin/nnc
	install -m 644 $(BUILD)/libnnrt.a $(DESTDIR)$(PREFIX)/lib/libnnrt.a
	install -m 644 runtime/nnrt.h runtime/nnrt_data.h $(DESTDIR)$(PREFIX)/include/nnc/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' runtime/nnrt.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nnrt.pc
	install -m 644 docs/nnc.1 $(DESTDIR)$(PREFIX)/share/man/man1/nnc.1
	install -m 644 $(DOCS) $(DESTDIR)$(PREFIX)/share/doc/nnc/

# An installed nnc (staged with DESTDIR) builds and runs examples/embed.
STAGE := $(BUILD)/stage
install-test: all
	rm -rf $(STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(STAGE) PREFIX=/usr/local
	$(STAGE)/usr/local/bin/nnc build examples/embed/careers.nn --infer-only --no-blas \
	  --weights examples/embed/careers.safetensors -o $(STAGE)/embed
	$(CC) -std=c99 -O2 $(SANFLAGS) -I$(STAGE)/embed examples/embed/main.c $(STAGE)/embed/careers.c \
	  -o $(STAGE)/embed/embed -lm
	$(STAGE)/embed/embed | diff -u examples/embed/expected.txt -
	@# The README's way: a real prefix, the generated C, pkg-config.
	rm -rf $(STAGE)-prefix
	$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(STAGE)-prefix
	cd $(STAGE)-prefix && bin/nnc build $(CURDIR)/examples/grades.nn -o src && \
	  $(CC) -std=c99 -O2 $(SANFLAGS) -Isrc src/grades.c $(CURDIR)/examples/train_grades.c \
	    $$(PKG_CONFIG_PATH=$(CURDIR)/$(STAGE)-prefix/lib/pkgconfig pkg-config --cflags --libs nnrt) \
	    -o train_grades && ./train_grades > train_grades.out
	diff -u examples/train_grades.expected $(STAGE)-prefix/train_grades.out

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/nnc $(DESTDIR)$(PREFIX)/lib/libnnrt.a \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/nnrt.pc \
	  $(DESTDIR)$(PREFIX)/share/man/man1/nnc.1
	rm -rf $(DESTDIR)$(PREFIX)/include/nnc $(DESTDIR)$(PREFIX)/share/doc/nnc

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
