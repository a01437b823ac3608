#!/usr/bin/env bash
# Lays out an AgentBox box: the agentbox user, the launcher in <prefix>/launcher, the first device agent
# bundle in slot a of the state dir with slot.json and boot.json, the pinned OTA root metadata, the
# configuration file and the systemd unit. Safe to run again: an installed box keeps its slots, boot state
# and pinned root (updates come over the air); the launcher and the unit are refreshed.
#
#   sudo infra/box/install.sh --bundle device-agent-1.0.0.tar.gz --root root.json
#
# See infra/box/README.md for every option.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: install.sh --bundle FILE|DIR --root FILE [options]

  --bundle FILE|DIR   device agent bundle (.tar.gz from `npm run release -- build`, or an unpacked dir);
                      needed on the first install only
  --root FILE         signed OTA root metadata (root.json) to pin; needed on the first install only
  --prefix DIR        where the launcher goes (default /opt/agentbox)
  --state-dir DIR     slots, boot state and the agent's state (default /var/lib/agentbox)
  --config-dir DIR    agent.env (default /etc/agentbox)
  --unit-dir DIR      where agentbox.service goes (default /etc/systemd/system)
  --user NAME         system user the service runs as (default agentbox)
  --launcher DIR      launcher sources (default: apps/launcher of this checkout, or ./launcher next to this script)
  --no-systemd        do not create the user, chown, or call systemctl (tests, images built offline)
  --start             enable and start the service now (default: enable only)
  -h, --help          this text
USAGE
}

die() {
  echo "install.sh: $*" >&2
  exit 1
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle=""
root=""
prefix="/opt/agentbox"
state_dir="/var/lib/agentbox"
config_dir="/etc/agentbox"
unit_dir="/etc/systemd/system"
user="agentbox"
launcher_src=""
use_systemd=1
start=0

while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="${2:?--bundle needs a value}"; shift 2 ;;
    --root) root="${2:?--root needs a value}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a value}"; shift 2 ;;
    --state-dir) state_dir="${2:?--state-dir needs a value}"; shift 2 ;;
    --config-dir) config_dir="${2:?--config-dir needs a value}"; shift 2 ;;
    --unit-dir) unit_dir="${2:?--unit-dir needs a value}"; shift 2 ;;
    --user) user="${2:?--user needs a value}"; shift 2 ;;
    --launcher) launcher_src="${2:?--launcher needs a value}"; shift 2 ;;
    --no-systemd) use_systemd=0; shift ;;
    --start) start=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

if [ -z "$launcher_src" ]; then
  if [ -f "$here/../../apps/launcher/launcher.mjs" ]; then
    launcher_src="$here/../../apps/launcher"
  else
    launcher_src="$here/launcher"
  fi
fi
[ -f "$launcher_src/launcher.mjs" ] || die "no launcher.mjs in $launcher_src (use --launcher DIR)"
command -v node >/dev/null || die "node (20 or newer) is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node $node_major is too old: the device agent needs Node 20 or newer"
if [ "$use_systemd" -eq 1 ]; then
  [ "$(id -u)" -eq 0 ] || die "run as root (or pass --no-systemd with writable --prefix/--state-dir/--config-dir/--unit-dir)"
  [ -x /usr/bin/node ] || die "the unit runs /usr/bin/node, which does not exist"
fi

umask 077
boot_state_module="$prefix/launcher/boot-state.mjs"

# 1. The service user.
if [ "$use_systemd" -eq 1 ] && ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --home-dir "$state_dir" --no-create-home --shell /usr/sbin/nologin "$user"
  echo "created system user $user"
fi

# 2. Directories.
mkdir -p "$prefix/launcher" "$state_dir/slots" "$state_dir/ota" "$config_dir" "$unit_dir"
chmod 0755 "$prefix" "$prefix/launcher"
chmod 0700 "$state_dir"

# 3. The launcher (replaced as a whole: a half-copied launcher must never be what systemd starts).
staging="$(mktemp -d "$prefix/.launcher.XXXXXX")"
cp "$launcher_src/launcher.mjs" "$launcher_src/boot-state.mjs" "$launcher_src/package.json" "$staging/"
if [ -d "$launcher_src/types" ]; then cp -R "$launcher_src/types" "$staging/"; fi
chmod -R u=rwX,go=rX "$staging"
rm -rf "$prefix/launcher.old"
mv "$prefix/launcher" "$prefix/launcher.old"
mv "$staging" "$prefix/launcher"
rm -rf "$prefix/launcher.old"
if [ -f "$here/README.md" ]; then install -m 0644 "$here/README.md" "$prefix/README.md"; fi
echo "launcher installed in $prefix/launcher"

# 4. The first slot and the boot state, unless the box is laid out already.
if [ -f "$state_dir/boot.json" ]; then
  echo "$state_dir/boot.json exists: keeping the slots and boot state (updates come over the air)"
