// The single doctest main for every unit suite (run one with --test-suite=NAME).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
