#!/usr/bin/env bash
# Set up .venv and run the main job on the embedded default (the encrypted local
# store, no server): init a project in a scratch folder, store three secrets,
# check and render examples/quickstart/config.yaml with its references resolved.
source "$(dirname "$0")/_venv.sh"
ensure_venv ""
SW="$VENV/bin/secretwire"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/secretwire-demo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp "$ROOT/examples/quickstart/config.yaml" "$WORK/config.yaml"
cd "$WORK"

echo "\$ secretwire init"
"$SW" init
echo
echo "\$ secretwire set ...   (values come from stdin, never from the command line)"
printf 'sk-ant-demo-0123456789' | "$SW" set ai/anthropic/api-key
printf 'p@ss w0rd;demo' | "$SW" set db/password
printf '{"user": "app", "host": "db.internal"}' | "$SW" set db/creds
echo
echo "\$ secretwire list"
"$SW" list
echo
echo "\$ cat config.yaml"
cat config.yaml
echo
echo "\$ secretwire check config.yaml"
"$SW" check config.yaml
echo
echo "\$ secretwire render config.yaml            # masked"
"$SW" render config.yaml
echo
echo "\$ secretwire render --reveal config.yaml   # resolved"
"$SW" render --reveal config.yaml
