#include "daemon/controller/git_checkout.hpp"

#include "reactor/shell_quote.hpp"

namespace skyd::daemon {
std::string git_checkout_script(const spec::GitWorkdir& git, GitDeadlines deadlines) {
  const std::string url = single_quoted(git.url);
  const std::string ref = single_quoted(git.ref.value_or("HEAD"));
  const std::string remote_branch = single_quoted("origin/" + git.ref.value_or("HEAD"));
  // A shallow fetch of the ref; a server that will not serve a commit by its id gets a full
  // fetch, after which any branch, tag or commit can be checked out. The subshell keeps the
  // task's own setup free of `set -e` and of the credentials' variables.
  return "# skyd: check out the git workdir " + url + " at " + ref +
         "\n"
         "(\n"
         "  set -eu\n"
         "  export GIT_TERMINAL_PROMPT=0\n"
         "  ssh_options='-o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=" +
         std::to_string(deadlines.connect_seconds) +
         " -o ServerAliveInterval=15 -o ServerAliveCountMax=4'\n"
         "  export GIT_SSH_COMMAND=\"ssh $ssh_options\"\n"
         "  if [ -n \"${SKYD_GIT_SSH_KEY:-}\" ]; then\n"
         "    key=\"$(mktemp)\"\n"
         "    trap 'rm -f \"$key\"' EXIT\n"
         "    printf '%s\\n' \"$SKYD_GIT_SSH_KEY\" > \"$key\"\n"
         "    GIT_SSH_COMMAND=\"ssh -i $key -o IdentitiesOnly=yes $ssh_options\"\n"
         "  fi\n"
         "  export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=http.lowSpeedLimit GIT_CONFIG_VALUE_0=1000\n"
         "  export GIT_CONFIG_KEY_1=http.lowSpeedTime GIT_CONFIG_VALUE_1=" +
         std::to_string(deadlines.stall_seconds) +
         "\n"
         "  if [ -n \"${GIT_TOKEN:-}\" ]; then\n"
         "    export GIT_CONFIG_COUNT=3 GIT_CONFIG_KEY_2=http.extraHeader\n"
         "    GIT_CONFIG_VALUE_2=\"Authorization: Basic $(printf 'x-access-token:%s' "
         "\"$GIT_TOKEN\" | base64 -w0)\"\n"
         "    export GIT_CONFIG_VALUE_2\n"
         "  fi\n"
         "  [ -d .git ] || git init -q .\n"
         "  git remote remove origin 2>/dev/null || true\n"
         "  git remote add origin " +
         url + "\n" + "  if git fetch -q --depth 1 origin " + ref +
         " 2>/dev/null; then\n"
         "    git checkout -q --force FETCH_HEAD\n"
         "  else\n"
         "    git fetch -q --tags origin\n"
         "    git checkout -q --force " +
         ref + " 2>/dev/null || git checkout -q --force " + remote_branch +
         "\n"
         "  fi\n"
         ")\n"
         // Not `( … ) || …`: bash ignores `set -e` inside a subshell whose status is tested.
         "if [ $? -ne 0 ]; then\n"
         "  printf 'skyd: cannot check out the git workdir %s at %s\\n' " +
         url + " " + ref + " >&2\n  exit 1\nfi\n";
}

}  // namespace skyd::daemon
