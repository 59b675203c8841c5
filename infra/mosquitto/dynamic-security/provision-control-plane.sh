#!/bin/sh
# Gives the control plane its account on a Mosquitto running the dynamic security plugin: a role with
# read/write on every emofleet topic and on the plugin's own control topics (so it can create and delete device
# clients), and a client with that role. Run once, against the running broker, as the dynamic security admin
# created by `mosquitto_ctrl dynsec init` (see docs/security.md). Idempotent: existing objects are kept.
#
#   MQTT_HOST, MQTT_PORT            the broker (default 127.0.0.1:1883)
#   DYNSEC_ADMIN_USER/_PASSWORD     the dynamic security admin
#   CONTROL_PLANE_USER/_PASSWORD    the account the control plane will use (in its MQTT_URL)
#   TOPIC_PREFIX                    MQTT_TOPIC_PREFIX of the control plane (default emofleet/v1)
set -eu
: "${DYNSEC_ADMIN_USER:?}" "${DYNSEC_ADMIN_PASSWORD:?}" "${CONTROL_PLANE_PASSWORD:?}"
host=${MQTT_HOST:-127.0.0.1}
port=${MQTT_PORT:-1883}
user=${CONTROL_PLANE_USER:-emofleet-control-plane}
prefix=${TOPIC_PREFIX:-emofleet/v1}
role=emofleet-control-plane

ctrl() {
  # "already exists" answers keep the script idempotent; any other failure stops it.
  out=$(mosquitto_ctrl -h "$host" -p "$port" -u "$DYNSEC_ADMIN_USER" -P "$DYNSEC_ADMIN_PASSWORD" dynsec "$@" 2>&1) || {
    case "$out" in *"already exists"*|*"already in role"*|*"ACL with this topic already exists"*) ;; *) echo "$out" >&2; exit 1 ;; esac
  }
}

ctrl createRole "$role"
for topic in "$prefix/#" '$CONTROL/dynamic-security/#'; do
  ctrl addRoleACL "$role" publishClientSend "$topic" allow 10
  ctrl addRoleACL "$role" publishClientReceive "$topic" allow 10
  ctrl addRoleACL "$role" subscribePattern "$topic" allow 10
done
# MQTT 5 shared subscriptions of the control plane replicas.
ctrl addRoleACL "$role" subscribePattern "\$share/+/$prefix/#" allow 10
ctrl createClient "$user" -p "$CONTROL_PLANE_PASSWORD"
ctrl addClientRole "$user" "$role" 10
echo "control plane account '$user' can manage devices under '$prefix/' on $host:$port"
