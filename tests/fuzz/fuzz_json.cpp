// libFuzzer target: bytes → nn::parse_json (the reader of a safetensors header, and of the
// config and vocabularies in the metadata that `export_checkpoint --import` reads), then, for an
// object, the config reader of --import. Bad input must end in std::runtime_error naming the
// source. What parses must write back and parse again to the same value, numbers exactly: a
// whole number keeps its exact value, and every number's double equals strtod's.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "examples/export/torch_names.h"
#include "nn/safetensors.h"

using namespace qkv;

namespace {

// JSON text for a parsed value; a number as its exact whole value or as the shortest %.17g
// that reads back to the same double (±1e999 for the infinities a huge exponent gives).
std::string write(const nn::Json& v) {
  switch (v.kind) {
    case nn::Json::Object: {
      std::string out = "{";
      for (const auto& [k, m] : v.members)
        out += (out.size() > 1 ? "," : "") + nn::json_quote(k) + ":" + write(m);
      return out + "}";
    }
    case nn::Json::Array: {
      std::string out = "[";
      for (const auto& item : v.items) out += (out.size() > 1 ? "," : "") + write(item);
      return out + "]";
    }
    case nn::Json::String:
      return nn::json_quote(v.text);
    case nn::Json::Number: {
      if (v.whole) return std::to_string(v.number);
      if (std::isinf(v.real)) return v.real > 0 ? "1e999" : "-1e999";
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v.real);
      return buf;
    }
    case nn::Json::Bool:
      return v.boolean ? "true" : "false";
    case nn::Json::Null:
      return "null";
  }
  __builtin_trap();
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// a and b hold the same value; a number written as 5.0 may read back whole (5).
bool same(const nn::Json& a, const nn::Json& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case nn::Json::Object:
      if (a.members.size() != b.members.size()) return false;
      for (size_t i = 0; i < a.members.size(); ++i)
        if (a.members[i].first != b.members[i].first ||
            !same(a.members[i].second, b.members[i].second))
          return false;
      return true;
    case nn::Json::Array:
      if (a.items.size() != b.items.size()) return false;
      for (size_t i = 0; i < a.items.size(); ++i)
        if (!same(a.items[i], b.items[i])) return false;
      return true;
    case nn::Json::String:
      return a.text == b.text;
    case nn::Json::Number:
      return same_bits(a.real, b.real) && (!a.whole || (b.whole && a.number == b.number));
    case nn::Json::Bool:
      return a.boolean == b.boolean;
    case nn::Json::Null:
      return true;
  }
  return false;
}

// What must hold of every number parsed: a whole one's double is its exact value, rounded.
void check_numbers(const nn::Json& v) {
  if (v.kind == nn::Json::Number && v.whole && !same_bits(v.real, static_cast<double>(v.number)))
    __builtin_trap();
  if (v.kind != nn::Json::Number && (v.whole || v.number != 0 || v.real != 0)) __builtin_trap();
  for (const auto& [k, m] : v.members) check_numbers(m);
  for (const auto& item : v.items) check_numbers(item);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nn::Json v;
  try {
    v = nn::parse_json(text, "fuzz.json");
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).rfind("fuzz.json at byte ", 0) != 0) __builtin_trap();
    return 0;
  }
  check_numbers(v);
  const std::string written = write(v);
  const nn::Json again = nn::parse_json(written, "written");  // throws (a crash) if not JSON
  if (!same(v, again) || write(again) != written) __builtin_trap();

  if (v.kind != nn::Json::Object) return 0;
  nn::SafeTensors f;  // no vocabularies and no tensors: reading must stop with an error
  f.metadata["config"] = text;
  try {
    (void)app::from_pytorch(f, "fuzz.safetensors");
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).rfind("fuzz.safetensors: ", 0) != 0) __builtin_trap();
    return 0;
  }
  __builtin_trap();  // a file without vocabularies was accepted
}
