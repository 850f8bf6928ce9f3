#include "aerie/server/root.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "aerie/http/headers.hpp"
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
  const bool textual = type.starts_with("text/") || type == "application/json" ||
                       type == "application/javascript" || type == "application/xml" ||
                       type == "image/svg+xml";
  return textual ? type + "; charset=utf-8" : type;
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

struct OpenFile {
  int fd = -1;
  struct stat info {};
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

/// Opens a regular file (O_NOFOLLOW is not used: symlinks inside the root are fine and
/// staysInside() judged the rest).
bool openRegular(const std::string& path, OpenFile& file) {
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) return false;
  return ::fstat(file.fd, &file.info) == 0 && S_ISREG(file.info.st_mode);
}

}  // namespace

Responder root(const std::filesystem::path& directory, RootOptions options) {
  std::error_code error;
  auto base = std::filesystem::canonical(directory, error);
  if (error || !std::filesystem::is_directory(base)) {
    throw std::invalid_argument("root(): not a directory: " + directory.string() +
                                (error ? " (" + error.message() + ")" : ""));
  }
  auto mime = std::make_shared<const MimeTable>(loadMimeTypes());
  auto baseText = std::make_shared<const std::string>(base.string());
  return [mime, baseText, options](http::Request& request, http::Response& response) -> Task<> {
    const bool head = request.method() == "HEAD";
    if (request.method() != "GET" && !head) co_return;
    const auto relative = safeRelativePath(request.target(), request.path(), options.dotfiles);
    if (!relative) co_return;
    std::string path = *baseText + "/" + *relative;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) co_return;
    if (S_ISDIR(info.st_mode)) {
      if (options.indexFile.empty()) co_return;
      if (!path.ends_with('/')) path += '/';
      path += options.indexFile;
    }
    if (!options.followSymlinksOutside && !staysInside(path, *baseText)) co_return;
    OpenFile file;
    if (!openRegular(path, file)) co_return;

    // A precompressed sibling, when the client takes it (brotli first: it is smaller).
    std::string encoding;
    OpenFile encoded;
    bool hasSibling = false;
    if (options.precompressed) {
      const std::string_view accepted = request.header("accept-encoding");
      for (const char* coding : {"br", "gzip"}) {
        const std::string sibling = path + (coding[0] == 'b' ? ".br" : ".gz");
        struct stat siblingInfo {};
        if (::stat(sibling.c_str(), &siblingInfo) != 0 || !S_ISREG(siblingInfo.st_mode)) continue;
        hasSibling = true;
        if (!encoding.empty() || !http::acceptsEncoding(accepted, coding)) continue;
        if (!options.followSymlinksOutside && !staysInside(sibling, *baseText)) continue;
        if (openRegular(sibling, encoded)) encoding = coding;
      }
    }
    const OpenFile& served = encoding.empty() ? file : encoded;
    const auto size = static_cast<std::uint64_t>(served.info.st_size);
    const std::string etag = "\"" + std::to_string(served.info.st_size) + "-" +
                             std::to_string(served.info.st_mtim.tv_sec) +
                             (encoding.empty() ? "" : "-" + encoding) + "\"";
    const std::time_t modified = file.info.st_mtim.tv_sec;
    response.setHeader("ETag", etag);
    response.setHeader("Last-Modified", http::formatHttpDate(modified));
    response.setHeader("Content-Type", contentType(*mime, path));
    response.setHeader("Accept-Ranges", "bytes");
    if (hasSibling) response.setHeader("Vary", "Accept-Encoding");
    if (!encoding.empty()) response.setHeader("Content-Encoding", encoding);

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
    auto body = readSlice(served.fd, offset, length);
    if (!body) co_return;  // the file changed under us: let the 404 answer
    co_await response.send(std::move(*body));
  };
}

}  // namespace aerie
