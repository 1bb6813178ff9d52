// tests/cli/test_error_codes.cpp — the one error vocabulary, mapped once per face: every
// canonical code (vigy/status.h) to its name, its `vigy` exit status (cli/exit_codes.hpp)
// and its HTTP status without a hint (api/src/problem.cpp). A code added to status.h
// without a row here fails the test.
#include "exit_codes.hpp"
#include "vigy/api/problem.hpp"
#include "vigy/status.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using vigy::cli::exit_code_for;

TEST_CASE("every canonical code maps to one name, one exit status and one HTTP status", "[cli][errors]") {
    struct row {
        vigy_status code;
        const char* name;
        int exit_code;
        int http;
    };
    // exit: 0 ok, 1 error, 3 not found, 4 try again later (2 is usage: not a status).
    const row table[] = {
        {VIGY_OK, "ok", 0, 200},
        {VIGY_CANCELLED, "cancelled", 1, 499},
        {VIGY_UNKNOWN, "unknown", 1, 500},
        {VIGY_INVALID_ARGUMENT, "invalid-argument", 1, 400},
        {VIGY_DEADLINE_EXCEEDED, "deadline-exceeded", 4, 504},
        {VIGY_NOT_FOUND, "not-found", 3, 404},
        {VIGY_ALREADY_EXISTS, "already-exists", 1, 409},
        {VIGY_PERMISSION_DENIED, "permission-denied", 1, 403},
        {VIGY_RESOURCE_EXHAUSTED, "resource-exhausted", 1, 429},
        {VIGY_FAILED_PRECONDITION, "failed-precondition", 1, 409},
        {VIGY_ABORTED, "aborted", 4, 409},
        {VIGY_OUT_OF_RANGE, "out-of-range", 1, 400},
        {VIGY_UNIMPLEMENTED, "unimplemented", 1, 501},
        {VIGY_INTERNAL, "internal", 1, 500},
        {VIGY_UNAVAILABLE, "unavailable", 4, 503},
        {VIGY_UNAUTHENTICATED, "unauthenticated", 1, 401},
    };
    std::set<vigy_status> covered;
    for (const row& r : table) {
        INFO("code " << r.code << " (" << r.name << ")");
        CHECK(std::string(vigy::api::code_name(r.code)) == r.name);
        CHECK(exit_code_for(r.code) == r.exit_code);
        CHECK(vigy::api::http_status(r.code) == r.http);
        covered.insert(r.code);
    }
    // Every code status.h names (and the API's unauthenticated) has a row.
    for (vigy_status c = VIGY_OK; c <= VIGY_UNAUTHENTICATED; ++c) {
        INFO("code " << c);
        if (c == 15) continue;  // DATA_LOSS: not in vigy's vocabulary (status.h does not define it)
        CHECK(covered.count(c) == 1);
    }
    // A code outside the vocabulary is an error (1) and 500, and is named "unknown".
    CHECK(exit_code_for(999) == vigy::cli::exit_error);
    CHECK(vigy::api::http_status(999) == 500);
    CHECK(std::string(vigy_status_name(999)) == "unknown");
}

TEST_CASE("the exit statuses are the ones --help documents", "[cli][errors]") {
    CHECK(vigy::cli::exit_ok == 0);
    CHECK(vigy::cli::exit_error == 1);
    CHECK(vigy::cli::exit_usage == 2);
    CHECK(vigy::cli::exit_not_found == 3);
    CHECK(vigy::cli::exit_retry == 4);
    const std::string help = vigy::cli::global_options_help;
    CHECK(help.find("0 ok, 1 error, 2 usage, 3 not found, 4 try again later") != std::string::npos);
}
