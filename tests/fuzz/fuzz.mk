# fuzz.mk — libFuzzer targets for the untrusted-input readers.  Included by
# the Makefile (`include tests/fuzz/fuzz.mk`), or used on its own with
#   make -f Makefile -f tests/fuzz/fuzz.mk fuzz
#
#   make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="csv idx"]
#        builds build/fuzz/fuzz_<target> with clang's libFuzzer, ASan and
#        UBSan, and fuzzes each target for N seconds (default 60), one
#        process at a time (two with make -j2).  New inputs go to build/fuzz/corpus/<target>/;
#        the committed seeds (tests/fuzz/corpus/<target>/) and regression
#        inputs (tests/fuzz/regress/<target>/) are only read.  A crash,
#        leak, timeout or out-of-memory stops the run and leaves the input
#        in build/fuzz/artifacts/<target>/: fix it, then copy it to
#        tests/fuzz/regress/<target>/ under a name that says what it was.
#   make fuzz-regress
#        replays every committed seed and regression input through every
#        target, once each (part of `make suite`).
#   make fuzz-build
#        only builds the targets.
#
# The targets (tests/fuzz/fuzz_<target>.c):
#   frontend     .nn text through parse, resolve, lower, shape check, every
#                printer and the C back end
#   safetensors  a file image through nnrt_load_safetensors_mem
#   csv          a data file through nnrt_read_csv with five specs
#   idx          an images file and a labels file through nnrt_read_idx
#
# Everything is compiled from source into build/fuzz/ (its own grammar,
# objects and archives), so this build never disturbs build/ or build/san/.
# It needs clang's libFuzzer runtime (Debian: libclang-rt-dev); included by
# the Makefile, it waits for `make deps` through $(DEPS_STAMP).

FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= frontend safetensors csv idx

# -O1 keeps stack traces readable and still runs fast.  UBSan must abort
# (not print and continue), or libFuzzer would not notice.
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                -Icompiler -I$(FUZZ_DIR)/grammar -Iruntime \
                -D_POSIX_C_SOURCE=200809L -MMD -MP

# Per-target limits: the longest input worth trying, and the dictionary.
FUZZ_MAXLEN_frontend    := 4096
FUZZ_MAXLEN_safetensors := 4096
FUZZ_MAXLEN_csv         := 2048
FUZZ_MAXLEN_idx         := 8192
FUZZ_DICT_frontend      := -dict=tests/fuzz/nn.dict
FUZZ_DICT_safetensors   := -dict=tests/fuzz/safetensors.dict
FUZZ_DICT_csv           := -dict=tests/fuzz/csv.dict
FUZZ_DICT_idx           :=
# Libraries and the code under test of each target.
FUZZ_LIBS_frontend      := $(FUZZ_DIR)/libnnc.a -lm
FUZZ_LIBS_safetensors   := $(FUZZ_DIR)/libnnrt.a -lcjson -lm
FUZZ_LIBS_csv           := $(FUZZ_DIR)/libnnrt.a -lz -lm
FUZZ_LIBS_idx           := $(FUZZ_DIR)/libnnrt.a -lz -lm

# Options of every run.  -timeout and -rss_limit_mb make a hang or a
# memory blow-up a reported failure rather than a stuck machine.
FUZZ_RUNFLAGS := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

