# qkv — build everything out of tree in build/.
#   make            library, examples, and the test binary if Catch2 is installed
#   make test       build and run the Catch2 suite   (TAGS='[ch02]' runs one chapter)
#   make bench      kernel and training-step benchmarks
#   make train      train the toy translator with defaults
#   make sanitize   the suite under ASan + UBSan
#   make fuzz       libFuzzer on the loaders, FUZZ_SECONDS each (FUZZ_TARGETS: which; tests/fuzz/README.md)
# CXX, CXXFLAGS and OMP_NUM_THREADS are honoured. The flags in QKV_FLAGS are not optional:
# warnings are errors, and OpenMP is how the kernels use both cores.

CXX      ?= g++
CXXFLAGS ?= -O3 -march=native
QKV_FLAGS = -std=c++17 -fopenmp -Wall -Wextra -Werror -I. -fno-math-errno
# -fno-math-errno: std::sqrt need not set errno for a negative argument, so a loop that takes a
# square root (Adam's update) can be vectorised. Every result is the same IEEE value; unlike
# -ffast-math it changes no arithmetic.
# g++ 12.2 with AVX-512 miscompiles constant float lists: `std::vector<float> v = {1, 1, 1, 1,
# 1, 1, 0, 0}` can come out as eight 1s (its SLP vectoriser broadcasts the first value). Masks
# are written that way, so its SLP pass is turned off for g++; loop vectorisation, which the
# kernels rely on, is unaffected. Reproducer (prints eight 1s without the flag):
#   int main() { auto t = qkv::Tensor::from_vector({1, 1, 1, 1, 1, 1, 0, 0}, {2, 4});
#                for (float x : t.to_vector()) std::printf("%g ", x); }
ifeq ($(shell $(CXX) --version 2>/dev/null | grep -c -i clang),0)
QKV_FLAGS += -fno-tree-slp-vectorize
endif
DEPFLAGS  = -MMD -MP
LDLIBS   ?=
BUILD    ?= build

# One compile job per core by default (a -jN on the command line still wins): a clean build
# of the examples takes about a minute on 2 cores instead of two, which `make train` on a
# fresh clone feels.
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)

