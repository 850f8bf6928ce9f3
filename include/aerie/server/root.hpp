// `root(dir)`: serves static files from a directory (seed 001's `Aerys\root(__DIR__ . "/public")`).
// GET and HEAD; "index.html" for directories; MIME types from /etc/mime.types when present
// (a built-in table otherwise); ETag / Last-Modified with 304. A path that does not name a
// file leaves the response unstarted, so the next responder (or the 404) follows.
#pragma once

#include <filesystem>

#include "aerie/server/responder.hpp"

namespace aerie {

Responder root(const std::filesystem::path& directory);

}  // namespace aerie
