#!/bin/sh
# The rollout test app (the image's entrypoint, run by busybox sh): like many real apps it starts
# listening a few seconds after it starts (config, caches, a database connection) and exits at once on
# SIGTERM. As PID 1 in its container, sh gets SIGTERM only because it traps it.
trap 'exit 0' TERM INT
port=${PORT:-8080}
mkdir -p /www
echo "${HOSTNAME:-app}" > /www/index.html
echo ready > /www/ready
sleep "${START_DELAY:-3}" &
wait $!
httpd -f -p "$port" -h /www &
echo "listening on $port"
wait $!
