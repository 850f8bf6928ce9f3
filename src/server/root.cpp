#include "aerie/server/root.hpp"

#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "aerie/http/headers.hpp"
#include "aerie/http/response_head.hpp"
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

}  // namespace

Responder root(const std::filesystem::path& directory) {
  std::error_code error;
  auto base = std::filesystem::canonical(directory, error);
  if (error || !std::filesystem::is_directory(base)) {
    throw std::invalid_argument("root(): not a directory: " + directory.string());
  }
  auto mime = std::make_shared<const MimeTable>(loadMimeTypes());
  auto baseText = std::make_shared<const std::string>(base.string());
  return [mime, baseText](http::Request& request, http::Response& response) -> Task<> {
    if (request.method() != "GET" && request.method() != "HEAD") co_return;
    auto normalized = http::normalizePath(request.path());
    if (!normalized) co_return;
    std::string path = *baseText + *normalized;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) co_return;
    if (S_ISDIR(info.st_mode)) {
      if (!path.ends_with('/')) path += '/';
      path += "index.html";
      if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) co_return;
    } else if (!S_ISREG(info.st_mode)) {
      co_return;
    }
    const std::string etag =
        "\"" + std::to_string(info.st_size) + "-" + std::to_string(info.st_mtim.tv_sec) + "\"";
    const std::string lastModified = http::formatHttpDate(info.st_mtim.tv_sec);
    response.setHeader("ETag", etag);
    response.setHeader("Last-Modified", lastModified);
    response.setHeader("Content-Type", contentType(*mime, path));
    if (request.header("if-none-match") == etag ||
        (!request.headers().contains("if-none-match") &&
         request.header("if-modified-since") == lastModified)) {
      response.setStatus(304);
      co_return;
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) co_return;
    std::string body(static_cast<std::size_t>(info.st_size), '\0');
    file.read(body.data(), static_cast<std::streamsize>(body.size()));
    body.resize(static_cast<std::size_t>(file.gcount()));
    co_await response.send(std::move(body));
  };
}

}  // namespace aerie
