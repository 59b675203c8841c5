#!/usr/bin/env bash
# Installs the emofleet agent on a Jetson (or any Debian/Ubuntu arm64/x86-64 box) as a systemd service.
# DRAFT, UNVERIFIED ON A REAL JETSON: written against JetPack 4.6 (L4T R32.6/R32.7, Ubuntu 18.04); test on a
# bench device before using it in the field.
#
#   sudo infra/jetson/install.sh --bundle emofleet-agent.tar.gz [--node-dir /path/to/node16] \
#        [--server https://fleet.example.com --token emfe_...] [--source v4l2:/dev/video0]
#
# The bundle is the archive tools/package-jetson.mjs writes (agent/, node_modules/ with the arm64 detector addon,
# node/ = pinned Node 16.20.2 arm64, install/); --node-dir optionally replaces its Node.js with another >= 16
# (JetPack 4.6's Ubuntu 18.04 cannot run the official Node 18+ builds). See infra/jetson/README.md.
set -euo pipefail

PREFIX=/opt/emofleet-agent
SERVICE_USER=emofleet
STATE_DIR=/var/lib/emofleet-agent
BUNDLE=""
NODE_DIR=""
SERVER=""
TOKEN=""
SOURCE=""

die() { echo "install.sh: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --bundle) BUNDLE="$2"; shift 2 ;;
    --node-dir) NODE_DIR="$2"; shift 2 ;;
    --server) SERVER="$2"; shift 2 ;;
    --token) TOKEN="$2"; shift 2 ;;
    --source) SOURCE="$2"; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done

[[ $EUID -eq 0 ]] || die "run as root (sudo)"
[[ -n "$BUNDLE" && -f "$BUNDLE" ]] || die "--bundle <agent tarball> is required"
[[ -z "$TOKEN" || -n "$SERVER" ]] || die "--token needs --server"

# --- What this device is ---------------------------------------------------------------------------------------
if [[ -f /etc/nv_tegra_release ]]; then
  # e.g. "# R32 (release), REVISION: 7.1, GCID: ..., BOARD: t210ref, EABI: aarch64, DATE: ..."
  L4T=$(sed -n 's/^# R\([0-9]*\) (release), REVISION: \([0-9.]*\).*/\1.\2/p' /etc/nv_tegra_release)
  echo "L4T ${L4T:-unknown} (/etc/nv_tegra_release)"
  case "$L4T" in
    32.6*|32.7*) echo "JetPack 4.6.x" ;;
    32.*) echo "warning: L4T $L4T is older than JetPack 4.6; the agent is tested for 4.6+" >&2 ;;
    *) echo "L4T $L4T" ;;
  esac
  TENSORRT=$(dpkg-query -W -f='${Version}' tensorrt 2>/dev/null || dpkg-query -W -f='${Version}' libnvinfer8 2>/dev/null || true)
  CUDA=$(dpkg-query -W -f='${Version}' cuda-toolkit-10-2 2>/dev/null || ls -d /usr/local/cuda-* 2>/dev/null | head -1 || true)
  echo "TensorRT: ${TENSORRT:-not installed}  CUDA: ${CUDA:-not installed}"
else
  echo "not a Jetson (no /etc/nv_tegra_release): the CPU detector backend only"
fi
command -v ffmpeg >/dev/null || echo "warning: ffmpeg not found (apt-get install ffmpeg): video, RTSP, V4L2 and image sources need it" >&2
case "$SOURCE" in
  csi:*|gst-v4l2:*)
    command -v gst-launch-1.0 >/dev/null || echo "warning: gst-launch-1.0 not found: --source $SOURCE needs GStreamer (part of JetPack; apt-get install gstreamer1.0-tools)" >&2
    [[ "$SOURCE" != csi:* ]] || systemctl is-active --quiet nvargus-daemon || echo "warning: nvargus-daemon is not running: CSI cameras need it" >&2
    ;;
esac

# --- Node.js ----------------------------------------------------------------------------------------------------
mkdir -p "$PREFIX"
# tools/package-jetson.mjs archives carry agent/, node_modules/ (with the prebuilt arm64 detector addon), node/
# (the pinned Node 16.20.2 arm64) and install/; --node-dir still replaces node/ with another Node >= 16.
tar -xzf "$BUNDLE" -C "$PREFIX" --no-same-owner
chown -R root:root "$PREFIX"
if [[ -n "$NODE_DIR" ]]; then
  rm -rf "$PREFIX/node" && cp -a "$NODE_DIR" "$PREFIX/node"
fi
[[ -x "$PREFIX/node/bin/node" ]] || die "no Node.js in $PREFIX/node (the bundle has none: pass --node-dir)"
NODE_MAJOR=$("$PREFIX/node/bin/node" -p 'process.versions.node.split(".")[0]')
[[ "$NODE_MAJOR" -ge 16 ]] || die "Node.js >= 16 needed, found $NODE_MAJOR"

# The prebuilt addon is checked at build time against glibc 2.27 / GCC 8's libstdc++; this proves it loads here.
if [[ -d "$PREFIX/node_modules/@emofleet/detector" ]]; then
  (cd "$PREFIX/agent" && "$PREFIX/node/bin/node" -e \
    "console.log('detector backends: ' + require('@emofleet/detector').availableBackends().join(','))") ||
    die "the native detector does not load with $PREFIX/node/bin/node (see the error above)"
fi

# --- User, files, service ---------------------------------------------------------------------------------------
id -u "$SERVICE_USER" >/dev/null 2>&1 || useradd --system --home-dir "$STATE_DIR" --shell /usr/sbin/nologin --groups video "$SERVICE_USER"
install -d -m 0700 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE_DIR"
install -d -m 0755 /etc/emofleet-agent
if [[ -n "$SOURCE" ]]; then
  echo "EMOFLEET_SOURCE=$SOURCE" > /etc/emofleet-agent/agent.env
fi
install -m 0644 "$(dirname "$0")/emofleet-agent.service" /etc/systemd/system/emofleet-agent.service

# --- Enrolment (stores the identity with mode 0600 in the state directory) -------------------------------------------
if [[ -n "$TOKEN" ]]; then
  sudo -u "$SERVICE_USER" env EMOFLEET_DATA_DIR="$STATE_DIR" \
    "$PREFIX/node/bin/node" "$PREFIX/agent/bin/emofleet-agent.js" enroll --server "$SERVER" --token "$TOKEN"
fi

systemctl daemon-reload
systemctl enable emofleet-agent.service
if [[ -f "$STATE_DIR/enrolment.json" ]]; then
  systemctl restart emofleet-agent.service
  echo "emofleet-agent started: journalctl -u emofleet-agent -f"
else
  echo "installed but not enrolled: run install.sh again with --server and --token, then it starts"
fi
