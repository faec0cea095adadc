# duckmig - build and test.
#
#   make              ./duckmig (optimized, with debug info)
#   make test         the whole suite, then again under ASan + UBSan
#   make test-fast    the suite once, without sanitizers
#   make asan         build/asan/duckmig
#   make format       clang-format the sources in place
#   make format-check fail if clang-format would change anything
#
# Nothing here installs anything: scripts/test does that, then calls us.

.DEFAULT_GOAL := all
CC       ?= cc
PKGS     := jansson libcurl openssl libxml-2.0 librabbitmq libpq
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wvla -Wwrite-strings -Wformat=2 \
            -Wold-style-definition -fno-common
CPPFLAGS += -D_GNU_SOURCE -Isrc -Ibuild -MMD -MP
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 $(WARN) $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -ldl -lpthread
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

# `duckmig --version` says which commit it was built from: build/version.h
# is rewritten only when `git describe` changes, so that only main.c is
# rebuilt then.
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
build/version.h: FORCE
	@mkdir -p build
	@echo '#define DUCKMIG_VERSION "$(VERSION)"' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

SRCS      := $(sort $(wildcard src/*.c src/*/*.c))
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNITS     := $(UNIT_SRCS:tests/unit/%.c=%)

define variant
$(1)_OBJS := $$(SRCS:%.c=build/$(1)/%.o)
$(1)_LIB  := $$(LIB_SRCS:%.c=build/$(1)/%.o)

build/$(1)/%.o: %.c
	@mkdir -p $$(@D)
	@echo "  CC [$(1)] $$<"
	@$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(2) -c -o $$@ $$<

build/$(1)/duckmig: $$($(1)_OBJS)
	@echo "  LD [$(1)] $$@"
	@$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ $$(LDLIBS)

build/$(1)/tests/%: build/$(1)/tests/unit/%.o $$($(1)_LIB)
	@echo "  LD [$(1)] $$@"
	@$$(CC) $$(CFLAGS) $(2) -o $$@ $$^ $$(LDLIBS) -lcmocka

build/$(1)/src/main.o: build/version.h

$(1)-tests: build/$(1)/duckmig $$(UNITS:%=build/$(1)/tests/%)
-include $$($(1)_OBJS:.o=.d) $$(UNIT_SRCS:%.c=build/$(1)/%.d)
endef

$(eval $(call variant,release,))
$(eval $(call variant,asan,$(SAN)))

.PHONY: FORCE all asan test test-fast format format-check clean release-tests \
        asan-tests
.SECONDARY:

all: duckmig

duckmig: build/release/duckmig
	cp $< $@

asan: build/asan/duckmig

test-fast: release-tests duckmig
	tests/run release

test: format-check release-tests asan-tests duckmig
	tests/run release
	tests/run asan

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h) $(UNIT_SRCS)

format-check:
	clang-format --dry-run --Werror $(SRCS) $(wildcard src/*/*.h) $(UNIT_SRCS)

clean:
	rm -rf build duckmig
