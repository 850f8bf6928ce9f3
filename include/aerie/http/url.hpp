// Request-target helpers: splitting into path and query, percent-decoding, query
// strings, and dot-segment normalisation for static files.
//
// Order of use: splitTarget() on the raw target, route on the still-encoded path (so an
// encoded "%2F" cannot invent a path separator), percentDecode() each segment or the
// path, normalizePath() the decoded path before it touches the file system.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aerie::http {

/// Decodes %XX escapes (either hex case). With plusAsSpace (query strings, RFC 1866
/// form encoding) '+' becomes ' '. nullopt for a malformed escape ("%", "%4", "%zz") or
/// a NUL byte, raw or decoded ("%00"): no NUL may reach C APIs or file names.
std::optional<std::string> percentDecode(std::string_view input, bool plusAsSpace = false);

/// percentDecode() into `out` (replacing its content, reusing its storage). On failure
/// returns false and `out` holds a prefix of the decoded text.
bool percentDecodeInto(std::string& out, std::string_view input, bool plusAsSpace = false);

struct Target {
  std::string path;   // still percent-encoded; "/" at least (or "*")
  std::string query;  // without the '?'; still encoded; empty if none
};

/// Splits a request-target: origin-form "/p?q", absolute-form "http://host/p?q" (the
/// authority is dropped: Host says the same; a missing path becomes "/"), and "*". A
/// "#fragment", which clients must not send, is dropped. nullopt for other shapes
/// (authority-form, relative references).
std::optional<Target> splitTarget(std::string_view target);

/// splitTarget() without copies: views of `target` ("*" stays "*"). An empty path stands
/// for "/" (absolute-form without a path, or "?q" cut from a bare authority).
struct TargetView {
  std::string_view path;
  std::string_view query;
};
std::optional<TargetView> splitTargetView(std::string_view target) noexcept;

/// Removes "." and ".." segments and collapses empty ones ("//") of an absolute, decoded
/// path. A trailing "/" (or a final "." / "..") keeps a trailing slash. nullopt if the
/// path does not start with '/', contains NUL, or climbs above the root
/// ("/a/../../etc/passwd").
std::optional<std::string> normalizePath(std::string_view decodedPath);

/// Parses "a=1&b=x+y&c" into {("a","1"), ("b","x y"), ("c","")}, decoding names and
/// values with plusAsSpace. Empty elements ("a=1&&b") are skipped, and so are pairs with
/// a malformed escape or NUL (a query is advisory input: one bad pair must not void the
/// others).
std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query);

}  // namespace aerie::http
