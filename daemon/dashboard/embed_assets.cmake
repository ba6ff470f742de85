# Writes OUTPUT: a C++ source defining skyd::daemon::dashboard_assets() over the files in INPUTS
# (a ;-list of paths under daemon/dashboard/assets; each served as /<file name>). Run with cmake -P.
set(body "")
foreach(path IN LISTS INPUTS)
  get_filename_component(name "${path}" NAME)
  file(READ "${path}" text)
  if(text MATCHES "\\)skyd_asset\"")
    message(FATAL_ERROR "asset contains the raw-string delimiter: ${path}")
  endif()
  string(APPEND body "      {\"${name}\", R\"skyd_asset(${text})skyd_asset\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from daemon/dashboard/assets/* by embed_assets.cmake; do not edit.
#include \"daemon/dashboard/dashboard.hpp\"

namespace skyd::daemon {

const std::vector<DashboardAsset>& dashboard_assets() {
  static const std::vector<DashboardAsset> files{
${body}  };
  return files;
}

}  // namespace skyd::daemon
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
