// The start method of svc:/system/reddwarf: a POSIX sh script that turns the application/* properties
// into `reddwarf up|agent` flags and execs it. The manifest sets duration=child, so svc.startd
// watches the method process itself: it must exec reddwarf in the foreground, never background it.
import { DEFAULT_MODE, MODES, smfProperties, type Mode, type SmfProperty } from './properties.ts';

/** The sh assignments that say which properties `mode` turns into flags, and how. */
function modeCase(mode: Mode, properties: SmfProperty[]): string[] {
  const names = (keep: (p: SmfProperty) => boolean) => `'${properties.filter(keep).map((p) => p.name).join(' ')}'`;
  return [
    `${mode})`,
    `\tvalues=${names((p) => p.takesValue && p.env === undefined && p.modes[mode] !== undefined)}`,
    `\tswitches=${names((p) => !p.takesValue && p.modes[mode] !== undefined)}`,
    `\trequired=${names((p) => p.modes[mode]?.required === true)}`,
    `\tunused=${names((p) => p.modes[mode] === undefined)}`,
    '\t;;',
  ];
}

/**
 * The method script, to install at the manifest's start method path (mode 0555).
 * @example writeFileSync('/opt/reddwarf/lib/svc/method/reddwarf', methodScript(), { mode: 0o555 })
 */
export function methodScript(): string {
  const properties = smfProperties();
  const modes = Object.keys(MODES) as Mode[];
  return `#!/bin/sh
# SMF start method of svc:/system/reddwarf, written by \`reddwarf smf method\` (regenerate, do not edit).
# application/<name> is the flag --<name, dashes for underscores>; an empty property means the flag's default.

if [ -r /lib/svc/share/smf_include.sh ]; then
	. /lib/svc/share/smf_include.sh
fi
: "\${SMF_EXIT_ERR_FATAL:=95}" "\${SMF_EXIT_ERR_CONFIG:=96}" "\${SMF_EXIT_ERR_NOSMF:=99}"

if [ "$1" != start ]; then
	echo "usage: $0 start" >&2
	exit "$SMF_EXIT_ERR_FATAL"
fi
if [ -z "$SMF_FMRI" ]; then
	echo "reddwarf: SMF_FMRI is not set: run this method through svcadm" >&2
	exit "$SMF_EXIT_ERR_NOSMF"
fi

# prop NAME: the value of application/NAME, empty when unset. svcprop(1) prints an empty string as ""
# and puts a backslash before shell metacharacters: undo both, so no value is ever evaluated.
prop() {
	v=$(svcprop -p "application/$1" "$SMF_FMRI" 2>/dev/null) || return 0
	[ "$v" = '""' ] || printf '%s\\n' "$v" | sed 's/\\\\\\(.\\)/\\1/g'
}

bad() {
	echo "reddwarf: application/$1 $2" >&2
	exit "$SMF_EXIT_ERR_CONFIG"
}

# flag NAME: the flag of application/NAME without its leading dashes (data_dir: data-dir).
flag() {
	echo "$1" | tr _ -
}

mode=$(prop mode)
mode=\${mode:-${DEFAULT_MODE}}
case $mode in
${modes.flatMap((m) => modeCase(m, properties)).join('\n')}
*)
	bad mode "must be ${modes.join(' or ')} (got '$mode')"
	;;
esac

for p in $required; do
	[ -n "$(prop "$p")" ] || bad "$p" "must be set in mode $mode"
done
for p in $unused; do
	[ -z "$(prop "$p")" ] || echo "reddwarf: application/$p is not used in mode $mode" >&2
done

# Loops in this shell, not functions, so that they can extend "$@": one word per value, spaces kept.
set --
for p in $values; do
	v=$(prop "$p")
	[ -z "$v" ] || set -- "$@" "--$(flag "$p")=$v"
done
for p in $switches; do
	case $(prop "$p") in
	'') ;;
	true) set -- "$@" "--$(flag "$p")" ;;
	false) set -- "$@" "--no-$(flag "$p")" ;;
	*) bad "$p" 'must be true, false or empty' ;;
	esac
done

# Secrets go through the environment: arguments show in ps(1) to every local user.
${properties
  .filter((p) => p.env !== undefined)
  .map((p) => `v=$(prop ${p.name})\n[ -z "$v" ] || export ${p.env}="$v"`)
  .join('\n')}

exec reddwarf "$mode" "$@"
`;
}
