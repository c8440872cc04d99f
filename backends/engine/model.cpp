// Model loading: reads `{arch}.*` hyper-parameters, rejects unsupported features, and binds every
// tensor by name after checking its shape and type. Weights are views into the mapped file.
#include "backends/engine/model.hpp"

#include <map>
#include <optional>
#include <string>

namespace laneway::engine {
namespace {

std::string shape_string(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (std::size_t i = 0; i < ne.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(ne[i]);
  }
  return s + "]";
}

std::string shape_string(const gguf_tensor& t) {
  std::vector<int64_t> ne;
  for (uint32_t i = 0; i < t.n_dims; ++i) ne.push_back(static_cast<int64_t>(t.ne[i]));
  return shape_string(ne);
}

bool is_supported_weight(tensor_type t) {
  switch (t) {
    case tensor_type::f32: case tensor_type::f16: case tensor_type::bf16: case tensor_type::q8_0:
    case tensor_type::q4_0: case tensor_type::q4_k: case tensor_type::q5_k: case tensor_type::q6_k:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view to_string(model_arch a) {
  switch (a) {
    case model_arch::llama: return "llama";
    case model_arch::qwen2: return "qwen2";
    case model_arch::qwen3: return "qwen3";
  }
  return "?";
}

std::string_view supported_weight_types() { return "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K"; }
std::string_view supported_architectures() { return "llama, qwen2, qwen3"; }

model model::open(const std::string& path) { return model(gguf_file::open(path)); }

model::model(gguf_file file) : file_(std::move(file)) {
  load_hparams();
  load_tensors();
}

void model::load_hparams() {
  const std::string& fname = file_.name();
  const auto arch_name = file_.find_string("general.architecture");
  if (!arch_name) throw gguf_error(fname + ": no general.architecture: not a model file");
  if (*arch_name == "llama") hp_.arch = model_arch::llama;
  else if (*arch_name == "qwen2") hp_.arch = model_arch::qwen2;
  else if (*arch_name == "qwen3") hp_.arch = model_arch::qwen3;
  else {
    throw gguf_error(fname + ": unsupported architecture '" + std::string(*arch_name) +
                     "' (supported: " + std::string(supported_architectures()) + ")");
  }
  const std::string a(*arch_name);
  auto key = [&](const char* k) { return a + "." + k; };

  hp_.n_embd = file_.get_u32(key("embedding_length"));
  hp_.n_layer = file_.get_u32(key("block_count"));
  hp_.n_head = file_.get_u32(key("attention.head_count"));
  hp_.n_head_kv = file_.find_u32(key("attention.head_count_kv")).value_or(static_cast<uint32_t>(hp_.n_head));
  hp_.n_ff = file_.get_u32(key("feed_forward_length"));
  hp_.n_ctx_train = file_.find_u32(key("context_length")).value_or(2048);
  hp_.rms_eps = file_.find_f32(key("attention.layer_norm_rms_epsilon")).value_or(1e-5f);
  hp_.rope_freq_base = file_.find_f32(key("rope.freq_base")).value_or(10000.0f);
  hp_.rope = hp_.arch == model_arch::llama ? cpu::rope_mode::normal : cpu::rope_mode::neox;

  if (hp_.n_embd <= 0 || hp_.n_layer <= 0 || hp_.n_head <= 0 || hp_.n_head_kv <= 0 || hp_.n_ff <= 0) {
    throw gguf_error(fname + ": " + a + " hyper-parameters must be positive (embedding_length, " +
                     "block_count, head_count, head_count_kv, feed_forward_length)");
  }
  if (hp_.n_head % hp_.n_head_kv != 0) {
    throw gguf_error(fname + ": head_count " + std::to_string(hp_.n_head) +
                     " is not a multiple of head_count_kv " + std::to_string(hp_.n_head_kv));
  }
  const auto key_len = file_.find_u32(key("attention.key_length"));
  const auto value_len = file_.find_u32(key("attention.value_length"));
  if (key_len) hp_.head_dim = *key_len;
  else if (hp_.n_embd % hp_.n_head == 0) hp_.head_dim = hp_.n_embd / hp_.n_head;
  else throw gguf_error(fname + ": no attention.key_length and embedding_length is not a multiple of head_count");
  if (value_len && *value_len != hp_.head_dim) {
    throw gguf_error(fname + ": attention.value_length " + std::to_string(*value_len) +
                     " differs from key_length " + std::to_string(hp_.head_dim) + " (not supported)");
  }
  if (hp_.head_dim <= 0 || hp_.head_dim % 2 != 0) {
    throw gguf_error(fname + ": head size " + std::to_string(hp_.head_dim) + " must be positive and even");
  }
  if (const auto n_rot = file_.find_u32(key("rope.dimension_count")); n_rot && *n_rot != hp_.head_dim) {
    throw gguf_error(fname + ": partial rope (rope.dimension_count " + std::to_string(*n_rot) +
                     " < head size " + std::to_string(hp_.head_dim) + ") is not supported");
  }
  // Rope scaling: only "none" (or a factor of 1) is supported.
  if (const auto scaling = file_.find_string(key("rope.scaling.type")); scaling && *scaling != "none") {
    throw gguf_error(fname + ": rope scaling type '" + std::string(*scaling) +
                     "' is not supported (only none)");
  }
  if (const auto factor = file_.find_f32(key("rope.scaling.factor")); factor && *factor != 0.0f && *factor != 1.0f) {
    throw gguf_error(fname + ": rope scaling factor " + std::to_string(*factor) + " is not supported (only 1)");
  }
  if (file_.has(key("attention.sliding_window")) || file_.has(key("attention.sliding_window_pattern"))) {
    throw gguf_error(fname + ": sliding-window attention is not supported");
  }
}

void model::load_tensors() {
  const std::string& fname = file_.name();
  std::map<cpu::dtype, uint64_t> type_bytes;  // for main_type_

  auto find = [&](const std::string& name, bool required) -> const gguf_tensor* {
    const gguf_tensor* t = file_.find_tensor(name);
    if (!t && required) throw gguf_error(fname + ": missing tensor '" + name + "'");
    return t;
  };
  auto check_shape = [&](const gguf_tensor& t, const std::vector<int64_t>& expect) {
    bool ok = t.n_dims == expect.size();
    for (std::size_t i = 0; ok && i < expect.size(); ++i) ok = static_cast<int64_t>(t.ne[i]) == expect[i];
    if (!ok) {
      throw gguf_error(fname + ": tensor '" + std::string(t.name) + "' has shape " + shape_string(t) +
                       ", expected " + shape_string(expect));
    }
  };
  // A norm weight or bias: f32 vector of n values.
  auto vector_f32 = [&](const std::string& name, int64_t n, bool required) -> const float* {
    const gguf_tensor* t = find(name, required);
    if (!t) return nullptr;
    check_shape(*t, {n});
    if (t->type != tensor_type::f32) {
      throw gguf_error(fname + ": tensor '" + name + "' has type " + std::string(traits(t->type).name) +
                       ", expected F32 (norm weights and biases)");
    }
    weight_bytes_ += t->n_bytes;
    return reinterpret_cast<const float*>(t->data);
  };
  // A matrix [n_out, n_in] (GGUF ne = {n_in, n_out}).
  auto matrix = [&](const std::string& name, int64_t n_out, int64_t n_in, bool required,
                    bool count = true) -> std::optional<cpu::weight_view> {
    const gguf_tensor* t = find(name, required);
    if (!t) return std::nullopt;
    check_shape(*t, {n_in, n_out});
    if (!is_supported_weight(t->type)) {
      throw gguf_error(fname + ": tensor '" + name + "' has type " + std::string(traits(t->type).name) +
                       ", which is not supported (supported: " + std::string(supported_weight_types()) + ")");
    }
    cpu::weight_view w;
    w.type = static_cast<cpu::dtype>(t->type);
    w.data = t->data;
    w.n_out = n_out;
    w.n_in = n_in;
    if (count) {
      weight_bytes_ += t->n_bytes;
      type_bytes[w.type] += t->n_bytes;
    }
    return w;
  };

  const gguf_tensor* embd = find("token_embd.weight", true);
  if (embd->n_dims != 2 || static_cast<int64_t>(embd->ne[0]) != hp_.n_embd) {
    throw gguf_error(fname + ": tensor 'token_embd.weight' has shape " + shape_string(*embd) +
                     ", expected [" + std::to_string(hp_.n_embd) + ", n_vocab]");
  }
  hp_.n_vocab = static_cast<int64_t>(embd->ne[1]);
  token_embd_ = *matrix("token_embd.weight", hp_.n_vocab, hp_.n_embd, true, false);
  output_norm_ = vector_f32("output_norm.weight", hp_.n_embd, true);
  if (auto out = matrix("output.weight", hp_.n_vocab, hp_.n_embd, false)) {
    output_ = *out;
  } else {
    output_ = token_embd_;
    tied_output_ = true;
    weight_bytes_ += cpu::row_bytes(token_embd_.type, hp_.n_embd) * hp_.n_vocab;
  }

  const bool qwen2 = hp_.arch == model_arch::qwen2, qwen3 = hp_.arch == model_arch::qwen3;
  layers_.resize(static_cast<std::size_t>(hp_.n_layer));
  for (int64_t i = 0; i < hp_.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    layer_weights& l = layers_[static_cast<std::size_t>(i)];
    l.attn_norm = vector_f32(p + "attn_norm.weight", hp_.n_embd, true);
    l.wq = *matrix(p + "attn_q.weight", hp_.q_dim(), hp_.n_embd, true);
    l.wk = *matrix(p + "attn_k.weight", hp_.kv_dim(), hp_.n_embd, true);
    l.wv = *matrix(p + "attn_v.weight", hp_.kv_dim(), hp_.n_embd, true);
    l.wo = *matrix(p + "attn_output.weight", hp_.n_embd, hp_.q_dim(), true);
    // qwen2 always has biases; llama files sometimes carry them too: use them when present.
    l.bq = vector_f32(p + "attn_q.bias", hp_.q_dim(), qwen2);
    l.bk = vector_f32(p + "attn_k.bias", hp_.kv_dim(), qwen2);
    l.bv = vector_f32(p + "attn_v.bias", hp_.kv_dim(), qwen2);
    l.q_norm = vector_f32(p + "attn_q_norm.weight", hp_.head_dim, qwen3);
    l.k_norm = vector_f32(p + "attn_k_norm.weight", hp_.head_dim, qwen3);
    l.ffn_norm = vector_f32(p + "ffn_norm.weight", hp_.n_embd, true);
    l.w_gate = *matrix(p + "ffn_gate.weight", hp_.n_ff, hp_.n_embd, true);
    l.w_up = *matrix(p + "ffn_up.weight", hp_.n_ff, hp_.n_embd, true);
    l.w_down = *matrix(p + "ffn_down.weight", hp_.n_embd, hp_.n_ff, true);
  }
  uint64_t best = 0;
  for (const auto& [t, bytes] : type_bytes) {
    if (bytes > best) best = bytes, main_type_ = t;
  }
}

void model::embed(int32_t token, float* out) const {
  if (token < 0 || token >= hp_.n_vocab) {
    throw std::out_of_range("token id " + std::to_string(token) + " outside the vocabulary of " +
                            std::to_string(hp_.n_vocab));
  }
  const auto* row = static_cast<const std::byte*>(token_embd_.data) +
                    static_cast<std::size_t>(token) * cpu::row_bytes(token_embd_.type, hp_.n_embd);
  cpu::dequantize_row(token_embd_.type, row, out, hp_.n_embd);
}

}  // namespace laneway::engine
