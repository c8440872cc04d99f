// The [tls] table, the same for the gateway and the worker: a TLS listener next to the plain one,
// its certificate chain and key, and optional client certificates (mTLS). docs/tls.md.
#pragma once

#include <filesystem>
#include <string>

#include "gateway/http/host_port.hpp"

namespace laneway::http {

class table_reader;

// off: no certificate asked for. optional: asked for; one that is sent must verify against
// client_ca_file, none is fine. required: a connection without a verified one fails the handshake.
enum class client_cert_mode { off, optional, required };
const char* to_string(client_cert_mode mode);

struct tls_listener_config {
  bool enabled = false;
  host_port listen{"127.0.0.1", 8443};
  std::string cert_file;       // PEM chain: the server certificate first, then intermediates
  std::string key_file;        // PEM private key of that certificate
  std::string client_ca_file;  // PEM CA certificates that sign client certificates
  client_cert_mode client_certs = client_cert_mode::off;
};

// Reads the [tls] table (`r` has the "tls." prefix); marks the config enabled. Throws
// config_error naming the key.
void read_tls_table(table_reader r, tls_listener_config& out);
// Relative file paths become relative to `folder` (the config file's).
void resolve_tls_paths(tls_listener_config& tls, const std::filesystem::path& folder);

}  // namespace laneway::http
