// Random-weight model files. Every row of every tensor has its own generator state, derived from
// (seed, FNV-1a of the tensor name, row index) through splitmix64, so rows can be made on several
// threads in any order and the file is the same. A weight is an approximate normal(0, 0.02): the
// sum of four 16-bit uniforms from one splitmix64 output (Irwin-Hall), integer arithmetic and one
// float multiply, hence bit-identical everywhere (std::normal_distribution is not). Matrices are
// quantized with cpu::quantize_row; norm weights are 1 + normal(0, 0.02), biases normal(0, 0.02),
// both F32. Tensors are generated and written in chunks of rows, never held whole.
#include "backends/engine/mkmodel.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "backends/cpu/quant_types.hpp"
#include "backends/cpu/thread_pool.hpp"
#include "backends/engine/gguf_writer.hpp"
#include "backends/engine/sampler_rng.hpp"

namespace laneway::engine {

namespace {

constexpr float weight_sigma = 0.02f;

enum class tensor_kind { matrix, norm, bias };

struct tensor_spec {
  std::string name;
  tensor_type type;
  std::vector<uint64_t> ne;  // ne[0] = row length
  tensor_kind kind;
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

// ~N(0, sigma) from 64 random bits: four 16-bit uniforms summed (mean 131070, sd 37837.23).
inline float approx_normal(uint64_t bits, float sigma) {
  const int64_t s = static_cast<int64_t>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) + (bits >> 48));
  return static_cast<float>(s - 131070) * (sigma / 37837.227f);
}

// row: [n] values of row `r` of a tensor whose generator base is `base`.
void generate_row(uint64_t base, uint64_t r, tensor_kind kind, float* row, int64_t n) {
  uint64_t mix = base ^ (r * 0xD1B54A32D192ED03ull);
  uint64_t state = splitmix64(mix);
  const float offset = kind == tensor_kind::norm ? 1.0f : 0.0f;
  for (int64_t i = 0; i < n; ++i) row[i] = offset + approx_normal(splitmix64(state), weight_sigma);
}

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

uint32_t file_type_of(tensor_type t) {  // llama.cpp's general.file_type (LLAMA_FTYPE_*)
  switch (t) {
    case tensor_type::f32: return 0;
    case tensor_type::f16: return 1;
    case tensor_type::q4_0: return 2;
    case tensor_type::q8_0: return 7;
    case tensor_type::q4_k: return 14;  // Q4_K_S: all Q4_K
    case tensor_type::q5_k: return 16;  // Q5_K_S
    case tensor_type::q6_k: return 18;
    case tensor_type::bf16: return 32;
    default: return 0;
  }
}

std::vector<tensor_spec> model_tensors(const mkmodel_options& o, int64_t n_vocab) {
  const auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  const int64_t q_dim = o.heads * o.head_dim, kv_dim = o.kv_heads * o.head_dim;
  std::vector<tensor_spec> t;
  t.push_back({"token_embd.weight", o.type, {u(o.embd), u(n_vocab)}, tensor_kind::matrix});
  t.push_back({"output_norm.weight", tensor_type::f32, {u(o.embd)}, tensor_kind::norm});
  if (!o.tied) t.push_back({"output.weight", o.type, {u(o.embd), u(n_vocab)}, tensor_kind::matrix});
  for (int64_t l = 0; l < o.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    t.push_back({p + "attn_norm.weight", tensor_type::f32, {u(o.embd)}, tensor_kind::norm});
    t.push_back({p + "attn_q.weight", o.type, {u(o.embd), u(q_dim)}, tensor_kind::matrix});
    t.push_back({p + "attn_k.weight", o.type, {u(o.embd), u(kv_dim)}, tensor_kind::matrix});
    t.push_back({p + "attn_v.weight", o.type, {u(o.embd), u(kv_dim)}, tensor_kind::matrix});
    if (o.arch == "qwen2") {
      t.push_back({p + "attn_q.bias", tensor_type::f32, {u(q_dim)}, tensor_kind::bias});
      t.push_back({p + "attn_k.bias", tensor_type::f32, {u(kv_dim)}, tensor_kind::bias});
      t.push_back({p + "attn_v.bias", tensor_type::f32, {u(kv_dim)}, tensor_kind::bias});
    }
    t.push_back({p + "attn_output.weight", o.type, {u(q_dim), u(o.embd)}, tensor_kind::matrix});
    if (o.arch == "qwen3") {
      t.push_back({p + "attn_q_norm.weight", tensor_type::f32, {u(o.head_dim)}, tensor_kind::norm});
      t.push_back({p + "attn_k_norm.weight", tensor_type::f32, {u(o.head_dim)}, tensor_kind::norm});
    }
    t.push_back({p + "ffn_norm.weight", tensor_type::f32, {u(o.embd)}, tensor_kind::norm});
    t.push_back({p + "ffn_gate.weight", o.type, {u(o.embd), u(o.ff)}, tensor_kind::matrix});
    t.push_back({p + "ffn_up.weight", o.type, {u(o.embd), u(o.ff)}, tensor_kind::matrix});
    t.push_back({p + "ffn_down.weight", o.type, {u(o.ff), u(o.embd)}, tensor_kind::matrix});
  }
  return t;
}

void add_hparams(gguf_writer& w, const mkmodel_options& o, int64_t n_vocab) {
  const std::string& a = o.arch;
  const bool qwen = a != "llama";
  w.add_string("general.architecture", a);
  w.add_string("general.name", "laneway-random-" + a);
  w.add_string("general.description", "random weights: laneway mkmodel --seed " + std::to_string(o.seed));
  w.add_u32("general.file_type", file_type_of(o.type));
  w.add_u32("general.quantization_version", 2);
  const auto u32 = [](int64_t v) { return static_cast<uint32_t>(v); };
  w.add_u32(a + ".vocab_size", u32(n_vocab));
  w.add_u32(a + ".context_length", u32(o.ctx));
  w.add_u32(a + ".embedding_length", u32(o.embd));
  w.add_u32(a + ".block_count", u32(o.layers));
  w.add_u32(a + ".feed_forward_length", u32(o.ff));
  w.add_u32(a + ".attention.head_count", u32(o.heads));
  w.add_u32(a + ".attention.head_count_kv", u32(o.kv_heads));
  w.add_u32(a + ".attention.key_length", u32(o.head_dim));
  w.add_u32(a + ".attention.value_length", u32(o.head_dim));
  w.add_u32(a + ".rope.dimension_count", u32(o.head_dim));
  w.add_f32(a + ".attention.layer_norm_rms_epsilon", qwen ? 1e-6f : 1e-5f);
  w.add_f32(a + ".rope.freq_base", qwen ? 1000000.0f : 10000.0f);
}

// Generates, quantizes and writes one tensor, a chunk of rows at a time.
void write_tensor(gguf_writer& w, const tensor_spec& t, uint64_t seed, cpu::thread_pool& pool,
                  std::vector<std::byte>& chunk) {
  const auto dt = static_cast<cpu::dtype>(static_cast<uint32_t>(t.type));
  const auto row_len = static_cast<int64_t>(t.ne[0]);
  int64_t n_rows = 1;
  for (std::size_t d = 1; d < t.ne.size(); ++d) n_rows *= static_cast<int64_t>(t.ne[d]);
  const std::size_t row_bytes = cpu::row_bytes(dt, row_len);
  const int64_t rows_per_chunk = std::max<int64_t>(1, static_cast<int64_t>(chunk.size() / row_bytes));
  const uint64_t base = seed ^ fnv1a(t.name);
  constexpr int64_t rows_per_task = 8;
  for (int64_t r0 = 0; r0 < n_rows; r0 += rows_per_chunk) {
    const int64_t nr = std::min(rows_per_chunk, n_rows - r0);
    pool.parallel_for((nr + rows_per_task - 1) / rows_per_task, [&](int64_t task) {
      std::vector<float> row(static_cast<std::size_t>(row_len));  // row: [row_len]
      const int64_t end = std::min(nr, (task + 1) * rows_per_task);
      for (int64_t r = task * rows_per_task; r < end; ++r) {
        generate_row(base, static_cast<uint64_t>(r0 + r), t.kind, row.data(), row_len);
        cpu::quantize_row(dt, row.data(), chunk.data() + static_cast<std::size_t>(r) * row_bytes, row_len);
      }
    });
    w.write_data(std::span<const std::byte>(chunk.data(), static_cast<std::size_t>(nr) * row_bytes));
  }
}

}  // namespace