LIB_SRCS  := $(wildcard autograd/*.cpp autograd/kernels/*.cpp nn/*.cpp data/*.cpp)
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libqkv.a

# One program per file in examples/, one per folder in examples/ (e.g. examples/translator/).
EX_SRCS   := $(wildcard examples/*.cpp)
EX_BINS   := $(EX_SRCS:examples/%.cpp=$(BUILD)/%)
APP_SRCS  := $(wildcard examples/*/main_*.cpp)
APP_BINS  := $(addprefix $(BUILD)/,$(patsubst main_%.cpp,%,$(notdir $(APP_SRCS))))
APP_LIBSRCS := $(filter-out $(APP_SRCS),$(wildcard examples/*/*.cpp))
APP_LIBOBJS := $(APP_LIBSRCS:%.cpp=$(BUILD)/obj/%.o)

TEST_SRCS := $(filter-out tests/catch_main.cpp,$(wildcard tests/*.cpp))
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/obj/%.o)
TEST_MAIN := $(BUILD)/obj/tests/catch_main.o
TEST_BIN  := $(BUILD)/qkv_tests

# Catch2 is for the tests only, so `make` must not need it. Which one does the compiler see?
#   3: catch2/catch_all.hpp and the compiled library libCatch2 (Ubuntu 24.04, Debian 13)
#   2: the single header catch2/catch.hpp (Debian 12)
#   none: `make` builds the library and the examples and says the tests were skipped;
#         `make test` installs the distribution's catch2 package (or says what to install).
# tests/catch.h hides the difference from the test files. Override with CATCH2=2 or CATCH2=3.
CATCH2_PROBE = printf '\#include <catch2/%s>\n' $(1) | $(CXX) $(CXXFLAGS) -x c++ -E - -o /dev/null 2>/dev/null
ifndef CATCH2
CATCH2 := $(shell if $(call CATCH2_PROBE,catch_all.hpp); then echo 3; \
                  elif $(call CATCH2_PROBE,catch.hpp); then echo 2; else echo none; fi)
endif
CATCH2_LIBS = $(if $(filter 3,$(CATCH2)),-lCatch2)

# Keep the examples' object files (make would delete them as intermediates of the chained
# rules, and rebuild them all after any change).
.SECONDARY:

.PHONY: all lib examples test bench train sanitize fuzz fuzz-targets clean format install-catch2 tests-skipped
all: lib examples $(if $(filter none,$(CATCH2)),tests-skipped,$(TEST_BIN))
lib: $(LIB)
examples: $(EX_BINS) $(APP_BINS)

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(QKV_FLAGS) $(CXXFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%: $(BUILD)/obj/examples/%.o $(LIB)
	$(CXX) $(QKV_FLAGS) $(CXXFLAGS) $< $(LIB) -o $@ $(LDLIBS)

# An app folder: examples/translator/main_train_translator.cpp → build/train_translator,
# linked with the folder's other .cpp files.
define APP_RULE
$(BUILD)/$(patsubst main_%.cpp,%,$(notdir $(1))): $(BUILD)/obj/$(1:.cpp=.o) $(filter $(BUILD)/obj/$(dir $(1))%,$(APP_LIBOBJS)) $(LIB)
	$(CXX) $(QKV_FLAGS) $(CXXFLAGS) $$(filter-out $(LIB),$$^) $(LIB) -o $$@ $(LDLIBS)
endef
$(foreach s,$(APP_SRCS),$(eval $(call APP_RULE,$(s))))
# The exporter reads the translator's checkpoints and runs its model for --logits-out.
$(BUILD)/export_checkpoint: $(BUILD)/obj/examples/translator/checkpoint.o \
  $(BUILD)/obj/examples/translator/pipeline.o

tests-skipped: lib examples
	@echo "make: built the library and the examples; Catch2 not found, so not the tests (make test installs it)"

# Only when no Catch2 was found: install the distribution's package (Debian 12 gives v2,
# Ubuntu 24.04 and Debian 13 give v3; both work), or say what to install.
install-catch2:
	@if command -v apt-get >/dev/null 2>&1; then \
	  echo "make: Catch2 is missing; installing the package catch2 with apt-get"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  ($$SUDO apt-get install -y catch2 >/dev/null 2>&1 || ($$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y catch2 >/dev/null)) \
	    || { echo "make: could not install catch2; install Catch2 (v2 or v3), then run make test again"; exit 1; }; \
	else echo "make: Catch2 is missing: install Catch2 v2 (catch2/catch.hpp) or v3 (catch2/catch_all.hpp and libCatch2)"; exit 1; fi
	@if $(call CATCH2_PROBE,catch_all.hpp) || $(call CATCH2_PROBE,catch.hpp); then :; \
	else echo "make: catch2 was installed but $(CXX) still finds no Catch2 header"; exit 1; fi

$(TEST_MAIN): tests/catch_main.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(QKV_FLAGS) $(CXXFLAGS) $(DEPFLAGS) -c $< -o $@

# Tests find the sources (docs, corpora) and the example programs through these.
$(TEST_MAIN) $(TEST_OBJS): QKV_FLAGS += -DQKV_CATCH2=$(CATCH2)
$(TEST_OBJS): QKV_FLAGS += -DQKV_SOURCE_DIR='"$(CURDIR)"' -DQKV_BUILD_DIR='"$(abspath $(BUILD))"'

$(TEST_BIN): $(TEST_MAIN) $(TEST_OBJS) $(LIB)
	$(CXX) $(QKV_FLAGS) $(CXXFLAGS) $(LDFLAGS) $^ -o $@ $(CATCH2_LIBS) $(LDLIBS)

# The docs tests run the example programs, so they are built first. Without Catch2, install it
# and start again (a new make, so that it looks for Catch2 again).
ifeq ($(CATCH2),none)
test:
	@$(MAKE) --no-print-directory install-catch2
	@$(MAKE) --no-print-directory test
else
test: $(TEST_BIN) examples
	@$(TEST_BIN) $(TAGS)
endif

# The training step twice: every op split among the threads, then the batch in two shards, one
# per thread, as train_translator trains (chapter 14, "Training in shards").
bench: examples
	$(BUILD)/bench_kernels
	$(BUILD)/bench_train
	$(BUILD)/bench_train --shards 2

# Only the programs it runs, and the exporter its model can leave with (docs/export-to-pytorch.md):
# a fresh clone trains sooner than after building every example.
train: $(BUILD)/train_translator $(BUILD)/translate $(BUILD)/export_checkpoint
	@bash examples/translator/make_train.sh $(BUILD)

# The exercise track (docs/exercises.md): `make exercises` checks the learner's functions in
# examples/exercises/ch*.cpp, EX=name checks one, SOLUTIONS=1 checks the reference solutions.
# The learner's files are compiled only here, never by `make` or `make test`, so a half-written
# exercise breaks nothing else. The checker and the solutions are linked into the tests, which
# hold every solution to its check and every check to rejecting a stub and a wrong variant.
EXER_OBJS   = $(patsubst %.cpp,$(BUILD)/obj/%.o,$(wildcard examples/exercises/$(1)*.cpp))
EXER_MINE  := $(call EXER_OBJS,ch)
EXER_SOLS  := $(filter-out %/wrong_answers.o,$(call EXER_OBJS,solutions/))
EXER_CHECK := $(filter-out %/main.o,$(call EXER_OBJS,check/)) $(call EXER_OBJS,solutions/wrong_)
EXER_BIN   := $(BUILD)/$(if $(SOLUTIONS),exercise_solutions,exercises)
.PHONY: exercises
exercises: $(EXER_BIN)
	@$(EXER_BIN) $(EX)
$(EXER_MINE): QKV_FLAGS += -Wno-unused-parameter
$(BUILD)/exercises: $(BUILD)/obj/examples/exercises/check/main.o $(EXER_CHECK) $(EXER_MINE) $(LIB)
	$(CXX) $(QKV_FLAGS) $(CXXFLAGS) $^ -o $@ $(LDLIBS)
$(BUILD)/exercise_solutions: $(BUILD)/obj/examples/exercises/check/main.o $(EXER_CHECK) $(EXER_SOLS) $(LIB)
	$(CXX) $(QKV_FLAGS) $(CXXFLAGS) $^ -o $@ $(LDLIBS)
$(TEST_BIN): $(EXER_CHECK) $(EXER_SOLS)
$(TEST_BIN): LDLIBS += $(LIB)
examples: $(BUILD)/exercise_solutions

sanitize:
	$(MAKE) BUILD=build/sanitize CXXFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -Wno-error=maybe-uninitialized" test

# Fuzzing: every tests/fuzz/fuzz_*.cpp is a libFuzzer target, built with clang under ASan and
# UBSan in build/fuzz and run for FUZZ_SECONDS from its committed seeds (tests/fuzz/seeds/NAME;
# what it finds new goes to build/fuzz/corpus/NAME, a crash to build/fuzz/crash-*).
# Not part of `make test`: it needs clang's libFuzzer runtime (Debian: libclang-rt-14-dev).
FUZZ_SECONDS ?= 60
FUZZ_CXX     ?= clang++
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.cpp)
FUZZ_NAMES   := $(FUZZ_SRCS:tests/fuzz/%.cpp=%)
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_FLAGS    = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -Wno-pass-failed \
                -fno-omit-frame-pointer

fuzz:
	$(MAKE) BUILD=build/fuzz CXX=$(FUZZ_CXX) CXXFLAGS="$(FUZZ_FLAGS)" fuzz-targets
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  echo "== $$t: $(FUZZ_SECONDS) s"; \
	  OMP_NUM_THREADS=1 build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=build/fuzz/crash-$$t- -print_final_stats=1 \
	    $$(test -f tests/fuzz/$$t.dict && echo -dict=tests/fuzz/$$t.dict) \
	    build/fuzz/corpus/$$t tests/fuzz/seeds/$$t > build/fuzz/$$t.log 2>&1 \
	    || { tail -n 40 build/fuzz/$$t.log; echo "make fuzz: $$t failed (log: build/fuzz/$$t.log)"; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' build/fuzz/$$t.log; \
	done

fuzz-targets: $(FUZZ_TARGETS:%=$(BUILD)/%)

# The checkpoint target reads the translator's checkpoint, so it links the app folder's code.
$(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(filter $(BUILD)/obj/examples/translator/%,$(APP_LIBOBJS)) $(LIB)
	$(CXX) $(QKV_FLAGS) $(CXXFLAGS) -fsanitize=fuzzer $(filter-out $(LIB),$^) $(LIB) -o $@ $(LDLIBS)
# The JSON target also runs the config reader of `export_checkpoint --import`.
$(BUILD)/fuzz_json: $(filter $(BUILD)/obj/examples/export/%,$(APP_LIBOBJS))

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
