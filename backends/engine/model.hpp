// A decoder-only transformer loaded from a GGUF file: hyper-parameters per architecture (llama,
// qwen2, qwen3) and every weight as a laneway::cpu::weight_view into the file's mmap (no copies).
// Loading validates each tensor's shape and type and rejects what the forward pass cannot run
// (other architectures, rope scaling, sliding-window attention, partial rope, unknown types).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backends/cpu/quant_types.hpp"
#include "backends/cpu/reference.hpp"
#include "backends/engine/gguf.hpp"

namespace laneway::engine {

enum class model_arch { llama, qwen2, qwen3 };
std::string_view to_string(model_arch a);

struct model_hparams {
  model_arch arch = model_arch::llama;
  int64_t n_vocab = 0;
  int64_t n_embd = 0;      // embedding_length
  int64_t n_layer = 0;     // block_count
  int64_t n_head = 0;      // attention.head_count
  int64_t n_head_kv = 0;   // attention.head_count_kv (GQA: n_head % n_head_kv == 0)
  int64_t head_dim = 0;    // attention.key_length (= value_length), default n_embd / n_head
  int64_t n_ff = 0;        // feed_forward_length
  int64_t n_ctx_train = 0; // context_length
  float rms_eps = 1e-5f;   // attention.layer_norm_rms_epsilon
  float rope_freq_base = 10000.0f;
  cpu::rope_mode rope = cpu::rope_mode::normal;  // llama: normal; qwen2/qwen3: neox

  int64_t q_dim() const { return n_head * head_dim; }    // width of the q projection
  int64_t kv_dim() const { return n_head_kv * head_dim; } // width of the k and v projections
};

// One transformer block. Norm weights and biases are f32 vectors; matrices are weight_views
// w: [n_out, n_in] (GGUF ne[0] = n_in, ne[1] = n_out).
struct layer_weights {
  const float* attn_norm = nullptr;  // [n_embd]
  cpu::weight_view wq, wk, wv, wo;   // wq: [q_dim, n_embd], wk/wv: [kv_dim, n_embd], wo: [n_embd, q_dim]
  const float* bq = nullptr;         // qwen2: [q_dim]
  const float* bk = nullptr;         // qwen2: [kv_dim]
  const float* bv = nullptr;         // qwen2: [kv_dim]
  const float* q_norm = nullptr;     // qwen3: [head_dim]
  const float* k_norm = nullptr;     // qwen3: [head_dim]
  const float* ffn_norm = nullptr;   // [n_embd]
  cpu::weight_view w_gate, w_up;     // [n_ff, n_embd]
  cpu::weight_view w_down;           // [n_embd, n_ff]
};

class model {
 public:
  // Opens and maps the file, then validates it (throws gguf_error naming the file and problem).
  static model open(const std::string& path);
  // Takes ownership of an already parsed file.
  explicit model(gguf_file file);

  model(model&&) noexcept = default;
  model& operator=(model&&) noexcept = default;

  const gguf_file& file() const { return file_; }
  const model_hparams& hparams() const { return hp_; }
  const std::vector<layer_weights>& layers() const { return layers_; }
  const cpu::weight_view& token_embd() const { return token_embd_; }  // [n_vocab, n_embd]
  const float* output_norm() const { return output_norm_; }           // [n_embd]
  const cpu::weight_view& output() const { return output_; }          // [n_vocab, n_embd]; tied -> token_embd
  bool tied_output() const { return tied_output_; }
  // The most common weight type among the matrices (for reporting and error bounds).
  cpu::dtype main_type() const { return main_type_; }
  // Bytes of all weights the forward pass reads (for bandwidth estimates).
  uint64_t weight_bytes() const { return weight_bytes_; }

  // Dequantize embedding row `token` into out: [n_embd].
  void embed(int32_t token, float* out) const;

 private:
  void load_hparams();
  void load_tensors();

  gguf_file file_;
  model_hparams hp_;
  std::vector<layer_weights> layers_;
  cpu::weight_view token_embd_;
  const float* output_norm_ = nullptr;
  cpu::weight_view output_;
  bool tied_output_ = false;
  cpu::dtype main_type_ = cpu::dtype::f32;
  uint64_t weight_bytes_ = 0;
};

// "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K": the weight types a model may use.
std::string_view supported_weight_types();
std::string_view supported_architectures();  // "llama, qwen2, qwen3"

}  // namespace laneway::engine
