#include "aerie/server/root.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "aerie/http/headers.hpp"
#include "aerie/http/response.hpp"
#include "aerie/http/response_head.hpp"
#include "aerie/http/static_file_rules.hpp"
#include "aerie/http/url.hpp"

namespace aerie {
namespace {

using MimeTable = std::unordered_map<std::string, std::string>;

MimeTable loadMimeTypes() {
  MimeTable table = {
      {"html", "text/html"},        {"htm", "text/html"},
      {"css", "text/css"},          {"js", "text/javascript"},
      {"mjs", "text/javascript"},   {"json", "application/json"},
      {"txt", "text/plain"},        {"svg", "image/svg+xml"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},       {"gif", "image/gif"},
      {"webp", "image/webp"},       {"ico", "image/vnd.microsoft.icon"},
      {"wasm", "application/wasm"}, {"xml", "application/xml"},
      {"pdf", "application/pdf"},   {"woff", "font/woff"},
      {"woff2", "font/woff2"},      {"map", "application/json"},
  };
  std::ifstream file("/etc/mime.types");
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string type;
    std::string extension;
    words >> type;
    while (words >> extension)
      table.try_emplace(extension, type);
  }
  return table;
}

std::string contentType(const MimeTable& table, const std::string& path) {
  const std::size_t dot = path.rfind('.');
  const std::size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string extension = path.substr(dot + 1);
  for (char& c : extension)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = table.find(extension);
  if (it == table.end()) return "application/octet-stream";
  const std::string& type = it->second;
  return http::isTextualType(type) ? type + "; charset=utf-8" : type;
}

/// The decoded request path, checked segment by segment: nullopt unless every segment is a
/// plain name (no "." or "..", no dotfile unless allowed, no backslash, NUL or control
/// byte). Empty segments ("//") are dropped. Returns the relative path ("" = the root).
std::optional<std::string> safeRelativePath(std::string_view rawTarget, std::string_view decoded,
                                            bool dotfiles) {
  // Encoded separators and NUL must not become structure after decoding.
  const std::string_view rawPath = rawTarget.substr(0, rawTarget.find('?'));
  for (std::size_t i = 0; i + 2 < rawPath.size(); ++i) {
    if (rawPath[i] != '%') continue;
    const char a = rawPath[i + 1];
    const char b = static_cast<char>(std::tolower(static_cast<unsigned char>(rawPath[i + 2])));
    if ((a == '2' && b == 'f') || (a == '5' && b == 'c') || (a == '0' && b == '0')) {
      return std::nullopt;
    }
  }
  if (decoded.empty() || decoded.front() != '/') return std::nullopt;
  std::string relative;
  std::size_t start = 1;
  while (start <= decoded.size()) {
    std::size_t end = decoded.find('/', start);
    if (end == std::string_view::npos) end = decoded.size();
    const std::string_view segment = decoded.substr(start, end - start);
    start = end + 1;
    if (segment.empty()) continue;
    if (segment == "." || segment == "..") return std::nullopt;
    if (segment.front() == '.' && !dotfiles) return std::nullopt;
    for (char c : segment) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte == 0x7F || c == '\\') return std::nullopt;
    }
    if (!relative.empty()) relative += '/';
    relative.append(segment);
  }
  return relative;
}

/// True if `path` resolves (symlinks followed) to `base` or below it.
bool staysInside(const std::string& path, const std::string& base) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return false;
  const std::string_view r(resolved);
  return r == base || (r.size() > base.size() && r.starts_with(base) && r[base.size()] == '/');
}