std::optional<tensor_type> parse_weight_type(const std::string& name) {
  std::string n;
  for (const char c : name) n += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const tensor_type t : {tensor_type::f32, tensor_type::f16, tensor_type::bf16, tensor_type::q8_0,
                              tensor_type::q4_0, tensor_type::q4_k, tensor_type::q5_k, tensor_type::q6_k}) {
    std::string tn(traits(t).name);
    for (char& c : tn) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (tn == n) return t;
  }
  return std::nullopt;
}

std::optional<std::string> resolve_mkmodel_options(mkmodel_options& o) {
  if (o.arch != "llama" && o.arch != "qwen2" && o.arch != "qwen3")
    return "--arch must be llama, qwen2 or qwen3, got '" + o.arch + "'";
  if (o.layers < 1 || o.layers > 1000) return "--layers must be in [1, 1000], got " + std::to_string(o.layers);
  if (o.embd < 2 || o.embd > 65536) return "--embd must be in [2, 65536], got " + std::to_string(o.embd);
  if (o.heads == 0) o.heads = std::max<int64_t>(1, o.embd / 64);
  if (o.heads < 1 || o.heads > 1024) return "--heads must be in [1, 1024], got " + std::to_string(o.heads);
  if (o.kv_heads == 0) o.kv_heads = o.heads;
  if (o.kv_heads < 1 || o.heads % o.kv_heads != 0)
    return "--kv-heads must divide --heads (" + std::to_string(o.heads) + "), got " + std::to_string(o.kv_heads);
  if (o.head_dim == 0) {
    if (o.embd % o.heads != 0)
      return "--embd " + std::to_string(o.embd) + " is not a multiple of --heads " + std::to_string(o.heads) +
             ": give --head-dim";
    o.head_dim = o.embd / o.heads;
  }
  if (o.head_dim < 2 || o.head_dim % 2 != 0 || o.head_dim > 1024)
    return "--head-dim must be even and in [2, 1024], got " + std::to_string(o.head_dim);
  if (o.ff == 0) o.ff = round_up(o.embd * 8 / 3, 256);
  if (o.ff < 1 || o.ff > 1 << 20) return "--ff must be in [1, 1048576], got " + std::to_string(o.ff);
  if (o.ctx < 1 || o.ctx > 1 << 24) return "--ctx must be in [1, 16777216], got " + std::to_string(o.ctx);
  if (o.threads < 1 || o.threads > 256) return "--threads must be in [1, 256], got " + std::to_string(o.threads);
  if (o.out.empty()) return "-o OUT.gguf is required";
  // Quantized rows: every matrix's row length (ne[0]) must be whole blocks.
  const tensor_type_traits& tr = traits(o.type);
  const auto check = [&](const char* flag, int64_t v) -> std::optional<std::string> {
    if (v % tr.block_size == 0) return std::nullopt;
    return std::string(flag) + " = " + std::to_string(v) + " is not a multiple of " + std::to_string(tr.block_size) +
           ", the " + std::string(tr.name) + " block size (rows of " + std::string(tr.name) +
           " weights are whole blocks); pick another size or --type F16";
  };
  if (auto e = check("--embd", o.embd)) return e;
  if (auto e = check("--ff", o.ff)) return e;
  if (auto e = check("--heads x --head-dim", o.heads * o.head_dim)) return e;
  return std::nullopt;
}

