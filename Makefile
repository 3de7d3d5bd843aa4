# Entry points for people and CI. Every target installs what is missing first, so a fresh
# machine needs nothing but `make run` or `make test`.
MODEL ?= models/stories260K.gguf
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)
# Tests run under emulation (tens of times slower): every matmul kernel against the dequantized
# product, the reference ops, fp16/bf16 conversions and activation quantization. The golden
# file tests are left to native builds: reading the golden models under qemu takes many minutes.
AARCH64_TESTS ?= --gtest_filter='MatmulKernels*:RefKernels*:Fp16*:ActivationQuant*:AttentionKernels*:OpKernels*'

.PHONY: deps deps-aarch64 build run test test-release test-asan test-aarch64 fuzz bench clean

deps:
	@scripts/install-deps.sh

deps-aarch64: deps
	@scripts/install-deps.sh --aarch64

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

# The portable kernels on 64-bit ARM: cross-compiled, their tests run under qemu-aarch64, single-
# threaded (starting a second thread hangs qemu-user 7.2 in this sandbox).
test-aarch64: deps-aarch64
	cmake --preset aarch64
	cmake --build --preset aarch64 -j $(JOBS)
	AUTARKY_MAX_THREADS=1 qemu-aarch64 -L /usr/aarch64-linux-gnu build/aarch64/tests/autarky_tests $(AARCH64_TESTS)

fuzz: deps
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	scripts/run-fuzz.sh build/fuzz $(FUZZ_SECONDS)

# Everything CI runs: the tests in an optimised build, again under ASan+UBSan, the fuzzers, and
# the portable kernels on AArch64 under emulation (its cross build adds ~3-8 minutes).
test: test-release test-asan fuzz test-aarch64

# Micro-benchmarks (dequant/quant throughput, tokenizers). `autarky bench` (pp/tg) is issue 5's.
bench: build
	./build/release/bench/autarky_bench_micro

clean:
	rm -rf build
