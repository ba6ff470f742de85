# Writes OUTPUT: a C++ source defining skyd::catalog::embedded_catalog_csv() over the catalog
# folders in INPUTS (a ;-list of data/<cloud> paths; each holds vms.csv and optionally
# `provenance`). Run with cmake -P.
set(body "")
foreach(folder IN LISTS INPUTS)
  get_filename_component(cloud "${folder}" NAME)
  file(READ "${folder}/vms.csv" text)
  set(provenance "")
  if(EXISTS "${folder}/provenance")
    file(READ "${folder}/provenance" provenance)
  endif()
  string(APPEND body "      {\"${cloud}\", R\"skydcsv(${text})skydcsv\", R\"skydcsv(${provenance})skydcsv\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from providers/catalog/data/<cloud>/ by embed_csv.cmake; do not edit.
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
