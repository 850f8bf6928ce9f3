// One `aerie-cat` run: connect, then send stdin's lines and print what arrives (or echo it
// back) until the connection closes.
#pragma once

#include "cat_options.hpp"

namespace aerie::cat {

/// Exit codes: what runCat() returns (usage errors of the command line itself are 2 too).
enum ExitCode : int {
  kExitNormalClose = 0,    // 1000/1001/1005 from either side, or any close with --echo
  kExitConnectFailed = 1,  // connect or handshake failed
  kExitUsage = 2,          // the URL or an option cannot be used
  kExitAbnormalClose = 3,  // closed with any other code
};

/// Runs the session on an event loop of this thread. Errors go to stderr.
int runCat(const CatOptions& options);

}  // namespace aerie::cat
