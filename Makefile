# Entry points for people and CI. Every target installs what is missing first, so a fresh
# machine needs nothing but `make run` or `make test`.
MODEL ?= models/stories260K.gguf
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)

.PHONY: deps build run test test-release test-asan fuzz bench clean

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

run: build
	./build/release/autarky run -m $(MODEL) -p "Once upon a time" -n 200

test-release: build
	ctest --preset release

test-asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

fuzz: deps
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	scripts/run-fuzz.sh build/fuzz $(FUZZ_SECONDS)

# Everything CI runs: the tests in an optimised build, again under ASan+UBSan, then the fuzzers.
test: test-release test-asan fuzz

# Micro-benchmarks (dequant/quant throughput, tokenizers). `autarky bench` (pp/tg) is issue 5's.
bench: build
	./build/release/bench/autarky_bench_micro

clean:
	rm -rf build
