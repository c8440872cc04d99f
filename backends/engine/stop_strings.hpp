// Stop strings over streamed text: the detokenizer's pieces go in, the text that is safe to send
// to the client comes out. A stop string may span any number of pieces, so the tail of the text
// that could still be the start of a stop string is held back until the next piece settles it;
// on a match the text before the stop string is released and the rest (stop included) dropped.
//
// Per piece: append to the held-back tail, find the earliest occurrence of any stop string in it
// (ties: the first stop in the list), else hold back the longest suffix that is a proper prefix of
// some stop string. The tail is shorter than the longest stop string, so a piece costs
// O((tail + piece) * total stop length) at worst. Stop strings are valid UTF-8 and the pieces are
// whole UTF-8 sequences (stream_detokenizer), so every cut falls on a character boundary.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laneway::engine {

constexpr std::size_t max_stop_strings = 16;
constexpr std::size_t max_stop_string_bytes = 1024;

// nullopt, or a message naming "stop": too many strings (> max_stop_strings), one too long.
// Empty strings are allowed and ignored (they would match before any text).
std::optional<std::string> validate_stop_strings(const std::vector<std::string>& stops);

class stop_matcher {
 public:
  explicit stop_matcher(std::vector<std::string> stops);

  struct step {
    std::string_view text;  // safe to emit now (valid until the next call)
    bool stopped = false;   // a stop string matched: `text` is the last text, generation ends
    int stop_index = -1;    // which stop string (index into the constructor's list)
  };

  // Feeds the next piece of generated text. After a stop, further pieces yield nothing.
  step push(std::string_view piece);
  // End of generation without a stop (EOS, max_tokens): releases the held-back tail.
  std::string_view finish();

  bool stopped() const { return stopped_; }
  std::size_t held_back() const { return tail_.size(); }
  bool empty() const { return stops_.empty(); }

 private:
  std::vector<std::string> stops_;  // non-empty ones
  std::vector<int> index_;          // their positions in the constructor's list
  std::string tail_;                // text received but not yet released
  std::string out_;                 // backing store of the last returned text
  bool stopped_ = false;
};

}  // namespace laneway::engine