/// Reads `length` bytes at `offset`; nullopt on a read error or a file that shrank.
std::optional<std::string> readSlice(int fd, std::uint64_t offset, std::uint64_t length) {
  std::string body(static_cast<std::size_t>(length), '\0');
  std::size_t done = 0;
  while (done < body.size()) {
    const ssize_t n =
        ::pread(fd, body.data() + done, body.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    done += static_cast<std::size_t>(n);
  }
  return body;
}

/// A servable representation: the file itself or a precompressed sibling.
struct Representation {
  std::string encoding;  // "" = identity, "br", "gzip"
  std::string path;
  std::uint64_t size = 0;
  std::string etag;
  std::shared_ptr<const std::string> content;  // the bytes, for small files
  // Which file this was (larger files are sent from a descriptor opened for it).
  dev_t device = 0;
  ino_t inode = 0;
  struct timespec modified {};
};

/// What root() knows about one request path, cached per thread. A request revalidates it
/// with one stat() (size, mtime, inode, ctime): a changed file is seen at once. Siblings
/// (file.br, file.gz) are looked for again after kSiblingTtl.
struct FileEntry {
  std::string path;  // after the index file was appended
  struct stat info {};
  std::string lastModified;
  std::string contentType;
  std::vector<Representation> variants;  // [0] identity, then br, gzip (those that exist)
  bool hasSibling = false;
  std::chrono::steady_clock::time_point siblingsCheckedAt;
};

constexpr std::size_t kCachedContentLimit = 64 * 1024;  // larger files: sent from a descriptor
constexpr std::size_t kCacheEntries = 1024;             // per thread and root
constexpr std::size_t kOpenFiles = 64;                  // descriptors kept open per thread
constexpr std::chrono::seconds kSiblingTtl{1};

bool sameFile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

/// A representation of `path` (nullopt: not a regular file we may serve).
std::optional<Representation> loadRepresentation(const std::string& path, std::string encoding,
                                                 const std::string& base, bool followOutside) {
  if (!followOutside && !staysInside(path, base)) return std::nullopt;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat info {};
  std::optional<Representation> result;
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    Representation r;
    r.encoding = std::move(encoding);
    r.path = path;
    r.size = static_cast<std::uint64_t>(info.st_size);
    r.device = info.st_dev;
    r.inode = info.st_ino;
    r.modified = info.st_mtim;
    r.etag = "\"" + std::to_string(info.st_size) + "-" + std::to_string(info.st_mtim.tv_sec) +
             (r.encoding.empty() ? "" : "-" + r.encoding) + "\"";
    if (r.size <= kCachedContentLimit) {
      auto content = readSlice(fd, 0, r.size);
      if (content) r.content = std::make_shared<const std::string>(std::move(*content));
    }
    if (r.size > kCachedContentLimit || r.content) result = std::move(r);
  }
  ::close(fd);
  return result;
}

struct RootState {
  std::string base;
  MimeTable mime;
  RootOptions options;
};

