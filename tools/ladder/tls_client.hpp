// The client TLS settings of `laneway ladder` for https URLs: peers verified against --ca-file or
// the system store (OpenSSL's default paths), or not at all with --insecure; TLS 1.2 minimum.
#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace laneway::ladder {

struct tls_client_options {
  std::string ca_file;    // "" = the system store
  bool insecure = false;  // skip certificate and host name verification
};

// nullptr and `why` ("--ca-file PATH: ...") when the CA file cannot be used.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const tls_client_options& opts, std::string* why);

}  // namespace laneway::ladder
