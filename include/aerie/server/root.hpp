// `root(dir)`: serves static files from a directory (seed 001's `Aerys\root(__DIR__ . "/public")`).
// GET and HEAD; an index file for directories; MIME types from /etc/mime.types when present
// (a built-in table otherwise, charset=utf-8 on text types); ETag / Last-Modified with 304
// (If-None-Match, If-Modified-Since); byte ranges (206, 416); precompressed siblings
// (file.br, file.gz) when Accept-Encoding allows. A path that names no servable file leaves
// the response unstarted, so the next responder (or the 404) follows.
//
// Nothing outside the directory can be read: "..", ".", percent-encoded separators
// ("%2f", "%5c"), backslashes, NUL and control bytes, dotfiles (unless allowed) and symlinks
// leading out of the directory (unless allowed) all fall through to 404.
#pragma once

#include <filesystem>
#include <string>

#include "aerie/server/responder.hpp"

namespace aerie {

struct RootOptions {
  RootOptions() noexcept {}  // NOLINT(modernize-use-equals-default): see ConnectOptions

  /// Served for a directory ("" = none: a directory is a 404).
  std::string indexFile = "index.html";
  /// Serve files and directories whose name starts with '.' (".env", ".git/").
  bool dotfiles = false;
  /// Follow symlinks that resolve outside the directory (inside ones are always followed).
  bool followSymlinksOutside = false;
  /// Serve file.br / file.gz instead of file when the client accepts that encoding.
  bool precompressed = true;
};

/// Throws std::invalid_argument when `directory` is not an existing directory: a typo in the
/// path is a start-up error, not a 404 for everything.
Responder root(const std::filesystem::path& directory, RootOptions options = {});

}  // namespace aerie
