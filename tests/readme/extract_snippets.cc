// Writes the README's ```cpp blocks as one C++ file that must compile under
// -Wall -Wextra -Werror (tests/readme/CMakeLists.txt): a block that defines
// a class stands at namespace scope, any other block is the body of a
// function, with the names the README's prose gives it (db, registry, s, a
// response, TaskV1ToV2) declared by harness.h. Block N is namespace
// snippet_N. Usage: extract_snippets README.md OUT.cc
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: extract_snippets README.md OUT.cc\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "extract_snippets: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::vector<std::vector<std::string>> blocks;
  std::vector<int> first_lines;
  std::string line;
  bool inside = false;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!inside && line.rfind("```cpp", 0) == 0) {
      inside = true;
      blocks.emplace_back();
      first_lines.push_back(number + 1);
    } else if (inside && line.rfind("```", 0) == 0) {
      inside = false;
    } else if (inside) {
      blocks.back().push_back(line);
    }
  }
  if (blocks.empty()) {
    std::cerr << "extract_snippets: no ```cpp block in " << argv[1] << "\n";
    return 1;
  }
  std::set<std::string> includes;
  std::ostringstream body;
  for (size_t i = 0; i < blocks.size(); ++i) {
    bool file_scope = false;
    std::ostringstream code;
    for (const std::string& l : blocks[i]) {
      if (l.rfind("#include", 0) == 0) {
        // The project's and its dependencies' headers; "your" headers
        // (task_v1_to_v2.h) are harness.h's business.
        if (l.find("\"rocksmigrate/") != std::string::npos ||
            l.find("\"absl/") != std::string::npos ||
            l.find("\"rocksdb/") != std::string::npos) {
          includes.insert(l);
        }
        continue;
      }
      if (l.rfind("class ", 0) == 0 || l.rfind("struct ", 0) == 0) {
        file_scope = true;
      }
      code << l << "\n";
    }
    body << "// README.md line " << first_lines[i] << "\n"
         << "namespace snippet_" << i + 1 << " {\n"
         << "using namespace ::readme_harness;\n";
    if (file_scope) {
      body << code.str();
    } else {
      body << "[[maybe_unused]] int Run() {\n" << code.str()
           << "  return 0;\n}\n";
    }
    body << "}  // namespace snippet_" << i + 1 << "\n\n";
  }
  std::ofstream out(argv[2]);
  out << "// Generated from the README by tests/readme/extract_snippets.cc.\n";
  for (const std::string& inc : includes) out << inc << "\n";
  out << "#include \"tests/readme/harness.h\"\n\n" << body.str();
  out.close();
  if (!out) {
    std::cerr << "extract_snippets: cannot write " << argv[2] << "\n";
    return 1;
  }
  return 0;
}
