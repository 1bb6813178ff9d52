// store/src/codec.hpp — the compact forms of a run row: the run body (every filled
// buffer in one JSON object column), run ids as 16 bytes, revisions as 64-bit
// integers. Shared by the writer, the readers and the schema 3 migration.
#pragma once

#include "vigy/store/store.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigy::store::codec {

/// Appends the run body of `r` to `out`: a JSON object holding only the buffers that
/// differ from their defaults ("actions", "desired", "observed", "conditions", "log",
/// "trace", "metrics", "events", "kv_writes", "kv_deletes" as raw JSON; "output" as a
/// string). Appends nothing when every buffer is at its default (the column is NULL).
/// The buffers are trusted JSON text (not re-parsed). `kv` false: kv buffers left out.
void append_body(const run_record& r, bool kv, std::string& out);

/// Fills the buffers of `r` from a run body (NULL/empty = every buffer at its
/// default). A body that does not parse leaves the defaults and sets r.error if it
/// is empty (the run is still listed).
void read_body(std::string_view body, run_record& r);

using uuid = std::array<unsigned char, 16>;

/// "01234567-89ab-7def-8123-456789abcdef" -> 16 bytes; false when malformed.
[[nodiscard]] bool parse_uuid(std::string_view text, uuid& out) noexcept;
/// 16 bytes -> 36-char lowercase hyphenated text, into `out`.
void format_uuid(const unsigned char* bytes, std::string& out);

/// 16 lowercase hex digits -> the same 64 bits as an int64; false when malformed.
[[nodiscard]] bool parse_hex64(std::string_view text, std::int64_t& out) noexcept;
/// An int64 -> 16 lowercase hex digits (two's complement bits), into `out`.
void format_hex64(std::int64_t v, std::string& out);

/// Rewrites a conditions buffer written before schema 3 ({"name","status":"true"}) to
/// the current shape ({"type","status":"True"}); returns it unchanged when it is not
/// an array or already current.
[[nodiscard]] std::string upgrade_conditions_json(std::string_view text);

/// "true" -> "True", "false" -> "False", anything else "Unknown" (case-insensitive).
[[nodiscard]] const char* condition_status(std::string_view status) noexcept;

}  // namespace vigy::store::codec
