# Ciclo's front door. `make test` and `make demo` are the two commands a newcomer runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DB_DIR  ?= $(CURDIR)/.ciclo/pg
DB_PORT ?= 54329
SWIFT   ?= swift
PG_BIN  := $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

.PHONY: help deps build release test test-reliability check-deploy demo demo-stop db db-stop psql migrate bench-client bench-queue bench-render profile-render bench-scheduler bench-partitions bench-reporter bench-tracking clean

help:
	@echo "make test          build and run the tests against a throwaway PostgreSQL"
	@echo "make test-reliability  chaos, held snapshot, soak, fuzzing and attacks (about 45 min; not part of make test)"
	@echo "make demo          the real processes on a local PostgreSQL (Ctrl-C or make demo-stop to stop)"
	@echo "make check-deploy  check deploy/ (systemd units, Dockerfile, compose, Kubernetes) with the tools that read it"
	@echo "make db            start the local PostgreSQL under .ciclo/ and print its URL"
	@echo "make db-stop       stop it"
	@echo "make psql          open psql on it"
	@echo "make migrate       apply schema/ to it"
	@echo "make bench-client  client benchmark beside pgbench and psql on the same server"
	@echo "make bench-queue   queue drain, pickup latency and enqueue beside pgbench on the same SQL"
	@echo "make bench-render  rendering throughput per channel beside the drain rate"
	@echo "make profile-render  instructions per rendered email under callgrind (CHANNEL=email COUNT=2000; CHANNEL=email-message for the path before)"
	@echo "make bench-scheduler  a full recurring pass over 1M customers beside a plain INSERT ... SELECT"
	@echo "make bench-partitions migration 0011 and event reads on monthly partitions beside unpartitioned copies"
	@echo "make bench-reporter   folding 10M raw outcomes beside a plain GROUP BY; ciclo report latency"
	@echo "make bench-tracking   the reporter's open pixel under wrk beside pgbench running the same INSERT"

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The tests need a real server: with-test-db.sh starts one in a temporary directory and removes it afterwards.
test: deps
	$(SWIFT) build --build-tests
	SWIFT='$(SWIFT)' scripts/with-test-db.sh scripts/swift-test.sh --skip-build --skip DemoTests --skip SimulationRulesTests
	@# The 60-day simulation holds one transaction open for a minute or more (`ciclo simulate` rolls back), and the
	@# reporter folds only what is older than every open transaction on the server: on a server of its own it holds
	@# back no other test's fold.
	SWIFT='$(SWIFT)' scripts/with-test-db.sh scripts/swift-test.sh --skip-build --filter SimulationRulesTests
	@# The demo test starts a whole system of its own: it runs alone, after the rest, so its load times no other test.
	SWIFT='$(SWIFT)' scripts/with-test-db.sh scripts/swift-test.sh --skip-build --filter DemoTests

# Not part of `make test`: real processes under kill -9, a PostgreSQL restart, a five-minute open transaction, a
# 30-minute soak, fuzzing and attacks. The suites run one after another (CICLO_RELIABILITY=1 enables them) and each
# writes its line of the summary table; shorten a run with CICLO_CHAOS_SENDS, CICLO_HELD_SECONDS, CICLO_SOAK_SECONDS,
# CICLO_FUZZ_COUNT (see Tests/CicloReliabilityTests). FILTER narrows it to some suites (e.g. FILTER=Chaos).
# Chaos runs on a durable server: with synchronous_commit off, an immediate restart loses commits the workers were
# already told of, and its accounting of attempts would measure the test server rather than Ciclo. The rest run on
# the fast one: on 2 shared cores a durable server does not sustain the held snapshot's 1,000 sends/s.
RELIABILITY_RESULTS ?= $(CURDIR)/.ciclo/reliability
test-reliability: deps
	$(SWIFT) build --build-tests
	rm -rf $(RELIABILITY_RESULTS) && mkdir -p $(RELIABILITY_RESULTS)
	status=0; export CICLO_RELIABILITY=1 CICLO_RELIABILITY_RESULTS=$(RELIABILITY_RESULTS); \
	if [ -z "$(FILTER)" ] || [ "$(FILTER)" = Chaos ]; then scripts/with-test-db.sh --durable \
		$(SWIFT) test --skip-build --filter 'CicloReliabilityTests.*Chaos' || status=$$?; fi; \
	if [ "$(FILTER)" != Chaos ]; then scripts/with-test-db.sh \
		$(SWIFT) test --skip-build --filter 'CicloReliabilityTests.*$(or $(FILTER),(HeldSnapshot|Soak|BadInput|Security))' \
		|| status=$$?; fi; \
	scripts/reliability-summary.py $(RELIABILITY_RESULTS); exit $$status

