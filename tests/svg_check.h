// A small well-formedness check for the SVG files qkv writes: every tag closed in order,
// attribute values quoted, no raw '<' or stray '&' in text. Returns "" when the document is
// well formed, else what is wrong and at which byte.
#pragma once

#include <cctype>
#include <string>
#include <vector>

namespace qkv::test {

inline std::string svg_problem(const std::string& s) {
  std::vector<std::string> open;
  auto at = [](size_t i) { return " at byte " + std::to_string(i); };
  size_t i = 0;
  bool root_seen = false;
  while (i < s.size()) {
    if (s[i] == '&') {
      const size_t semi = s.find(';', i);
      const std::string ent = semi == std::string::npos ? "" : s.substr(i, semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;")
        return "a stray '&'" + at(i);
      i = semi + 1;
      continue;
    }
    if (s[i] != '<') {
      if (open.empty() && s[i] != '\n' && s[i] != ' ') return "text outside the root" + at(i);
      ++i;
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      const size_t e = s.find("-->", i);
      if (e == std::string::npos) return "an unclosed comment" + at(i);
      i = e + 3;
      continue;
    }
    const bool closing = i + 1 < s.size() && s[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    const size_t name_start = j;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-' ||
                            s[j] == ':' || s[j] == '_'))
      ++j;
    const std::string name = s.substr(name_start, j - name_start);
    if (name.empty()) return "a '<' that starts no tag" + at(i);
    // Attributes: name='value' or name="value", up to '>' or '/>'.
    bool self_closing = false;
    while (true) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size()) return "an unclosed tag <" + name + at(i);
      if (s[j] == '>') break;
      if (s.compare(j, 2, "/>") == 0) {
        self_closing = true;
        ++j;
        break;
      }
      if (closing) return "attributes in a closing tag </" + name + at(j);
      const size_t eq = s.find('=', j);
      if (eq == std::string::npos || eq + 1 >= s.size() || (s[eq + 1] != '\'' && s[eq + 1] != '"'))
        return "an unquoted attribute in <" + name + at(j);
      const size_t end = s.find(s[eq + 1], eq + 2);
      if (end == std::string::npos) return "an unclosed attribute value in <" + name + at(j);
      if (s.substr(eq + 2, end - eq - 2).find('<') != std::string::npos)
        return "a '<' in an attribute value of <" + name + at(j);
      j = end + 1;
    }
    if (closing) {
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes " + (open.empty() ? "nothing" : "<" + open.back() + ">") +
               at(i);
      open.pop_back();
    } else if (!self_closing) {
      if (open.empty() && root_seen) return "a second root element <" + name + ">" + at(i);
      if (open.empty() && name != "svg") return "the root element is <" + name + ">, not <svg>";
      root_seen = true;
      open.push_back(name);
    }
    i = j + 1;
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (!root_seen) return "no <svg> element";
  return "";
}

}  // namespace qkv::test