/// Looks `relative` up: from the thread's cache when the file is unchanged, else from the
/// file system. nullptr: nothing to serve.
std::shared_ptr<const FileEntry> lookup(const RootState& root, const std::string& relative) {
  using Cache = std::unordered_map<std::string, std::shared_ptr<const FileEntry>>;
  thread_local std::unordered_map<const RootState*, Cache> caches;
  Cache& cache = caches[&root];
  const auto now = std::chrono::steady_clock::now();
  if (auto it = cache.find(relative); it != cache.end()) {
    struct stat info {};
    const FileEntry& entry = *it->second;
    if (::stat(entry.path.c_str(), &info) == 0 && sameFile(info, entry.info) &&
        (!root.options.precompressed || now - entry.siblingsCheckedAt < kSiblingTtl)) {
      return it->second;
    }
    cache.erase(it);
  }
  auto entry = std::make_shared<FileEntry>();
  entry->path = root.base + "/" + relative;
  if (::stat(entry->path.c_str(), &entry->info) != 0) return nullptr;
  if (S_ISDIR(entry->info.st_mode)) {
    if (root.options.indexFile.empty()) return nullptr;
    if (!entry->path.ends_with('/')) entry->path += '/';
    entry->path += root.options.indexFile;
    if (::stat(entry->path.c_str(), &entry->info) != 0) return nullptr;
  }
  if (!S_ISREG(entry->info.st_mode)) return nullptr;
  auto identity =
      loadRepresentation(entry->path, "", root.base, root.options.followSymlinksOutside);
  if (!identity) return nullptr;
  entry->variants.push_back(std::move(*identity));
  if (root.options.precompressed) {
    for (const char* coding : {"br", "gzip"}) {
      const std::string sibling = entry->path + (coding[0] == 'b' ? ".br" : ".gz");
      struct stat info {};
      if (::stat(sibling.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
      entry->hasSibling = true;
      if (auto variant =
              loadRepresentation(sibling, coding, root.base, root.options.followSymlinksOutside)) {
        entry->variants.push_back(std::move(*variant));
      }
    }
  }
  entry->siblingsCheckedAt = now;
  entry->lastModified = http::formatHttpDate(entry->info.st_mtim.tv_sec);
  entry->contentType = contentType(root.mime, entry->path);
  if (cache.size() >= kCacheEntries) cache.clear();  // bounded: a crawl cannot grow it
  cache.emplace(relative, entry);
  return entry;
}

/// An open descriptor for `r`, from the thread's small cache when the file is still the one
/// it was opened for (device, inode, size, mtime: a replaced or rewritten file is opened
/// again). The cache holds kOpenFiles descriptors, least recently used evicted; an evicted
/// one is closed once no response is still being sent from it. nullptr: the file changed
/// or vanished since the lookup.
std::shared_ptr<const http::OpenFile> openFile(const Representation& r) {
  struct Slot {
    std::shared_ptr<const http::OpenFile> file;
    dev_t device;
    ino_t inode;
    std::uint64_t size;
    struct timespec modified;
    std::uint64_t lastUse;
  };
  thread_local std::unordered_map<std::string, Slot> open;
  thread_local std::uint64_t uses = 0;
  auto matches = [&r](dev_t device, ino_t inode, std::uint64_t size, const timespec& modified) {
    return device == r.device && inode == r.inode && size == r.size &&
           modified.tv_sec == r.modified.tv_sec && modified.tv_nsec == r.modified.tv_nsec;
  };
  if (auto it = open.find(r.path); it != open.end()) {
    Slot& slot = it->second;
    if (matches(slot.device, slot.inode, slot.size, slot.modified)) {
      slot.lastUse = ++uses;
      return slot.file;
    }
    open.erase(it);  // stale: closed once its last response is sent
  }
  const int fd = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  auto file = std::make_shared<const http::OpenFile>(fd);
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
      !matches(info.st_dev, info.st_ino, static_cast<std::uint64_t>(info.st_size), info.st_mtim)) {
    return nullptr;  // replaced between the lookup's stat() and this open()
  }
  if (open.size() >= kOpenFiles) {
    auto oldest = open.begin();
    for (auto it = open.begin(); it != open.end(); ++it) {
      if (it->second.lastUse < oldest->second.lastUse) oldest = it;
    }
    open.erase(oldest);
  }
  open.emplace(r.path, Slot{file, info.st_dev, info.st_ino, r.size, info.st_mtim, ++uses});
  return file;
}

}  // namespace

