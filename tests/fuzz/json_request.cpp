// A request body through every JSON request reader: the worker's chat, completion, tokenize and
// detokenize parsers and the gateway's routing fields. Any input is a value or a 400 naming what
// was wrong; an accepted body keeps the invariants the engine relies on.
#include "backends/worker/openai_request.hpp"
#include "gateway/request_body.hpp"
#include "tests/fuzz/fuzz_target.hpp"

namespace laneway::fuzz {

namespace {

void check_request(const http::result<worker::completion_request>& r) {
  if (!r.ok()) {
    LANEWAY_FUZZ_CHECK(r.err().status() == 400);
    (void)r.err().body();
    return;
  }
  const auto& q = const_cast<http::result<worker::completion_request>&>(r).value();
  LANEWAY_FUZZ_CHECK(q.sampling.top_logprobs >= 0 && q.sampling.top_logprobs <= engine::max_top_logprobs);
  for (auto id : q.prompt_tokens) LANEWAY_FUZZ_CHECK(id >= 0);
  for (auto id : q.stop_token_ids) LANEWAY_FUZZ_CHECK(id >= 0);
}

}  // namespace

int fuzz_json_request(const std::uint8_t* data, std::size_t size) {
  std::string_view body = as_text(data, size);
  check_request(worker::parse_chat_request(body));
  check_request(worker::parse_completion_request(body));
  if (auto t = worker::parse_tokenize_request(body); !t.ok()) LANEWAY_FUZZ_CHECK(t.err().status() == 400);
  if (auto d = worker::parse_detokenize_request(body); d.ok())
    for (auto id : *d) LANEWAY_FUZZ_CHECK(id >= 0);
  auto f = gateway::read_inference_fields(body);
  if (f.ok()) {
    LANEWAY_FUZZ_CHECK(!f->model.empty());
    (void)f->prompt_bytes();
    (void)f->prompt_size();
  } else {
    LANEWAY_FUZZ_CHECK(f.err().status() == 400);
  }
  return 0;
}

}  // namespace laneway::fuzz
