# A thin wrapper around meson and ninja; the build lives in build/.

BUILD ?= build

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	./configure --builddir=$(BUILD)

check: all
	meson test -C $(BUILD) --print-errorlogs

# The same tests with AddressSanitizer, LeakSanitizer and UBSan, in
# build-asan/; undefined behaviour fails the test that meets it.
check-asan:
	[ -f build-asan/build.ninja ] || ./configure --enable-asan --builddir=build-asan
	ninja -C build-asan
	ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs

# Fuzzing (docs/devel/fuzzing.rst): build the libFuzzer targets with clang
# in build-fuzz/, or run one: make fuzz FUZZ_TARGET=name FUZZ_SECONDS=N.
# New inputs go to build-fuzz/corpus/NAME, crashes to build-fuzz/crashes/.
FUZZ_BUILD = build-fuzz
FUZZ_TARGETS = virtio-blk-pci virtqueue uring
FUZZ_SECONDS ?= 60
# libFuzzer's NEW_FUNC lines would start llvm-symbolizer, a child process
# that the targets' invariants would count as the VMM's.
FUZZ_FLAGS = -print_funcs=0 -max_total_time=$(FUZZ_SECONDS) \
	-dict=tests/fuzz/$(FUZZ_TARGET).dict \
	-artifact_prefix=$(FUZZ_BUILD)/crashes/$(FUZZ_TARGET)- $(FUZZ_ARGS)

fuzz:
	[ -f $(FUZZ_BUILD)/build.ninja ] || \
		CC=clang ./configure --enable-fuzzing --builddir=$(FUZZ_BUILD)
	ninja -C $(FUZZ_BUILD) $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%)
ifneq ($(FUZZ_TARGET),)
	mkdir -p $(FUZZ_BUILD)/corpus/$(FUZZ_TARGET) $(FUZZ_BUILD)/crashes
	$(FUZZ_BUILD)/tests/fuzz/fuzz-$(FUZZ_TARGET) $(FUZZ_FLAGS) \
		$(FUZZ_BUILD)/corpus/$(FUZZ_TARGET) tests/fuzz/corpus/$(FUZZ_TARGET)
endif

demo: all
	scripts/demo.sh

bench: all
	python3 scripts/bench.py $(BENCH_ARGS)

clean:
	if [ -f $(BUILD)/build.ninja ]; then ninja -C $(BUILD) clean; fi

distclean:
	rm -rf $(BUILD)

.PHONY: all check check-asan fuzz demo bench clean distclean
