# A thin wrapper around meson and ninja; the build lives in build/.

BUILD ?= build

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	./configure --builddir=$(BUILD)

check: all
	meson test -C $(BUILD) --print-errorlogs

# The same tests with AddressSanitizer and LeakSanitizer, in build-asan/.
check-asan:
	[ -f build-asan/build.ninja ] || ./configure --enable-asan --builddir=build-asan
	ninja -C build-asan
	ASAN_OPTIONS=detect_leaks=1 meson test -C build-asan --print-errorlogs

demo: all
	scripts/demo.sh

bench: all
	python3 scripts/bench.py $(BENCH_ARGS)

clean:
	if [ -f $(BUILD)/build.ninja ]; then ninja -C $(BUILD) clean; fi

distclean:
	rm -rf $(BUILD)

.PHONY: all check check-asan demo bench clean distclean