else
  [ -n "$bundle" ] || die "first install: --bundle is required"
  [ -e "$bundle" ] || die "no bundle at $bundle"
  unpacked="$(mktemp -d "$state_dir/slots/.a.XXXXXX")"
  if [ -d "$bundle" ]; then
    cp -R "$bundle/." "$unpacked/"
  else
    tar -xzf "$bundle" -C "$unpacked" --no-same-owner
  fi
  # A bundle holds package.json + dist/ at its top, or inside a single top-level directory.
  top="$unpacked"
  if [ ! -f "$top/package.json" ]; then
    entries=("$unpacked"/*)
    if [ "${#entries[@]}" -eq 1 ] && [ -f "${entries[0]}/package.json" ]; then top="${entries[0]}"; fi
  fi
  [ -f "$top/package.json" ] || die "the bundle has no package.json"
  [ -f "$top/dist/main.js" ] || die "the bundle has no dist/main.js"
  rm -rf "$state_dir/slots/a"
  mv "$top" "$state_dir/slots/a"
  rm -rf "$unpacked"
  version="$(node -p 'require(process.argv[1]).version' "$state_dir/slots/a/package.json")"
  # slot.json and boot.json are written by the launcher's own module: same format, same atomic writes.
  node --input-type=module - "$boot_state_module" "$state_dir" "$version" <<'NODE'
const [modulePath, stateDir, version] = process.argv.slice(2);
const { bootStatePathOf, slotDirOf, writeBootState, writeSlotInfo } = await import(modulePath);
const bootStatePath = bootStatePathOf(stateDir);
writeSlotInfo(slotDirOf(bootStatePath, 'a'), { version, installedAt: Date.now() });
writeBootState(bootStatePath, { v: 1, active: 'a', pending: null, last: null });
NODE
  echo "slot a holds device agent $version; boot.json written"
fi

# 5. The pinned OTA root: kept once present, because the agent replaces it only with a root that chain-verifies.
if [ -f "$state_dir/ota/root.json" ]; then
  echo "$state_dir/ota/root.json exists: keeping the pinned root"
else
  [ -n "$root" ] || die "first install: --root root.json is required (the trust anchor of over-the-air updates)"
  node -e '
    const root = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (typeof root !== "object" || root === null || typeof root.signed !== "object" || !Array.isArray(root.signatures))
      throw new Error("not a signed root metadata file ({signed, signatures})");
  ' "$root" || die "$root is not a signed root.json"
  tmp_root="$(mktemp "$state_dir/ota/.root.XXXXXX")"
  cp "$root" "$tmp_root"
  chmod 0600 "$tmp_root"
  mv "$tmp_root" "$state_dir/ota/root.json"
  echo "OTA root pinned in $state_dir/ota/root.json"
fi

# 6. Configuration.
if [ ! -f "$config_dir/agent.env" ]; then
  install -m 0600 "$here/agent.env.example" "$config_dir/agent.env"
  echo "wrote $config_dir/agent.env from the example: set AGENTBOX_FLEET_URL and AGENTBOX_CLAIM_TOKEN"
fi

# 7. The unit, with this install's paths.
sed -e "s#/opt/agentbox#$prefix#g" \
  -e "s#/var/lib/agentbox#$state_dir#g" \
  -e "s#/etc/agentbox#$config_dir#g" \
  -e "s#^User=agentbox\$#User=$user#" \
  -e "s#^Group=agentbox\$#Group=$user#" \
  "$here/agentbox.service" >"$unit_dir/.agentbox.service.tmp"
if [ "$state_dir" != "/var/lib/agentbox" ]; then
  # ProtectSystem=strict leaves only StateDirectory= (/var/lib/agentbox) writable; open the chosen one too.
  sed -i "s#^StateDirectoryMode=0700\$#&\nReadWritePaths=$state_dir#" "$unit_dir/.agentbox.service.tmp"
fi
chmod 0644 "$unit_dir/.agentbox.service.tmp"
mv "$unit_dir/.agentbox.service.tmp" "$unit_dir/agentbox.service"
echo "unit installed in $unit_dir/agentbox.service"

if [ "$use_systemd" -eq 1 ]; then
  chown -R "$user:$user" "$state_dir"
  # The unit before slots ran the agent directly; two services on one state dir would fight.
  if [ -f "$unit_dir/agentbox-device-agent.service" ]; then
    systemctl disable --now agentbox-device-agent.service || true
    rm -f "$unit_dir/agentbox-device-agent.service"
  fi
  systemctl daemon-reload
  if [ "$start" -eq 1 ]; then
    systemctl enable --now agentbox.service
  else
    systemctl enable agentbox.service
    echo "enabled; start with: systemctl start agentbox"
  fi
fi
echo "done"
