# Writes OUTPUT: a C++ source defining skyd::catalog::embedded_catalog_csv() over the CSV files
# in INPUTS (a ;-list of paths; the cloud is each file's base name). Run with cmake -P.
set(body "")
foreach(path IN LISTS INPUTS)
  get_filename_component(cloud "${path}" NAME_WE)
  file(READ "${path}" text)
  string(APPEND body "      {\"${cloud}\", R\"skydcsv(${text})skydcsv\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from providers/catalog/data/*.csv by embed_csv.cmake; do not edit.
#include \"providers/catalog/catalog.hpp\"

namespace skyd::catalog {

const std::vector<EmbeddedCsv>& embedded_catalog_csv() {
  static const std::vector<EmbeddedCsv> files{
${body}  };
  return files;
}

}  // namespace skyd::catalog
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
