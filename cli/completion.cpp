#include "cli/completion.hpp"

#include "cli/help.hpp"

#include <iostream>
#include <string_view>

namespace skyd::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: sky completion bash\n"
    "\n"
    "Print the bash completion script for sky. Install it with:\n"
    "  sky completion bash > /usr/share/bash-completion/completions/sky\n"
    "or load it in the current shell with:  source <(sky completion bash)\n"
    "\n"
    "options:\n"
    "  -h, --help              this text\n";

// Words are completed from fixed lists; a test checks that every flag of every command's --help
// is in its list here.
constexpr std::string_view kBashScript = R"bash(# bash completion for sky (skyd's CLI)
_sky_complete() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local -a words=()
  local i
  # The words before the cursor without the global --socket PATH or --host URL.
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} == --socket || ${COMP_WORDS[i]} == --host ]]; then ((i++)); continue; fi
    words+=("${COMP_WORDS[i]}")
  done
  if [[ $prev == --socket || $prev == --env-file || $prev == --secret-file ||
        $prev == --workdir ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  local flags
  case "${words[0]} ${words[1]}" in
    " ") COMPREPLY=($(compgen -W "jobs storage volumes show-gpus catalog daemon context controller completion --socket --host --version --help" -- "$cur")); return ;;
    "jobs ") COMPREPLY=($(compgen -W "launch queue logs cancel preempt dashboard pool --help" -- "$cur")); return ;;
    "jobs pool")
      if [[ ${#words[@]} -eq 2 ]]; then COMPREPLY=($(compgen -W "apply status down --help" -- "$cur")); return; fi
      flags="--pool -p --env --env-file --secret --secret-file --yes -y --dryrun --help -h" ;;
    "storage ") COMPREPLY=($(compgen -W "ls delete --help" -- "$cur")); return ;;
    "storage ls") flags="--output -o --help -h" ;;
    "storage delete") flags="--all -a --yes -y --help -h" ;;
    "volumes ") COMPREPLY=($(compgen -W "apply ls delete --help" -- "$cur")); return ;;
    "volumes apply") flags="--yes -y --help -h" ;;
    "volumes ls") flags="--output -o --help -h" ;;
    "volumes delete") flags="--yes -y --help -h" ;;
    "daemon ") COMPREPLY=($(compgen -W "status --help" -- "$cur")); return ;;
    "completion ") COMPREPLY=($(compgen -W "bash --help" -- "$cur")); return ;;
    "catalog ") COMPREPLY=($(compgen -W "refresh --help" -- "$cur")); return ;;
    "catalog refresh") flags="--dir --regions --endpoint --pricing-endpoint --help -h" ;;
    "context ") COMPREPLY=($(compgen -W "create use ls rm show --help" -- "$cur")); return ;;
    "context create") flags="--host --description --help -h" ;;
    "controller ") COMPREPLY=($(compgen -W "up down --help" -- "$cur")); return ;;
    "controller up") flags="--infra --instance-type --disk-size --name --ssh-cidr --ssh-user --ssh-key --package-url --help -h" ;;
    "controller down") flags="--name --purge --help -h" ;;
    "jobs launch") flags="--name -n --workdir --num-nodes --infra --cloud --region --zone --cpus --memory --gpus --instance-type -t --use-spot --no-use-spot --disk-size --disk-tier --image-id --ports --job-recovery --env --env-file --secret --secret-file --num-jobs --pool -p --detach-run -d --async --yes -y --dryrun --help -h" ;;
    "jobs queue") flags="--all -a --skip-finished -s --all-users -u --verbose -v --refresh -r --limit -l --output -o --help -h" ;;
    "jobs logs") flags="--name -n --node --follow --no-follow --controller --refresh -r --help -h" ;;
    "jobs cancel") flags="--name -n --all -a --all-users -u --yes -y --help -h" ;;
    "jobs preempt") flags="--help -h" ;;
    "jobs dashboard") flags="--no-browser --help -h" ;;
    "daemon status") flags="--help -h" ;;
    show-gpus*) flags="--cloud --infra --help -h" ;;
    *) return ;;
  esac
  if [[ $prev == -o || $prev == --output ]]; then
    COMPREPLY=($(compgen -W "table json" -- "$cur"))
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ ${words[1]} == launch || ${words[2]} == apply ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))  # a task or pool YAML, or a command
  fi
}
complete -o default -F _sky_complete sky
)bash";

}  // namespace

int completion_command(const std::vector<std::string>& args) {
  if (asks_for_help(args)) {
    std::cout << kUsage;
    return 0;
  }
  if (args.size() != 1 || args[0] != "bash") {
    std::cerr << "Error: " << (args.empty() ? "name a shell" : "unknown shell '" + args[0] + "'")
              << " (bash is the one supported)\n"
              << kUsage;
    return 2;
  }
  std::cout << kBashScript;
  return 0;
}

}  // namespace skyd::cli
