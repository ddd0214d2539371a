# Bash completion of treadlab (config/treadlab.bash-completion): commands, protocol
# names, sites, postures and phases, each compared with what the code accepts. Skips
# (77) without the bash-completion package, whose helpers the script uses.
source "$(dirname "$0")/lib.sh"

BC=/usr/share/bash-completion/bash_completion
if [ ! -r "$BC" ]; then
	say "SKIP: bash-completion is not installed"
	exit 77
fi
SCRIPT=${TL_COMPLETION:-$TL_SOURCE_DIR/config/treadlab.bash-completion}

# completions WORD...: what the script offers for the last word (empty: a new word),
# with the build's treadlab as the command, one per line, sorted.
completions() {
	bash -c 'source "$1"; source "$2"; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_treadlab treadlab "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$BC" "$SCRIPT" "$T" "$@" | sed '/^$/d' | sort
}
lines() { printf '%s\n' "$@" | sort; }
same() { # same DESCRIPTION EXPECTED ACTUAL
	[ "$2" = "$3" ] && return 0
	say "     expected: $(tr '\n' ' ' <<<"$2")"
	say "     got:      $(tr '\n' ' ' <<<"$3")"
	return 1
}

# The commands: those treadlab's own table lists (src/cli/main.c), and --help, --version.
cmds=$(sed -n 's/^\t{"\([a-z-]*\)", cmd_.*/\1/p' "$TL_SOURCE_DIR/src/cli/main.c")
check "the command table was read ($(wc -w <<<"$cmds") commands)" test "$(wc -w <<<"$cmds")" -ge 15
check "every command, --help and --version" same commands \
	"$(lines $cmds --help --version)" "$(completions "")"
check "a prefix: 'pr' gives protocol, protocols and pressure" same prefix \
	"$(lines pressure protocol protocols)" "$(completions pr)"

protos=$(cd "$TL_SOURCE_DIR/protocols" && ls *.protocol | sed 's/\.protocol$//')
check "start --protocol: every shipped protocol" same protocols \
	"$(lines $protos)" "$(completions start --protocol "")"
check "start --protocol gard: gardner-skinner" same gard gardner-skinner \
	"$(completions start --protocol gard)"
check "dry-run NAME: the protocols" same dry-run "$(lines $protos)" "$(completions dry-run "")"
check "protocol show NAME: the protocols" same show "$(lines $protos)" \
	"$(completions protocol show "")"
check "protocol: show and check" same sub "$(lines check show)" "$(completions protocol "")"

# Sites: the table the store and the daemon check them against (src/common/record_findings.c).
sites=$(sed -n '/tl_pressure_sites\[\] = {/,/};/p' "$TL_SOURCE_DIR/src/common/record_findings.c" |
	grep -o '"[a-z-]*"' | tr -d '"')
check "the site table was read ($(wc -w <<<"$sites") sites)" test "$(wc -w <<<"$sites")" -eq 8
check "pressure --site: every site" same sites "$(lines $sites)" \
	"$(completions pressure 1 --site "")"
check "pressure --site pt-: the two posterior tibial sites" same pt "$(lines pt-left pt-right)" \
	"$(completions pressure 1 --site pt-)"
check "pressure --phase: rest and post" same phase "$(lines post rest)" \
	"$(completions pressure 1 --phase "")"

# Postures: those the daemon accepts (its error message in src/daemon/api_cmd.c lists them).
postures=$(grep -o "'posture' must be one of [a-z_, ]*" "$TL_SOURCE_DIR/src/daemon/api_cmd.c" |
	sed "s/.*one of //" | tr -d ',')
check "the daemon's postures were read ($postures)" test "$(wc -w <<<"$postures")" -eq 3
check "relief --posture: every posture" same postures "$(lines $postures)" \
	"$(completions relief --posture "")"
check "relief options" same relief-opts \
	"$(lines --cacert --json --operator --posture --socket --token-file --url)" \
	"$(completions relief --)"
check "user: its subcommands" same user "$(lines add disable enable list passwd)" \
	"$(completions user "")"
check "user add NAME --role: the roles the store accepts" same roles \
	"$(lines admin physician technician)" "$(completions user add amy --role "")"
check "user list options" same user-list "$(lines --cacert --json --socket --token-file --url)" \
	"$(completions user list --)"
check "cuff: its subcommands" same cuff "$(lines --json end inflate mark series site vent watch)" \
	"$(completions cuff "")"
check "cuff series TEST: the phases" same cuff-phase "$(lines post rest)" \
	"$(completions cuff series 1 "")"
check "cuff site: every site" same cuff-site "$(lines $sites)" "$(completions cuff site "")"
check "cuff mark options" same cuff-mark \
	"$(lines --cacert --json --operator --socket --token-file --url)" "$(completions cuff mark --)"
check "an offline command is not offered the socket" same dry-opts \
	"$(lines --json --max-at --onset-at)" "$(completions dry-run gardner-skinner --)"
finish