# Not part of `make test`: it is fast (seconds) but needs checkers the tests do not (see scripts/check-deploy.sh).
check-deploy:
	@scripts/deps.sh --deploy
	@scripts/check-deploy.sh

demo: release
	@scripts/demo.sh

demo-stop:
	@if [ -f .ciclo/demo.pids ]; then xargs -r kill -TERM < .ciclo/demo.pids 2>/dev/null || true; : > .ciclo/demo.pids; fi
	@scripts/pg.sh stop $(DB_DIR)
	@echo "demo stopped"

db: deps
	@scripts/pg.sh start $(DB_DIR) $(DB_PORT)

db-stop:
	@scripts/pg.sh stop $(DB_DIR)

psql: db
	$(PG_BIN)/psql "$$(scripts/pg.sh url $(DB_DIR))"

migrate: db build
	CICLO_DATABASE_URL="$$(scripts/pg.sh url $(DB_DIR))" $(SWIFT) run ciclo migrate

bench-client: release
	scripts/with-test-db.sh --durable .build/release/ciclo-bench client

bench-queue: release
	scripts/with-test-db.sh --durable .build/release/ciclo-bench queue

# RENDER_ARGS=--handler-only: only the channel handler's drain of a campaign's email jobs, three times.
RENDER_ARGS ?=
bench-render: release
	scripts/with-test-db.sh --durable sh -c '.build/release/ciclo migrate \
		&& .build/release/ciclo campaign apply examples/campaigns/winback-recurring.yaml \
		&& .build/release/ciclo-bench render $(RENDER_ARGS)'

bench-tracking: release
	scripts/with-test-db.sh --durable scripts/bench-tracking.sh

# Instruction counts are what a shared, noisy machine cannot spoil. valgrind 3.19 reads no DWARF 5, hence the
# copy without debug information (symbols stay), kept in this checkout's .build so that two checkouts profiling at
# once do not run each other's binary. Swift seeds its hashing per process; fixed, the counts repeat exactly.
CHANNEL ?= email
COUNT ?= 2000
profile-render: deps
	$(SWIFT) build -c release --product ciclo-render-profile
	cp .build/release/ciclo-render-profile .build/ciclo-render-profile-nodebug
	strip --strip-debug .build/ciclo-render-profile-nodebug
	SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file=.build/callgrind-render-$(CHANNEL).out \
		.build/ciclo-render-profile-nodebug $(CHANNEL) $(COUNT)
	callgrind_annotate --inclusive=yes .build/callgrind-render-$(CHANNEL).out | head -40
	@callgrind_annotate --inclusive=yes .build/callgrind-render-$(CHANNEL).out | awk \
		'/RenderSamplesAAVABycfcS2i(Yb)?KcfU[0-9]*_TA /{gsub(",","",$$1); printf "$(CHANNEL): %d instructions per message\n", $$1/$(COUNT)}'

bench-scheduler: release
	scripts/with-test-db.sh --durable sh -c '.build/release/ciclo migrate && .build/release/ciclo-bench scheduler'

# Only `ciclo migrate` runs here; the figures are PostgreSQL's, so a debug build does. ROWS=N per table (default 1M).
bench-partitions: build
	scripts/with-test-db.sh --durable Benchmarks/partitions/bench.sh

bench-reporter: release
	scripts/with-test-db.sh --durable sh -c '.build/release/ciclo migrate && .build/release/ciclo-bench reporter'

clean:
	rm -rf .build
