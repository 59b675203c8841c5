#!/bin/sh
# Writes /mosquitto/config/passwords from the environment before the broker starts (docker-compose):
#   MQTT_CONTROL_PLANE_PASSWORD  password of the control plane's `emofleet-control-plane` account
#   MQTT_DEVICE_ACCOUNTS         space-separated `deviceId:secret` pairs for statically provisioned devices
# This is MQTT_DEVICE_CREDENTIALS=unmanaged: devices enrolled through the control plane must be added here too.
# With the dynamic security plugin (infra/mosquitto/dynamic-security/) the control plane manages device accounts
# itself; see docs/security.md.
set -eu
target=/mosquitto/config/passwords
: "${MQTT_CONTROL_PLANE_PASSWORD:?set MQTT_CONTROL_PLANE_PASSWORD}"
umask 077
: > "$target"
mosquitto_passwd -b "$target" emofleet-control-plane "$MQTT_CONTROL_PLANE_PASSWORD"
for account in ${MQTT_DEVICE_ACCOUNTS:-}; do
  mosquitto_passwd -b "$target" "${account%%:*}" "${account#*:}"
done
chown mosquitto:mosquitto "$target" 2>/dev/null || true
exec mosquitto -c /mosquitto/config/mosquitto.conf