FUZZ_NNC_SRC := $(filter-out compiler/main.c,$(wildcard compiler/*.c))
FUZZ_NNC_OBJ := $(FUZZ_NNC_SRC:%.c=$(FUZZ_DIR)/%.o) \
                $(FUZZ_DIR)/grammar/nn.tab.o $(FUZZ_DIR)/grammar/nn.lex.o
# Only the readers: the rest of the runtime takes no untrusted input.
FUZZ_RT_SRC  := runtime/safetensors.c runtime/data.c
FUZZ_RT_OBJ  := $(FUZZ_RT_SRC:%.c=$(FUZZ_DIR)/%.o)
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-regress
# Keep the objects of the pattern chains (make would delete them).
.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/tests/fuzz/fuzz_%.o)
fuzz-build: $(FUZZ_BINS)

# One run of bison (flex) makes both files: the header follows the .c.
$(FUZZ_DIR)/grammar/nn.tab.h: $(FUZZ_DIR)/grammar/nn.tab.c ;
$(FUZZ_DIR)/grammar/nn.lex.h: $(FUZZ_DIR)/grammar/nn.lex.c ;
$(FUZZ_DIR)/grammar/nn.tab.c: grammar/nn.y | $(DEPS_STAMP)
	@mkdir -p $(@D)
	bison -Wall -Werror --defines=$(FUZZ_DIR)/grammar/nn.tab.h -o $(FUZZ_DIR)/grammar/nn.tab.c $<

$(FUZZ_DIR)/grammar/nn.lex.c: grammar/nn.l | $(DEPS_STAMP)
	@mkdir -p $(@D)
	flex --header-file=$(FUZZ_DIR)/grammar/nn.lex.h -o $(FUZZ_DIR)/grammar/nn.lex.c $<

$(FUZZ_DIR)/grammar/%.o: $(FUZZ_DIR)/grammar/%.c $(FUZZ_DIR)/grammar/nn.tab.h $(FUZZ_DIR)/grammar/nn.lex.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/compiler/%.o: compiler/%.c | $(FUZZ_DIR)/grammar/nn.tab.h $(FUZZ_DIR)/grammar/nn.lex.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/runtime/%.o: runtime/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/tests/fuzz/%.o: tests/fuzz/%.c | $(FUZZ_DIR)/grammar/nn.tab.h $(FUZZ_DIR)/grammar/nn.lex.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -c $< -o $@

$(FUZZ_DIR)/libnnc.a: $(FUZZ_NNC_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/libnnrt.a: $(FUZZ_RT_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/libnnc.a $(FUZZ_DIR)/libnnrt.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $< $(FUZZ_LIBS_$*) -o $@

# Each target for FUZZ_SECONDS, a rule of its own so that `make -j2 fuzz`
# runs two at once (libFuzzer uses one core); a failure stops the run.
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

# A static pattern rule: make looks for no implicit rule for a phony target.
.PHONY: $(FUZZ_TARGETS:%=fuzz-run-%)
$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts/$* \
	          tests/fuzz/corpus/$* tests/fuzz/regress/$*
	@echo "== fuzzing $* for $(FUZZ_SECONDS)s (log: $(FUZZ_DIR)/$*.log)"
	@$(FUZZ_DIR)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAXLEN_$*) \
	  $(FUZZ_DICT_$*) $(FUZZ_RUNFLAGS) -artifact_prefix=$(FUZZ_DIR)/artifacts/$*/ \
	  $(FUZZ_DIR)/corpus/$* tests/fuzz/corpus/$* tests/fuzz/regress/$* \
	  >$(FUZZ_DIR)/$*.log 2>&1; \
	status=$$?; \
	grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' $(FUZZ_DIR)/$*.log | \
	  sed 's/^/fuzz $*: /'; \
	if [ $$status -ne 0 ]; then \
	  tail -n 60 $(FUZZ_DIR)/$*.log; \
	  echo "fuzz_$* failed; the input is in $(FUZZ_DIR)/artifacts/$*/"; \
	  exit 1; \
	fi

# Each committed input once, through each target's plain file mode.
fuzz-regress: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
	  files=$$(find tests/fuzz/corpus/$$t tests/fuzz/regress/$$t -type f 2>/dev/null | sort); \
	  [ -n "$$files" ] || continue; \
	  n=$$(echo "$$files" | wc -l); \
	  if $(FUZZ_DIR)/fuzz_$$t $(FUZZ_RUNFLAGS) $$files >$(FUZZ_DIR)/$$t-regress.log 2>&1; then \
	    echo "fuzz-regress $$t: $$n inputs ok"; \
	  else \
	    tail -n 60 $(FUZZ_DIR)/$$t-regress.log; \
	    echo "fuzz-regress $$t: FAILED (log: $(FUZZ_DIR)/$$t-regress.log)"; \
	    exit 1; \
	  fi; \
	done

-include $(shell find $(FUZZ_DIR) -name '*.d' 2>/dev/null)

# Regenerates the binary seeds (safetensors, IDX) and copies the text seeds
# from the examples and tests; run it when those change, then commit
# tests/fuzz/corpus/.
.PHONY: fuzz-seeds
fuzz-seeds:
	@mkdir -p $(FUZZ_DIR) $(addprefix tests/fuzz/corpus/,frontend safetensors csv idx)
	$(FUZZ_CC) -std=c11 -O1 -Iruntime -D_POSIX_C_SOURCE=200809L tests/fuzz/gen_seeds.c \
	  runtime/safetensors.c -lcjson -lz -lm -o $(FUZZ_DIR)/gen_seeds
	$(FUZZ_DIR)/gen_seeds tests/fuzz/corpus
	@for f in examples/*.nn tests/golden/*/*.nn tests/numeric/models/*.nn \
	          tests/reference/models/*.nn; do \
	  d=$$(basename $$(dirname $$f)); \
	  cp $$f tests/fuzz/corpus/frontend/$$d-$$(basename $$f); \
	done
	@for f in examples/*.csv tests/data/*; do \
	  cp $$f tests/fuzz/corpus/csv/; \
	done
