// Bytes from a client, up to the routing decision, without sockets: the gateway's header checks
// and Beast's parser with the gateway's default limits (pipelined requests one after another),
// the body, route classification, the routing fields of the JSON body, the prompt's byte blocks
// and the kv_aware policy's choice between two nodes, one of which holds the prompt's prefix.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <vector>

#include "gateway/http/request_checks.hpp"
#include "gateway/http/server.hpp"
#include "gateway/proxy.hpp"
#include "gateway/request_body.hpp"
#include "gateway/router.hpp"
#include "routing/prefix_index.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace laneway::fuzz {

namespace bhttp = boost::beast::http;

namespace {

void route(const gateway::inference_fields& f) {
  gateway::routing_config rc;
  rc.policy = "kv_aware";
  gateway::router routes(rc);
  std::vector<routing::node_id> ids{routes.id_of("a"), routes.id_of("b")};
  auto hashes = routing::byte_block_hashes(f.prompt_bytes(), routing::model_seed(f.model), 64);
  if (!hashes.empty()) routes.kv_snapshot(ids[1], 1, std::span(hashes).first(1));
  std::vector<routing::candidate> cands(2);
  cands[0].node_index = 0;
  cands[0].name = "a";
  cands[1].node_index = 1;
  cands[1].name = "b";
  std::vector<gateway::candidate_prompt> prompts{{&hashes, true, 16}, {&hashes, true, 16}};
  routing::route_request req;
  req.model = f.model;
  req.prompt_tokens = static_cast<std::int64_t>(f.prompt_size() / 4);
  req.prompt_blocks = hashes.size();
  req.session = f.user;
  auto d = routes.decide(cands, ids, prompts, req);
  LANEWAY_FUZZ_CHECK(!d.index || *d.index < cands.size());
}

// One request off the front of `bytes`; false when the connection would be closed.
bool one_request(std::string_view& bytes, const http::server_limits& limits) {
  std::size_t end = http::header_end(bytes.substr(0, limits.max_header_bytes + 4));
  if (end == 0) return false;  // incomplete (the server waits) or over the limit (431)
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  std::size_t used = 0;
  if (auto err = http::parse_checked_header(parser, bytes.substr(0, end), used)) {
    LANEWAY_FUZZ_CHECK(err->status() >= 400 && err->status() < 500);
    (void)err->body();
    return false;
  }
  LANEWAY_FUZZ_CHECK(used == end);
  bytes.remove_prefix(used);
  parser.eager(true);
  while (!parser.is_done()) {
    boost::beast::error_code ec;
    std::size_t n = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(n);
    if (ec == bhttp::error::need_more || (!ec && n == 0)) return false;  // the body is still arriving
    if (ec) {
      auto err = http::read_failure(ec);
      LANEWAY_FUZZ_CHECK(err && err->status() >= 400);
      return false;
    }
  }
  auto req = parser.release();
  auto match = gateway::classify(req.method_string(), req.target());
  if (match.r == gateway::route::chat_completions || match.r == gateway::route::completions) {
    auto fields = gateway::read_inference_fields(req.body());
    if (fields) route(*fields);
    else LANEWAY_FUZZ_CHECK(fields.err().status() == 400);
  }
  return req.keep_alive();
}

}  // namespace

int fuzz_http_request(const std::uint8_t* data, std::size_t size) {
  http::server_limits limits;
  limits.max_body_bytes = 64 * 1024;  // smaller than the default: the fuzzer's inputs are small
  std::string_view bytes = as_text(data, size);
  for (int i = 0; i < 8 && !bytes.empty(); ++i)
    if (!one_request(bytes, limits)) break;
  return 0;
}

}  // namespace laneway::fuzz
