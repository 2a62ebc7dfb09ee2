# Makefile - build, test and install diagagent.
#
#   make            build build/diagagent
#   make deps       install missing Debian packages (root, apt-get update first)
#   make test       deps + build + host setup, then unit and integration tests
#   make run        deps + build + host setup, then the main job (see README)
#   make asan       the test suites under AddressSanitizer + UBSan
#   make valgrind   the test suites under valgrind, leaks count as failures
#   make torture    every allocation of the spec, scanner, config, job and
#                   knowledge-base paths made to fail in turn (test/torture)
#   make lint       clang-format, cppcheck and clang-tidy; any finding fails (scripts/lint)
#   make install    PREFIX=/usr/local DESTDIR=  (the binary, man page, agent.conf, unit,
#                   copies of the knowledge base and the diagnose presets)
#
# Quiet by default; V=1 prints the full commands.

.DELETE_ON_ERROR:
.SUFFIXES:

VERSION   := 0.1.0
BUILD     ?= build
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
PKGS      := libcurl jansson libpcre2-8 libbpf libelf libdw
SAN       ?=

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

WARN      := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wno-unused-parameter
CFLAGS    ?= -O2 -g
comma     := ,
SAN_FLAGS := $(if $(SAN),-fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DDIAG_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) \
             $(SAN_FLAGS) -I. -I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

