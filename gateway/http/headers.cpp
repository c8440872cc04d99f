// Hop-by-hop header filtering (see headers.hpp).
#include "gateway/http/headers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <string>
#include <vector>

namespace laneway::http {

namespace bhttp = boost::beast::http;

void copy_end_to_end_fields(const bhttp::fields& from, bhttp::fields& to) {
  std::vector<std::string> named;  // tokens of the Connection header are hop-by-hop too
  for (auto token : bhttp::token_list(from[bhttp::field::connection])) named.emplace_back(token);
  for (const auto& f : from) {
    switch (f.name()) {
      case bhttp::field::connection:
      case bhttp::field::keep_alive:
      case bhttp::field::proxy_authenticate:
      case bhttp::field::proxy_authorization:
      case bhttp::field::proxy_connection:
      case bhttp::field::te:
      case bhttp::field::trailer:
      case bhttp::field::transfer_encoding:
      case bhttp::field::upgrade:
      case bhttp::field::content_length:
      case bhttp::field::host:
      case bhttp::field::expect:
        continue;
      default:
        break;
    }
    auto name = f.name_string();
    if (boost::beast::iequals(name, "X-Request-Id")) continue;
    bool listed = false;
    for (const auto& n : named) listed = listed || boost::beast::iequals(name, n);
    if (listed) continue;
    if (f.name() == bhttp::field::unknown) to.insert(name, f.value());
    else to.insert(f.name(), f.value());
  }
}

}  // namespace laneway::http