Responder root(const std::filesystem::path& directory, RootOptions options) {
  std::error_code error;
  auto base = std::filesystem::canonical(directory, error);
  if (error || !std::filesystem::is_directory(base)) {
    throw std::invalid_argument("root(): not a directory: " + directory.string() +
                                (error ? " (" + error.message() + ")" : ""));
  }
  auto state = std::make_shared<RootState>();
  state->base = base.string();
  state->mime = loadMimeTypes();
  state->options = std::move(options);
  return [state](http::Request& request, http::Response& response) -> Task<> {
    const bool head = request.method() == "HEAD";
    if (request.method() != "GET" && !head) co_return;
    const auto relative =
        safeRelativePath(request.target(), request.path(), state->options.dotfiles);
    if (!relative) co_return;
    const std::shared_ptr<const FileEntry> entry = lookup(*state, *relative);
    if (!entry) co_return;

    // A precompressed sibling, when the client takes it (brotli first: it is smaller).
    const Representation* served = &entry->variants.front();
    if (entry->variants.size() > 1) {
      const std::string_view accepted = request.header("accept-encoding");
      for (std::size_t i = 1; i < entry->variants.size(); ++i) {
        if (http::acceptsEncoding(accepted, entry->variants[i].encoding)) {
          served = &entry->variants[i];
          break;
        }
      }
    }
    const std::string& etag = served->etag;
    const std::uint64_t size = served->size;
    const std::time_t modified = entry->info.st_mtim.tv_sec;
    response.setHeader("ETag", etag);
    response.setHeader("Last-Modified", entry->lastModified);
    response.setHeader("Content-Type", entry->contentType);
    response.setHeader("Accept-Ranges", "bytes");
    if (entry->hasSibling) response.setHeader("Vary", "Accept-Encoding");
    if (!served->encoding.empty()) response.setHeader("Content-Encoding", served->encoding);

    // Conditionals (RFC 9110 13.2.2): If-None-Match wins over If-Modified-Since.
    const std::string_view ifNoneMatch = request.header("if-none-match");
    bool notModified = false;
    if (!ifNoneMatch.empty()) {
      // The server tags a representation it compressed on the fly "<etag>-gzip" (or
      // -deflate, ServerOptions::compressResponses): those are this file too.
      auto variant = [&etag](const char* coding) {
        return etag.substr(0, etag.size() - 1) + "-" + coding + "\"";
      };
      notModified = http::ifNoneMatchMatches(ifNoneMatch, etag) ||
                    http::ifNoneMatchMatches(ifNoneMatch, variant("gzip")) ||
                    http::ifNoneMatchMatches(ifNoneMatch, variant("deflate"));
    } else if (auto since = http::parseHttpDate(request.header("if-modified-since"))) {
      notModified = modified <= *since;
    }
    if (notModified) {
      response.setStatus(304);
      co_return;
    }

    http::RangeRequest range;
    if (request.headers().contains("range")) {
      // If-Range: the range only applies to the representation the client already has.
      const std::string_view ifRange = request.header("if-range");
      const bool current = ifRange.empty() || ifRange == etag ||
                           http::parseHttpDate(ifRange) == std::optional<std::time_t>(modified);
      if (current) range = http::parseRange(request.header("range"), size);
    }
    if (range.kind == http::RangeRequest::Kind::Unsatisfiable) {
      response.setStatus(416);
      response.setHeader("Content-Range", "bytes */" + std::to_string(size));
      response.setHeader("Content-Type", "text/plain; charset=utf-8");
      co_await response.send("Range Not Satisfiable\n");
      co_return;
    }
    std::uint64_t offset = 0;
    std::uint64_t length = size;
    if (range.kind == http::RangeRequest::Kind::Single) {
      offset = range.range.first;
      length = range.range.length();
      response.setStatus(206);
      response.setHeader("Content-Range", "bytes " + std::to_string(range.range.first) + "-" +
                                              std::to_string(range.range.last) + "/" +
                                              std::to_string(size));
    }
    if (head) {
      // HEAD: the same headers as GET, no body (the server sends none for HEAD).
      response.setHeader("Content-Length", std::to_string(length));
      response.setStatus(response.status());  // started, with no body
      co_return;
    }
    if (served->content) {
      co_await response.send(served->content->substr(static_cast<std::size_t>(offset),
                                                     static_cast<std::size_t>(length)));
      co_return;
    }
    const std::shared_ptr<const http::OpenFile> file = openFile(*served);
    if (!file) co_return;  // changed or gone since the lookup: let the 404 answer
    // The server compresses whole textual bodies on the fly when the client accepts it
    // (ServerOptions::compressResponses): that needs the bytes in memory, as before.
    // Everything else goes from the descriptor (sendfile(2), bounded pieces over TLS).
    const std::string_view accepted = request.header("accept-encoding");
    if (response.status() == 200 && served->encoding.empty() &&
        http::isTextualType(entry->contentType) &&
        (http::acceptsEncoding(accepted, "gzip") || http::acceptsEncoding(accepted, "deflate"))) {
      auto body = readSlice(file->fd(), offset, length);
      if (!body) co_return;  // the file shrank under us
      co_await response.send(std::move(*body));
      co_return;
    }
    co_await response.sendFile(file, offset, length);
  };
}

}  // namespace aerie
