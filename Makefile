# veilig: build, run, test and install veiligd.
#
#   make run      install missing packages, build, run on conf/veiligd.yaml
#   make check    install missing packages, build, run every test
#   make bench    blast against veiligd, dnsdist, Unbound and echo
#                 (every mix, 3 rounds of 5 s; make bench-quick: 2 s)
#   make lint     function length and parameter limits (tests/funclen.py)
#   make blast-test  blast's counts against echo (tests/bench, a second),
#                 and make bench's open-loop marks and boards target
#                 (run --self-test)
#   make tsan     the unit tests under ThreadSanitizer (make check runs it)
#   make report-test   veilig-report's unit tests and its pages in Chromium
#   make bench-report  a year of statistics for 1,000 boards into pages
#   make install  PREFIX=/usr/local DESTDIR=
#
# Objects go to build/ (normal), build/asan/ (ASan + UBSan) and
# build/tsan/ (ThreadSanitizer, SAN=thread); each variant is this
# Makefile run again with B= and SAN= set.

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DATADIR		?= $(PREFIX)/share/veilig
SYSCONFDIR	?= /etc
UNITDIR		?= /lib/systemd/system
SYSUSERSDIR	?= /usr/lib/sysusers.d
TMPFILESDIR	?= /usr/lib/tmpfiles.d
DESTDIR		?=

CC		?= cc
B		?= build
SAN		?=
WERROR		?=
PKGS		= ldns libevent libevent_pthreads yaml-0.1 libsystemd liburcu-memb \
		  libmaxminddb libpsl jansson

WARN		= -Wall -Wextra -Wformat=2 -Wmissing-prototypes \
		  -Wstrict-prototypes -Wshadow -Wpointer-arith -Wwrite-strings \
		  -Wundef $(WERROR)
OPT		= -O2 -g
ifeq ($(SAN),1)
OPT		= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		  -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),thread)
OPT		= -O1 -g -fsanitize=thread -fno-omit-frame-pointer
endif
# Debian's hardening flags (dpkg-buildflags, hardening=+all), and PIE said
# out loud rather than left to the compiler's default; tests/elf/hardening
# checks the binaries for them. In CFLAGS, not CPPFLAGS, so that neither
# the sanitizer build nor the fuzz targets (clang, with flags of their
# own, below) get them: ASan intercepts the string functions
# FORTIFY_SOURCE replaces.
ifeq ($(SAN),)
HARDEN		= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 \
		  -fstack-protector-strong -fPIE
LDFLAGS		+= -pie -Wl,-z,relro,-z,now
endif
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CPPFLAGS	+= -D_GNU_SOURCE -Isrc -DVEILIG_DATADIR='"$(DATADIR)"'
CFLAGS		+= -std=c11 $(OPT) $(HARDEN) $(WARN) $(PKG_CFLAGS) $(REPORT_CFLAGS)
LDFLAGS		+= $(OPT) $(HARDEN)
LDLIBS		+= $(PKG_LIBS) -lpthread -lm

# Every module but the one with main(); tests link the archive. The live
# page (live.c) writes numbers and dates as veilig-report does, with its
# report_fmt.c and report_date.c (libc only).
LIB_SRCS	= src/log.c src/wire.c src/cache.c src/conf.c src/snapshot.c \
		  src/fwd.c src/worker.c src/domtable.c src/lists.c src/iptable.c \
		  src/geo.c src/listset.c src/policy.c src/control.c \
		  src/inflight.c src/query.c src/siphash.c src/hll.c src/kanon.c \
		  src/site.c src/stats.c src/statsfile.c src/metrics.c src/priv.c \
		  src/quota.c src/rrl.c src/live.c src/memo.c src/report_fmt.c \
		  src/report_date.c src/huge.c src/randbuf.c src/jsonw.c
LIB_OBJS	= $(LIB_SRCS:src/%.c=$(B)/%.o)
UNIT_TESTS	= $(patsubst tests/unit/%.c,$(B)/%,$(wildcard tests/unit/test_*.c))

