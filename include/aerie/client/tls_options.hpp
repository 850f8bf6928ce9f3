// How a wss:// connection verifies the server and, if asked, identifies itself.
#pragma once

#include <string>
#include <vector>

namespace aerie::client {

struct TlsOptions {
  // Non-aggregate on purpose (see ConnectOptions: GCC 12 and aggregates inside co_await).
  TlsOptions() noexcept {}  // NOLINT(modernize-use-equals-default)

  /// Trust the CAs in this PEM file instead of the system store (/etc/ssl/certs).
  std::string caFile;
  /// Trust the CAs in this directory (hashed names, as `openssl rehash` makes them).
  std::string caDirectory;
  /// A client certificate (PEM chain) and its key, for servers that ask for one.
  std::string certificateFile;
  std::string privateKeyFile;
  std::string privateKeyPassphrase;
  /// The name sent as SNI and checked against the certificate; empty = the URL's host.
  std::string serverName;
  /// ALPN protocols offered, in order of preference.
  std::vector<std::string> alpn{"http/1.1"};
  /// DANGEROUS: accept any certificate (expired, self-signed, for another name). Anyone on
  /// the path can then read and change the traffic. For tests against throwaway servers only.
  bool insecureSkipVerification = false;
};

}  // namespace aerie::client
