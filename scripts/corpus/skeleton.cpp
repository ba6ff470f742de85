// corpus_skeleton: turns one SkyPilot YAML file into the skeleton kept in tests/corpus/skypilot.
// A skeleton keeps every key and every value of the file except the scripts: the bodies of
// `setup`, `run` and `event_callback` become a one-line placeholder (a null one stays null), so
// the corpus carries the facts a parser sees and none of the examples' text. Comments and
// formatting go; quoted scalars stay quoted and flow collections stay flow, so every value reads
// back as the same type.
//
//   corpus_skeleton INPUT OUTPUT SOURCE_PATH COMMIT
// exits 0 when OUTPUT was written, 3 when INPUT is not a task YAML (the reason on stdout: a
// Kubernetes manifest, a config file, a workflow), 1 when it is not YAML at all.
//
// A dev-time tool (scripts/corpus/regenerate.sh builds and runs it); not part of any build.

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The top-level fields of SkyPilot's task schema (sky/utils/schemas.py, get_task_schema), plus
// the header document's `execution` and job groups' header fields.
const std::set<std::string> kTaskFields = {"name",
                                           "workdir",
                                           "event_callback",
                                           "num_nodes",
                                           "resources",
                                           "file_mounts",
                                           "service",
                                           "pool",
                                           "setup",
                                           "run",
                                           "envs",
                                           "secrets",
                                           "managed_secrets",
                                           "inputs",
                                           "outputs",
                                           "file_mounts_mapping",
                                           "config",
                                           "volumes",
                                           "volume_mounts",
                                           "api_server_access",
                                           "_metadata",
                                           "execution",
                                           "job_group",
                                           "primary_tasks",
                                           "termination_delay"};
// At least one of these makes a document a task rather than a stray mapping.
const std::set<std::string> kTaskMarkers = {"run",       "setup",       "resources", "service",
                                            "num_nodes", "file_mounts", "envs",      "workdir",
                                            "pool",      "secrets"};
const std::set<std::string> kScripts = {"setup", "run", "event_callback"};

void emit(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out << YAML::Null;
      return;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags a quoted scalar "!"; quoting it again keeps `"4"` a string.
      if (node.Tag() == "!") out << YAML::DoubleQuoted;
      out << node.Scalar();
      return;
    case YAML::NodeType::Sequence:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node) emit(out, item);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Map:
      if (node.Style() == YAML::EmitterStyle::Flow) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        emit(out, entry.first);
        out << YAML::Value;
        emit(out, entry.second);
      }
      out << YAML::EndMap;
      return;
  }
}

// Why a node is a documentation fragment rather than a file (keys repeated to show alternatives,
// `...` for elided parts), or "".
std::string fragment_mark(const YAML::Node& node) {
  if (node.IsScalar() && node.Scalar() == "...") return "`...` stands for elided text";
  if (node.IsSequence()) {
    for (const auto& item : node) {
      if (std::string mark = fragment_mark(item); !mark.empty()) return mark;
    }
  }
  if (node.IsMap()) {
    std::set<std::string> keys;
    for (const auto& entry : node) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "";
      if (!keys.insert(key).second) return "key `" + key + "` is repeated";
      if (std::string mark = fragment_mark(entry.first); !mark.empty()) return mark;
      if (std::string mark = fragment_mark(entry.second); !mark.empty()) return mark;
    }
  }
  return "";
}

// Why a document is not a task, or "" when it is one (a pipeline header counts).
std::string not_a_task(const YAML::Node& doc) {
  if (!doc.IsMap()) return "a document is not a mapping";
  bool marked = false;
  bool header = true;
  for (const auto& entry : doc) {
    const std::string key = entry.first.as<std::string>("");
    if (!kTaskFields.contains(key)) return "top-level key `" + key + "` is not a task field";
    if (kTaskMarkers.contains(key)) marked = true;
    if (key != "name" && key != "execution" && key != "primary_tasks" &&
        key != "termination_delay") {
      header = false;
    }
  }
  if (!marked && !header) return "no task field such as run, setup or resources";
  return fragment_mark(doc);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: corpus_skeleton INPUT OUTPUT SOURCE_PATH COMMIT\n";
    return 2;
  }
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAllFromFile(argv[1]);
  } catch (const YAML::Exception& e) {
    std::cout << "not YAML: " << e.what() << "\n";
    return 1;
  }
  std::vector<YAML::Node> kept;
  for (const auto& doc : docs) {
    if (doc.IsNull()) continue;  // a trailing `---`; task parsers skip it too
    if (const std::string reason = not_a_task(doc); !reason.empty()) {
      std::cout << reason << "\n";
      return 3;
    }
    kept.push_back(doc);
  }
  if (kept.empty()) {
    std::cout << "no documents\n";
    return 3;
  }
  std::ostringstream text;
  text << "# Skeleton of skypilot-org/skypilot:" << argv[3] << " at commit " << argv[4] << "\n"
       << "# Every key and value is kept; setup/run/event_callback scripts are placeholders.\n";
  for (std::size_t i = 0; i < kept.size(); ++i) {
    YAML::Node doc = YAML::Clone(kept[i]);
    for (const auto& script : kScripts) {
      if (doc[script] && !doc[script].IsNull()) {
        doc[script] = ": the original " + script + " script is not kept";
      }
    }
    YAML::Emitter out;
    emit(out, doc);
    if (i > 0) text << "---\n";
    text << out.c_str() << "\n";
  }
  std::ofstream file(argv[2]);
  file << text.str();
  return file ? 0 : 1;
}