# veilig-report reads the statistics files with yajl; its modules are
# an archive of their own, so that veiligd does not link yajl.
REPORT_SRCS	= src/report_agg.c src/report_date.c src/report_fmt.c \
		  src/report_map.c src/report_mem.c src/report_page.c \
		  src/report_read.c src/report_rec.c src/report_svg.c
REPORT_OBJS	= $(REPORT_SRCS:src/%.c=$(B)/%.o)
REPORT_CFLAGS	:= $(shell pkg-config --cflags yajl 2>/dev/null)
REPORT_LIBS	:= $(shell pkg-config --libs yajl 2>/dev/null) -lm

.PHONY: all run check deps deps-check deps-bench unit e2e doccheck asan tsan \
	hardencheck fuzz fuzz-build lint bench bench-quick blast-test install \
	clean report-test bench-report boardcost

all: $(B)/veiligd $(B)/veiligctl $(B)/blast $(B)/echo $(B)/veilig-report

$(B)/%.o: src/%.c src/*.h | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libveilig.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/veiligd: $(B)/veiligd.o $(B)/libveilig.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# veiligctl needs nothing but libc.
$(B)/veiligctl: $(B)/veiligctl.o
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/libreport.a: $(REPORT_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/veilig-report: $(B)/veilig-report.o $(B)/libreport.a
	$(CC) $(LDFLAGS) -o $@ $^ $(REPORT_LIBS)

# The statistics generator for the report's tests and benchmark.
$(B)/mkstats: tests/bench/mkstats.c | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lm

$(B)/test_report_%: tests/unit/test_report_%.c $(B)/libreport.a
	$(CC) $(CPPFLAGS) $(CFLAGS) $(REPORT_CFLAGS) -o $@ $< \
	    $(B)/libreport.a $(REPORT_LIBS) -lcmocka

# What the unit tests that load files share (tests/unit/tdir.h).
$(B)/tdir.o: tests/unit/tdir.c tests/unit/tdir.h | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The close's records read back by veilig-report's parser as well.
$(B)/test_stats_records: tests/unit/test_stats_records.c $(B)/tdir.o \
    $(B)/libveilig.a $(B)/libreport.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wl,--wrap=fstat -o $@ $< $(B)/tdir.o \
	    $(B)/libveilig.a $(B)/libreport.a $(LDLIBS) $(REPORT_LIBS) \
	    -lcmocka

# The modules' fstat(2) goes through tdir.c's (tdir_change_on_read()).
$(B)/test_%: tests/unit/test_%.c $(B)/tdir.o $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wl,--wrap=fstat -o $@ $< $(B)/tdir.o \
	    $(B)/libveilig.a $(LDLIBS) -lcmocka

$(B):
	mkdir -p $@

deps:
	sh .ci/deps build
deps-check:
	sh .ci/deps check
deps-bench:
	sh .ci/deps bench

run: deps
	$(MAKE) all
	./$(B)/veiligd -d -c conf/veiligd.yaml

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

# The attack tool of the end-to-end tests (test_limits.py), next to veiligd.
$(B)/flood: tests/e2e/flood.c | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<

# The end-to-end tests (tests/e2e/README.md) with the pytest of Debian's
# python3, which has dnspython: quiet, each failure with the stderr tail
# of the daemons it used, the reason of any skip. The fake upstream they
# ask checks itself first.
PYTEST		?= /usr/bin/python3 -m pytest
e2e: all $(B)/mkstats $(B)/flood
	/usr/bin/python3 tests/e2e/fakeup.py --self-test
	$(PYTEST) -q -rfEs tests/e2e --veiligd ./$(B)/veiligd

# veilig-report alone: its unit tests, then its pages in Chromium
# (screenshots and a printed PDF in build/report-e2e/).
report-test: all $(B)/mkstats \
    $(B)/test_report_agg $(B)/test_report_fmt
	$(B)/test_report_agg
	$(B)/test_report_fmt
	$(PYTEST) -q -rfEs tests/e2e/test_report.py --veiligd ./$(B)/veiligd

# A year of statistics for 1,000 boards into all their pages: time and
# peak memory (tests/bench/README.md). BENCH_STATS= keeps the data set.
bench-report: $(B)/veilig-report $(B)/mkstats
	sh tests/bench/report ./$(B)/veilig-report ./$(B)/mkstats

# The man pages: the KEYS sections of veiligd.yaml.5 and veilig-board.5
# against the key tables of conf.c (tests/doc/mankeys.c says why a check
# and not a generator), and every page renders without a warning.
$(B)/mankeys: tests/doc/mankeys.c $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libveilig.a $(LDLIBS)

doccheck: $(B)/mankeys
	./$(B)/mankeys -c doc
	sh tests/doc/mutants ./$(B)/mankeys doc
	sh tests/doc/render doc/*.[1-9]

# The binaries carry the hardening flags above (PIE, RELRO, BIND_NOW,
# stack protector, FORTIFY_SOURCE), as hardening-check(1) would say; the
# unit's exposure (systemd-analyze security) stays at 1.6 or lower.
hardencheck: all
	sh tests/elf/hardening $(B)/veiligd $(B)/veiligctl
	sh tests/systemd/security systemd/veiligd.service 1.6

# The unit and end-to-end tests again under ASan and UBSan.
asan:
	$(MAKE) B=build/asan SAN=1 WERROR=$(WERROR) unit e2e

# The unit tests under ThreadSanitizer: the cache's unlocked reads and
# the prefetching thread, the stats flip, the in-flight table, the
# quotas. A report stops the test and fails the target.
tsan:
	$(MAKE) -j$(NPROC) B=build/tsan SAN=thread WERROR=$(WERROR) \
	    $(UNIT_TESTS:$(B)/%=build/tsan/%)
	TSAN_OPTIONS=halt_on_error=1 $(MAKE) B=build/tsan SAN=thread unit

# libFuzzer targets, built with clang; `make fuzz` runs each for a while.
# The modules are compiled once into archives with the fuzzer's
# instrumentation, and each target links what it uses from them.
FUZZ_TARGETS	= $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECS	?= 300
NPROC		:= $(shell nproc 2>/dev/null || echo 1)
FUZZ_CFLAGS	= -std=c11 -g -O1 -fsanitize=address,undefined
FUZZ_OBJS	= $(LIB_SRCS:src/%.c=build/fuzz/obj/%.o)
FUZZ_REPORT_OBJS = $(REPORT_SRCS:src/%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: src/%.c src/*.h
	@mkdir -p build/fuzz/obj
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    $(PKG_CFLAGS) $(REPORT_CFLAGS) -c $< -o $@
build/fuzz/libveilig.a: $(FUZZ_OBJS)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJS)
build/fuzz/libreport.a: $(FUZZ_REPORT_OBJS)
	rm -f $@
	ar rcs $@ $(FUZZ_REPORT_OBJS)
# veilig-report's record parser: its own modules and yajl, not veiligd's.
build/fuzz/fuzz_report_%: tests/fuzz/fuzz_report_%.c build/fuzz/libreport.a
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(REPORT_CFLAGS) \
	    -o $@ $< build/fuzz/libreport.a $(REPORT_LIBS)
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libveilig.a
	clang $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) \
	    -o $@ $< build/fuzz/libveilig.a $(PKG_LIBS) -lpthread -lm
fuzz-build: $(FUZZ_TARGETS)
fuzz: deps-check fuzz-build
	@set -e; for f in $(FUZZ_TARGETS); do \
	    n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	    $$f -max_total_time=$(FUZZ_SECS) build/fuzz/corpus-$$n \
	        tests/fuzz/corpus/$$n; done

LINT_C		= src/*.c src/*.h tests/unit/*.c tests/fuzz/*.c tests/fuzz/*.h \
		  tests/e2e/*.c tests/doc/*.c tests/bench/*.c
# No function in src/ longer than 100 lines or with more than 8
# parameters (tests/funclen.py says which and why).
lint:
	/usr/bin/python3 tests/funclen.py --self-test
	/usr/bin/python3 tests/funclen.py
	@# One return style, OpenBSD's: return (x);
	@if grep -nE '^[[:space:]]*return [^(]' $(LINT_C); then \
	    echo "lint: write return (x); as the lines above do not" >&2; \
	    exit 1; fi

check: deps-check
	$(MAKE) -j$(NPROC) WERROR=-Werror all $(B)/hitpath $(B)/hitbatch \
	    $(B)/overlay $(B)/boardpath $(B)/sitepath
	$(MAKE) WERROR=-Werror lint hardencheck unit doccheck blast-test e2e
	$(MAKE) -j$(NPROC) B=build/asan SAN=1 WERROR=-Werror all
	$(MAKE) WERROR=-Werror asan
	$(MAKE) WERROR=-Werror tsan
	$(MAKE) -j$(NPROC) fuzz-build
	$(MAKE) -j$(NPROC) fuzz-check
	@echo "make check: all tests passed"

# Each fuzz target for a bounded run (200,000 inputs or 20 s) from its
# corpus, as many at once as there are CPUs; a failure shows its log's
# tail.
FUZZ_CHECKS	= $(FUZZ_TARGETS:build/fuzz/%=fuzz-check-%)
.PHONY: fuzz-check $(FUZZ_CHECKS)
fuzz-check: $(FUZZ_CHECKS)
$(FUZZ_CHECKS): fuzz-check-%: build/fuzz/%
	@rm -rf build/fuzz/check-$*; mkdir -p build/fuzz/check-$*
	@if ! build/fuzz/$* -runs=200000 -max_total_time=20 \
	    build/fuzz/check-$* tests/fuzz/corpus/$* \
	    > build/fuzz/check-$*.log 2>&1; then \
	    echo "== build/fuzz/$* (bounded run) failed:"; \
	    tail -50 build/fuzz/check-$*.log; exit 1; fi
	@echo "== build/fuzz/$* (bounded run):" \
	    "$$(grep -E '^Done [0-9]+ runs' build/fuzz/check-$*.log)"

# Lists at scale: a million synthetic names plus the real lists in
# BENCH_LISTS (a directory of *.txt lists, not part of this repository;
# skipped when it does not exist): load time, memory per entry,
# lookups/second. tests/bench/run blocks the same lists (and takes
# BENCH_LISTS as files and directories separated by commas too; listload
# alone, a directory only, is then not run: tests/bench/README.md).
BENCH_LISTS	?= ../shared/data/blocklists
$(B)/listload: tests/bench/listload.c $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libveilig.a $(LDLIBS)

# The load generator and the bare echo server of the benchmarks: libc only.
$(B)/blast: tests/bench/blast.c | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lm
$(B)/echo: tests/bench/echo.c | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

# blast against echo and against a port where nothing listens (< 5 s),
# and make bench's open-loop accounting on made-up runs (no server).
blast-test: $(B)/blast $(B)/echo
	sh tests/bench/blast-test $(B)
	/usr/bin/python3 tests/bench/run --self-test

# What the in-process query benches share (tests/bench/qbench.h).
$(B)/qbench.o: tests/bench/qbench.c tests/bench/qbench.h src/query.h | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The instructions of one cache hit, for callgrind (tests/bench/README.md).
$(B)/hitpath: tests/bench/hitpath.c $(B)/qbench.o $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/qbench.o $(B)/libveilig.a \
	    $(LDLIBS)

# What a query costs with N boards, statistics and their fold included,
# for callgrind (tests/bench/boardcost).
$(B)/boardpath: tests/bench/boardpath.c $(B)/qbench.o $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/qbench.o $(B)/libveilig.a \
	    $(LDLIBS)

# A blocked name new to its board, into the site tables, for callgrind.
$(B)/sitepath: tests/bench/sitepath.c $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libveilig.a $(LDLIBS)

# Cache hits one by one against the UDP worker's steps, in nanoseconds.
$(B)/hitbatch: tests/bench/hitbatch.c $(B)/qbench.o $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/qbench.o $(B)/libveilig.a \
	    $(LDLIBS)

# The cache's cost per miss once full, in nanoseconds (tests/bench/README.md).
$(B)/cachechurn: tests/bench/cachechurn.c $(B)/qbench.o $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/qbench.o $(B)/libveilig.a \
	    $(LDLIBS)

# The cache's table doublings while it fills, in microseconds.
$(B)/cachegrow: tests/bench/cachegrow.c $(B)/qbench.o $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/qbench.o $(B)/libveilig.a \
	    $(LDLIBS)

# A lookup in a domain table with an overlay against one compiled anew.
$(B)/overlay: tests/bench/overlay.c $(B)/libveilig.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libveilig.a $(LDLIBS)

# The lockstat shim (tests/bench/lockstat.c), preloaded into veiligd by
# make bench to count contended mutexes.
$(B)/lockstat.so: tests/bench/lockstat.c | $(B)
	$(CC) $(CPPFLAGS) $(CFLAGS) -shared -fPIC -o $@ $< -ldl

# make bench: every server and mix, tests/bench/README.md says which
# (about 20 minutes); VEILIGD_BASELINE=/path/veiligd measures an older
# binary beside it. bench-quick: still 3 rounds, of 2 s, no lock run.
bench: deps-bench all $(B)/listload $(B)/lockstat.so $(B)/boardpath
	if [ -d "$(BENCH_LISTS)" ]; then ./$(B)/listload "$(BENCH_LISTS)"; fi
	BENCH_LISTS=$(BENCH_LISTS) BUILD=$(B) /usr/bin/python3 tests/bench/run

bench-quick: deps-bench all $(B)/listload $(B)/lockstat.so $(B)/boardpath
	BENCH_SECONDS=$${BENCH_SECONDS:-2} BENCH_LOCKS=$${BENCH_LOCKS:-0} \
	    BENCH_LISTS=$(BENCH_LISTS) BUILD=$(B) /usr/bin/python3 tests/bench/run

# What a query costs at 1, 1,000 and 10,000 boards in instructions and
# simulated cache misses (callgrind, deterministic; tests/bench/README.md).
# About 4 minutes; needs valgrind.
boardcost: deps-bench $(B)/boardpath
	/usr/bin/python3 tests/bench/boardcost --boardpath $(B)/boardpath \
	    --json $(B)/boardcost.json

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/veilig \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR)
	install -d $(DESTDIR)$(DATADIR)
	install -m 755 $(B)/veiligd $(DESTDIR)$(SBINDIR)/veiligd
	install -m 755 $(B)/veiligctl $(DESTDIR)$(SBINDIR)/veiligctl
	install -m 755 $(B)/veilig-report $(DESTDIR)$(SBINDIR)/veilig-report
	install -m 755 src/veilig-update-lists \
	    $(DESTDIR)$(SBINDIR)/veilig-update-lists
	install -m 644 blocklists/safesearch.txt blocklists/canaries.txt \
	    $(DESTDIR)$(DATADIR)/
	# Every page in doc/, with the data directory of this build.
	@set -e; for f in doc/*.[1-9]; do \
	    d=$(DESTDIR)$(MANDIR)/man$${f##*.}; install -d $$d; \
	    echo "install $$f $$d/"; \
	    sed 's|/usr/local/share/veilig|$(DATADIR)|g' $$f > $$d/$${f#doc/}; \
	    chmod 644 $$d/$${f#doc/}; done
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/veiligd.service \
	    > $(DESTDIR)$(UNITDIR)/veiligd.service
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/veilig-update-lists.service \
	    > $(DESTDIR)$(UNITDIR)/veilig-update-lists.service
	install -m 644 systemd/veilig-update-lists.timer $(DESTDIR)$(UNITDIR)/
	install -m 644 systemd/veiligd.sysusers $(DESTDIR)$(SYSUSERSDIR)/veiligd.conf
	install -m 644 systemd/veiligd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/veiligd.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/veilig/veiligd.yaml || \
	    sed 's|/usr/local/share/veilig|$(DATADIR)|g' \
	        conf/veiligd-production.yaml \
	        > $(DESTDIR)$(SYSCONFDIR)/veilig/veiligd.yaml

clean:
	rm -rf build
