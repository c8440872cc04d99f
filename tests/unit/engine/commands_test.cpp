// `laneway tokenize`: ids on stdout, flags, and exit code 1 with a message for bad input.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "backends/engine/commands.hpp"
#include "tests/unit/engine/test_data.hpp"

using laneway::engine::tokenize_command;
using laneway::engine::test::data_path;
using laneway::engine::test::read_text;

namespace {

struct run_result {
  int rc;
  std::string out;
  std::string err;
};

// Runs the command in-process with stdout/stderr redirected to temporary files.
run_result run(std::vector<std::string> args) {
  args.insert(args.begin(), "tokenize");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_path = "/tmp/laneway_unit_tokenize_out." + std::to_string(::getpid());
  const std::string err_path = "/tmp/laneway_unit_tokenize_err." + std::to_string(::getpid());
  std::fflush(stdout);
  std::fflush(stderr);
  const int saved_out = ::dup(1), saved_err = ::dup(2);
  REQUIRE(std::freopen(out_path.c_str(), "w", stdout) != nullptr);
  REQUIRE(std::freopen(err_path.c_str(), "w", stderr) != nullptr);
  const int rc = tokenize_command(static_cast<int>(args.size()), argv.data());
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  ::close(saved_out);
  ::close(saved_err);
  run_result r{rc, read_text(out_path), read_text(err_path)};
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("tokenize command") {
    const std::string gpt2 = data_path("tokenizer/ggml-vocab-gpt-2.gguf");
    const std::string stories = data_path("models/stories260K.gguf");
    SUBCASE("prints ids") {
      const auto r = run({"-m", gpt2, "Hello world<|endoftext|>"});
      CHECK(r.rc == 0);
      CHECK(r.out == "15496 995 50256\n");
    }
    SUBCASE("--no-special keeps control tokens as text") {
      const auto r = run({"-m", gpt2, "--no-special", "a<|endoftext|>"});
      CHECK(r.rc == 0);
      CHECK(r.out.find("50256") == std::string::npos);
    }
    SUBCASE("BOS and --no-bos") {
      CHECK(run({"-m", stories, "Once upon a time"}).out == "1 403 407 261 378\n");
      CHECK(run({"-m", stories, "--no-bos", "Once upon a time"}).out == "403 407 261 378\n");
    }
    SUBCASE("--file") {
      const std::string path = "/tmp/laneway_unit_tokenize_in." + std::to_string(::getpid());
      std::ofstream(path) << "Hello world";
      CHECK(run({"-m", gpt2, "--file", path}).out == "15496 995\n");
      std::remove(path.c_str());
    }
    SUBCASE("errors exit 1 with a message") {
      const auto missing = run({"-m", "/nonexistent.gguf", "x"});
      CHECK(missing.rc == 1);
      CHECK(missing.err.find("/nonexistent.gguf") != std::string::npos);
      CHECK(run({"x"}).rc == 1);                    // no -m
      CHECK(run({"-m", gpt2}).rc == 1);             // no text
      CHECK(run({"-m", gpt2, "--file", "/nonexistent.txt"}).rc == 1);
      const std::string truncated = "/tmp/laneway_unit_tokenize_trunc." + std::to_string(::getpid());
      const std::string bytes = read_text(stories).substr(0, 5000);
      std::ofstream(truncated, std::ios::binary) << bytes;
      const auto bad = run({"-m", truncated, "x"});
      CHECK(bad.rc == 1);
      CHECK(bad.err.find("byte offset") != std::string::npos);
      std::remove(truncated.c_str());
    }
  }
}
