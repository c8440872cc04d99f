// make_client_tls_context (see tls_client.hpp). Host names are checked per connection
// (ladder_connection.cpp sets SNI and asio's host_name_verification).
#include "tools/ladder/tls_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>

namespace laneway::ladder {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_client_tls_context(const tls_client_options& opts, std::string* why) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx->native_handle(), alpn, sizeof alpn);
  if (opts.insecure) {
    ctx->set_verify_mode(ssl::verify_none);
    return ctx;
  }
  boost::system::error_code ec;
  if (!opts.ca_file.empty()) {
    ctx->load_verify_file(opts.ca_file, ec);
    if (ec) {
      if (why) *why = "--ca-file " + opts.ca_file + ": cannot load it as PEM certificates (" + ec.message() + ")";
      return nullptr;
    }
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) {
      if (why) *why = "cannot load the system CA store (" + ec.message() + "); pass --ca-file or --insecure";
      return nullptr;
    }
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace laneway::ladder