mkmodel_result make_random_model(const mkmodel_options& o) {
  const gguf_file vocab = gguf_file::open(o.vocab_path);
  const auto tokens = vocab.find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != gguf_value_type::array || tokens->element_type != gguf_value_type::string ||
      tokens->count == 0)
    throw gguf_error(o.vocab_path + ": no tokenizer.ggml.tokens string array: not a vocab file");
  const auto n_vocab = static_cast<int64_t>(tokens->count);

  gguf_writer w;
  add_hparams(w, o, n_vocab);
  for (const auto& [key, value] : vocab.metadata())
    if (key.starts_with("tokenizer.")) w.copy(key, value);

  const auto specs = model_tensors(o, n_vocab);
  mkmodel_result res;
  res.n_vocab = n_vocab;
  for (const auto& t : specs) {
    w.add_tensor(t.name, t.type, t.ne);
    uint64_t n = 1;
    for (const auto d : t.ne) n *= d;
    res.n_params += n;
  }

  const std::string tmp = o.out + ".tmp";
  try {
    w.open(tmp);
    cpu::thread_pool pool(o.threads);
    std::vector<std::byte> chunk(std::size_t{8} << 20);
    for (const auto& t : specs) write_tensor(w, t, o.seed, pool, chunk);
    w.close();
    std::error_code ec;
    std::filesystem::rename(tmp, o.out, ec);
    if (ec) throw gguf_write_error("cannot rename '" + tmp + "' to '" + o.out + "': " + ec.message());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  res.file_bytes = w.bytes_written();
  return res;
}

}  // namespace laneway::engine