LIB_SRC   := $(filter-out agent/main.c,$(wildcard agent/*.c tracespec/*.c parser/*.c))
PRESETS   := $(wildcard scripts/presets/*.bt)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/tracespec/kb_builtin.o \
             $(BUILD)/obj/tracespec/presets_builtin.o
MAIN_OBJ  := $(BUILD)/obj/agent/main.o
UNIT_SRC  := $(wildcard test/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
WORK_SRC  := $(wildcard test/workloads/*.c)
WORK_BIN  := $(WORK_SRC:test/workloads/%.c=$(BUILD)/workloads/%)
FUZZ_SRC  := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN  := $(FUZZ_SRC:test/fuzz/%.c=$(BUILD)/fuzz/%)
LIBDIAG   := $(BUILD)/libdiag.a
TORTURE   := $(BUILD)/test/test_torture

.PHONY: all deps setup test check run asan valgrind torture bench fuzz lint print-cflags install uninstall clean tests-bin fuzz-bin

all: $(BUILD)/diagagent

$(BUILD)/diagagent: $(MAIN_OBJ) $(LIBDIAG)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(LIBDIAG): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The knowledge base goes into the binary whole (.incbin), so the binary
# works from any directory; the object depends on the data file.
$(BUILD)/obj/tracespec/kb_builtin.o: tracespec/kb_builtin.S tracespec/symptoms.kb
	@mkdir -p $(@D)
	$(call msg,AS,$<)
	$(Q)$(CC) $(SAN_FLAGS) -c -o $@ $<

# Syscall names by number, from the C library's headers for this architecture.
$(BUILD)/gen/sysnr_table.h:
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)printf '#include <asm/unistd.h>\n' | $(CC) -dM -E - | \
	  awk '$$1 == "#define" && $$2 ~ /^__NR_/ && $$3 ~ /^[0-9]+$$/ { print $$3, substr($$2, 6) }' | \
	  sort -n -u -k1,1 | awk '{ printf "[%d] = \"%s\",\n", $$1, $$2 }' > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/tracespec/sysnr.o: $(BUILD)/gen/sysnr_table.h

# The diagnose presets go into the binary whole, like the knowledge base:
# a table of (name, text, length), each text NUL-terminated.
$(BUILD)/gen/presets_builtin.S: $(PRESETS) Makefile
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q){ echo '/* generated from scripts/presets/NAME.bt by the Makefile */'; \
	  echo '	.section .rodata'; \
	  for f in $(PRESETS); do n=$$(basename $$f .bt); \
	    printf 'name_%s:\n	.asciz "%s"\n	.balign 16\ntext_%s:\n	.incbin "%s"\n	.byte 0\nend_%s:\n' $$n $$n $$n $$f $$n; \
	  done; \
	  echo '	.section .data.rel.ro'; echo '	.balign 8'; \
	  echo '	.global diag_presets_builtin'; echo 'diag_presets_builtin:'; \
	  for f in $(PRESETS); do n=$$(basename $$f .bt); \
	    printf '	.quad name_%s, text_%s, end_%s - text_%s - 1\n' $$n $$n $$n $$n; \
	  done; \
	  echo '	.quad 0, 0, 0'; \
	  echo '	.section .note.GNU-stack,"",@progbits'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/tracespec/presets_builtin.o: $(BUILD)/gen/presets_builtin.S $(PRESETS)
	@mkdir -p $(@D)
	$(call msg,AS,$<)
	$(Q)$(CC) $(SAN_FLAGS) -c -o $@ $<

$(BUILD)/test/%: test/unit/%.c $(LIBDIAG)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBDIAG) $(ALL_LDFLAGS) $(PKG_LIBS) -lcmocka

# The torture test links the project's objects with every allocating call
# wrapped (test/torture/torture.h), so each one can be made to fail in turn.
TORTURE_WRAP := malloc calloc realloc free strdup strndup asprintf vasprintf getline getdelim __getdelim \
	fopen fclose opendir fdopendir closedir pcre2_compile_8 pcre2_code_free_8 pcre2_match_data_create_8 \
	pcre2_match_data_create_from_pattern_8 pcre2_match_data_free_8 pcre2_match_context_create_8 \
	pcre2_match_context_free_8 json_loadb
$(TORTURE): test/torture/test_torture.c test/torture/torture.c test/torture/torture.h $(LIBDIAG)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ test/torture/test_torture.c test/torture/torture.c $(LIBDIAG) \
	  $(ALL_LDFLAGS) $(addprefix -Wl$(comma)--wrap=,$(TORTURE_WRAP)) $(PKG_LIBS) -lcmocka

# Workloads are plain C with no project code: their behaviour must be exact.
$(BUILD)/workloads/%: test/workloads/%.c test/workloads/gate.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o $@ $<

# The fuzz targets: linked with test/fuzz/replay.c (a main that feeds them
# files) for the suites, or with libFuzzer when LIBFUZZER=1 (test/fuzz/run.sh
# builds them so with clang). fuzz-bin builds only these.
ifeq ($(LIBFUZZER),1)
FUZZ_MAIN :=
FUZZ_LINK := -fsanitize=fuzzer
else
FUZZ_MAIN := test/fuzz/replay.c
FUZZ_LINK :=
endif
$(BUILD)/fuzz/%: test/fuzz/%.c $(FUZZ_MAIN) $(LIBDIAG)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(FUZZ_MAIN) $< $(LIBDIAG) $(FUZZ_LINK) $(ALL_LDFLAGS) $(PKG_LIBS)

fuzz-bin: $(FUZZ_BIN)

tests-bin: $(BUILD)/diagagent $(UNIT_BIN) $(TORTURE) $(WORK_BIN) $(FUZZ_BIN)

deps:
	$(Q)scripts/deps

setup:
	$(Q)scripts/setup-host

# Order matters: packages first (pkg-config needs them), then a fresh make so
# the pkg-config flags are read with the libraries present.
test: deps
	$(Q)$(MAKE) --no-print-directory tests-bin
	$(Q)scripts/setup-host
	$(Q)BUILD=$(BUILD) test/run

check: test

run: deps
	$(Q)$(MAKE) --no-print-directory all $(WORK_BIN)
	$(Q)scripts/setup-host
	$(Q)scripts/demo $(BUILD)

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan SAN=1 tests-bin
	$(Q)scripts/setup-host
	$(Q)BUILD=build/asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 test/run

# Under valgrind these run ~50x slower with nothing new to show: the spec
# suites repeat code the golden suite covers, the truth tests' storms are
# millions of events. make asan runs them all. The torture test fails every
# 4th allocation there (2 minutes for all of them; make torture and make asan
# fail each one). Suites with a table of cases run every 4th there
# (test/lib.sh's sampled): each diagagent start takes seconds under valgrind.
VALGRIND_SKIP ?= spec_tracepy trace_truth
VALGRIND_TORTURE_STRIDE ?= 4
VALGRIND_WRAP_STRIDE ?= 4
valgrind: deps
	$(Q)scripts/deps valgrind
	$(Q)$(MAKE) --no-print-directory BUILD=build/vg CFLAGS='-O0 -g' tests-bin
	$(Q)scripts/setup-host
	$(Q)BUILD=build/vg SKIP='$(VALGRIND_SKIP)' TORTURE_STRIDE=$(VALGRIND_TORTURE_STRIDE) WRAP_STRIDE=$(VALGRIND_WRAP_STRIDE) WRAP='valgrind -q --suppressions=$(CURDIR)/test/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99' test/run

# Every allocation on the spec, scanner, config, job and knowledge-base paths
# failed in turn, with a line of figures per path (make test runs it too).
torture: deps
	$(Q)$(MAKE) --no-print-directory $(TORTURE)
	$(Q)scripts/setup-host
	$(Q)ROOT=$(CURDIR) $(TORTURE)

# Figures as ratios against references run in the same invocation; never a failing test.
bench: deps
	$(Q)$(MAKE) --no-print-directory tests-bin
	$(Q)scripts/setup-host
	$(Q)BUILD=$(BUILD) python3 test/bench/bench.py

# libFuzzer targets (clang), each for FUZZ_SECONDS on its corpus.
FUZZ_SECONDS ?= 60
fuzz: deps
	$(Q)test/fuzz/run.sh $(FUZZ_SECONDS)

# Static analysis with the checked-in configurations (.clang-format, .clang-tidy,
# scripts/lint.cppcheck.*); installs the tools when missing.
lint:
	$(Q)BUILD=$(BUILD) scripts/lint

# The compile flags on one line, as the compiler gets them: scripts/lint
# builds clang-tidy's compilation database from them.
print-cflags:
	$(info $(ALL_CFLAGS))
	@:

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/etc/diagagent \
	  $(DESTDIR)$(PREFIX)/share/diagagent $(DESTDIR)$(PREFIX)/share/diagagent/presets
	install -m 0755 $(BUILD)/diagagent $(DESTDIR)$(PREFIX)/bin/diagagent
	install -m 0755 scripts/setup-host $(DESTDIR)$(PREFIX)/share/diagagent/setup-host
	install -m 0644 scripts/diagagent.8 $(DESTDIR)$(PREFIX)/share/man/man8/diagagent.8
	install -m 0644 tracespec/symptoms.kb $(DESTDIR)$(PREFIX)/share/diagagent/symptoms.kb
	install -m 0644 $(PRESETS) scripts/presets/README.md $(DESTDIR)$(PREFIX)/share/diagagent/presets/
	install -m 0600 agent.conf $(DESTDIR)$(PREFIX)/etc/diagagent/agent.conf
	sed 's|@PREFIX@|$(PREFIX)|g' scripts/diagagent.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/diagagent.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/diagagent.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/diagagent $(DESTDIR)$(PREFIX)/share/man/man8/diagagent.8 \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system/diagagent.service \
	  $(DESTDIR)$(PREFIX)/share/diagagent/setup-host $(DESTDIR)$(PREFIX)/share/diagagent/symptoms.kb
	rm -rf $(DESTDIR)$(PREFIX)/share/diagagent/presets

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(BUILD)/test $(BUILD)/fuzz -name '*.d' 2>/dev/null)
