// Copyright (c) 2026 Switchboard developers. MIT licence, see LICENSE.
//
// Catch's runner as it is, for the test programs without options of their own.
#include "../support/catch_session.hpp"

int main(int argc, char* argv[]) { return test_support::run_tests(argc, argv); }
