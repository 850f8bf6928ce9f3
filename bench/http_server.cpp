// aerie-http-bench: the HTTP rows of docs/BENCHMARKS.md (bench/http_vs_nginx.sh).
//   aerie-http-bench PORT ROOT_DIR [WORKERS]
// GET /hello answers the 13 bytes "Hello, World!" (text/plain); everything else is root().
// Response compression is off, as in the nginx configuration it is compared with.
#include <cstdio>
#include <cstdlib>

#include "aerie/aerie.hpp"

using namespace aerie;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: aerie-http-bench PORT ROOT_DIR [WORKERS]\n");
    return 2;
  }
  Router router;
  router.get("/hello", [](http::Request&, http::Response& res) -> Task<> {
    res.setHeader("Content-Type", "text/plain");
    co_await res.send("Hello, World!");
  });
  Host host;
  host.expose("127.0.0.1", static_cast<std::uint16_t>(std::atoi(argv[1])))
      .use(router)
      .use(root(argv[2]));
  ServerOptions options;
  options.workers = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 1;
  options.compressResponses = false;
  options.maxRequestsPerConnection = 0;  // wrk keeps its connections for the whole run
  options.connectionsPerIp = 100000;
  return Server(host, options).run();
}
