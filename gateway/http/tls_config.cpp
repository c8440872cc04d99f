// [tls] table reading (see tls_config.hpp).
#include "gateway/http/tls_config.hpp"

#include "gateway/http/config_reader.hpp"

namespace laneway::http {

const char* to_string(client_cert_mode mode) {
  switch (mode) {
    case client_cert_mode::optional: return "optional";
    case client_cert_mode::required: return "required";
    case client_cert_mode::off: break;
  }
  return "off";
}

void read_tls_table(table_reader r, tls_listener_config& t) {
  t.enabled = true;
  std::string listen;
  r.string("listen", listen);
  if (listen.empty()) r.fail("listen", "is required: the TLS listener's host:port (e.g. \"0.0.0.0:8443\")");
  std::string why;
  auto hp = parse_host_port(listen, &why);
  if (!hp) r.fail("listen", why);
  t.listen = *hp;
  r.string("cert_file", t.cert_file);
  if (t.cert_file.empty()) r.fail("cert_file", "is required: a PEM certificate chain");
  r.string("key_file", t.key_file);
  if (t.key_file.empty()) r.fail("key_file", "is required: the PEM private key of cert_file");
  r.string("client_ca_file", t.client_ca_file);
  std::string mode = t.client_ca_file.empty() ? "off" : "required";
  r.string("client_certs", mode);
  if (mode == "off") t.client_certs = client_cert_mode::off;
  else if (mode == "optional") t.client_certs = client_cert_mode::optional;
  else if (mode == "required") t.client_certs = client_cert_mode::required;
  else r.fail("client_certs", "must be one of off, optional, required (got \"" + mode + "\")");
  if (t.client_certs != client_cert_mode::off && t.client_ca_file.empty())
    r.fail("client_ca_file", "is required when client_certs is \"" + mode + "\": the CA that signs client certificates");
  r.finish();
}

void resolve_tls_paths(tls_listener_config& tls, const std::filesystem::path& folder) {
  for (std::string* file : {&tls.cert_file, &tls.key_file, &tls.client_ca_file})
    if (!file->empty() && std::filesystem::path(*file).is_relative()) *file = (folder / *file).string();
}

}  // namespace laneway::http
