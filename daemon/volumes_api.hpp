#pragma once
// `sky volumes` on the daemon's API: the PersistentVolumeClaims of the Kubernetes namespace skyd
// uses, which tasks mount through `volumes:` (docs/kubernetes-provider.md, "Volumes").
//
//   POST   /v1/volumes          {"name", "size", "access_mode"?, "storage_class"?, "labels"?,
//                               "use_existing"?, "context"?, "namespace"?}: make the claim, or
//                               with use_existing check that it is there
//   GET    /v1/volumes          {"volumes": [...], "context", "namespace"}: every claim of the
//                               namespace, who made it and which pods mount it
//   DELETE /v1/volumes/{name}   delete a claim `sky volumes apply` made: the caller's own (or any,
//                               for the privileged), and none a pod still mounts

#include "daemon/api.hpp"

namespace skyd::daemon {

void add_volume_routes(http::Router& router, const DaemonInfo& info, Controller* controller);

}  // namespace skyd::daemon
