#!/usr/bin/env bash
# Installs what the local stack and the tests need into .cache/ (git-ignored).
# Idempotent: a second run only checks. Versions are pinned here and nowhere else.
set -euo pipefail
cd "$(dirname "$0")/.."

DYNAMODB_LOCAL_NPM="amplify-dynamodb-simulator@2.9.30"   # bundles DynamoDB Local 1.25.x
VERSITYGW_MODULE="github.com/versity/versitygw/cmd/versitygw@v1.8.0"
RIE_MODULE="github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
LOCAL_KMS_MODULE="github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6"
# SeaweedFS: the storage suite's second S3 server (shared/testenv.S3Backends).
SEAWEEDFS_MODULE="github.com/seaweedfs/seaweedfs@v0.0.0-20261109003541-7506e5f91cd6"
# Node tools (aws-local-stepfunctions, asl-validator, the MCP Inspector) are pinned by tools/node/package-lock.json.

CACHE="$PWD/.cache"
mkdir -p "$CACHE/bin"

need() { # need CMD "why" "how to install"
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "error: '$1' is required ($2) but was not found on PATH." >&2
    echo "       Install it: $3" >&2
    exit 1
  fi
}
need go   "builds the functions and runs the tests" "Go 1.26+ from your OS packages or the official tarball"
need java "runs DynamoDB Local"                     "a Java 17+ runtime, e.g. 'apt-get install openjdk-17-jre-headless'"
need node "runs the Step Functions interpreter"    "Node.js 20+, e.g. 'apt-get install nodejs npm'"
need npm  "fetches DynamoDB Local and the Node tools" "npm (ships with Node.js)"

go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "${go_minor:-0}" -lt 26 ]; then
  echo "error: Go 1.26 or newer is required (found $(go env GOVERSION))." >&2
  exit 1
fi

# The steps that wait on the network (npm, apt-get) run in the background
# while the Go builds, which need the CPU, run in the foreground: on a fresh
# machine that overlaps a few minutes. Each background step writes its own
# log under .cache/ and its failure fails the set-up.
node_steps() {
  # DynamoDB Local: the jar comes inside an npm package; `npm pack` fetches it without
  # installing the package's dependencies.
  ddb="$CACHE/dynamodb-local"
  if [ ! -f "$ddb/$DYNAMODB_LOCAL_NPM.ok" ]; then
    echo "setup: fetching DynamoDB Local ($DYNAMODB_LOCAL_NPM)..."
    rm -rf "$ddb" && mkdir -p "$ddb"
    tgz=$(cd "$ddb" && npm pack --silent "$DYNAMODB_LOCAL_NPM" | tail -n 1)
    tar -xzf "$ddb/$tgz" -C "$ddb"
    rm -f "$ddb/$tgz"
    test -f "$ddb/package/emulator/DynamoDBLocal.jar"
    touch "$ddb/$DYNAMODB_LOCAL_NPM.ok"
  fi

  # Node tools, installed exactly as locked (npm ci) into .cache/node; reinstalled
  # when the lock file changes.
  node_dir="$CACHE/node"
  lock_sum=$(sha256sum tools/node/package-lock.json | cut -c1-16)
  if [ ! -f "$node_dir/lock-$lock_sum.ok" ]; then
    echo "setup: installing the Node tools (aws-local-stepfunctions, asl-validator, MCP Inspector)..."
    rm -rf "$node_dir" && mkdir -p "$node_dir"
    cp tools/node/package.json tools/node/package-lock.json tools/node/.npmrc "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$node_dir/lock-$lock_sum.ok"
  fi
}

media_tools() {
  # Media tools of the provider "local" (Debian packages): espeak-ng speaks,
  # pocketsphinx with its en-us model transcribes, ffmpeg converts audio. The
  # provider finds them on PATH and answers 503 naming the package of a missing
  # one. apt-get installs what is missing when this runs as root (or with
  # password-less sudo); otherwise this says how, and the rest works without them.
  media_missing=()
  command -v espeak-ng >/dev/null 2>&1 || media_missing+=(espeak-ng)
  command -v ffmpeg >/dev/null 2>&1 || media_missing+=(ffmpeg)
  command -v pocketsphinx_continuous >/dev/null 2>&1 || command -v pocketsphinx >/dev/null 2>&1 || media_missing+=(pocketsphinx)
  [ -f /usr/share/pocketsphinx/model/en-us/en-us.lm.bin ] || media_missing+=(pocketsphinx-en-us)
  # exiftool is the independent reader that checks the provenance XMP embedded
  # in stored media.
  command -v exiftool >/dev/null 2>&1 || media_missing+=(libimage-exiftool-perl)
  # Chromium (headless) drives the review console's browser tests; the tests
  # fail in CI without it and skip elsewhere.
  command -v chromium >/dev/null 2>&1 || media_missing+=(chromium)
  if [ ${#media_missing[@]} -gt 0 ]; then
    as_root=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root="sudo -n"
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$as_root" ]; }; then
      echo "setup: installing the local provider's media tools (${media_missing[*]})..."
      apt_log="$CACHE/apt-get.log"
      if ! { $as_root apt-get update -qq &&
        $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${media_missing[@]}"; } >"$apt_log" 2>&1; then
        echo "setup: warning: apt-get could not install ${media_missing[*]} (log: $apt_log):" >&2
        tail -n 5 "$apt_log" >&2
      fi
    else
      echo "setup: warning: the local provider's media tools are missing: ${media_missing[*]}." >&2
      echo "       Install them as root: apt-get install ${media_missing[*]} (Debian/Ubuntu);" >&2
      echo "       until then the local provider answers 503 for speech (images need nothing)." >&2
      echo "       (chromium only runs the console's browser tests.)" >&2
    fi
  fi

}

bg_log="$CACHE/setup-node.log"; media_log="$CACHE/setup-media.log"
node_steps >"$bg_log" 2>&1 &
node_pid=$!
media_tools >"$media_log" 2>&1 &
media_pid=$!
# A failed Go build stops the set-up; the background steps stop with it.
trap 'kill "$node_pid" "$media_pid" 2>/dev/null || true' EXIT

# versitygw: an S3 server that enforces SigV4, built from its Go module.
vgw_stamp="$CACHE/bin/versitygw.$(echo "$VERSITYGW_MODULE" | sed 's/.*@//').ok"
if [ ! -x "$CACHE/bin/versitygw" ] || [ ! -f "$vgw_stamp" ]; then
  echo "setup: building versitygw ($VERSITYGW_MODULE), about a minute the first time..."
  GOBIN="$CACHE/bin" go install "$VERSITYGW_MODULE"
  touch "$vgw_stamp"
fi

# aws-lambda-rie: runs each function's bootstrap behind the Lambda runtime API.
rie_stamp="$CACHE/bin/aws-lambda-rie.$(echo "$RIE_MODULE" | sed 's/.*@//').ok"
if [ ! -x "$CACHE/bin/aws-lambda-rie" ] || [ ! -f "$rie_stamp" ]; then
  echo "setup: building aws-lambda-rie..."
  rm -f "$CACHE"/bin/aws-lambda-rie.*.ok
  GOBIN="$CACHE/bin" go install "$RIE_MODULE"
  touch "$rie_stamp"
fi

# local-kms: KMS Encrypt/Decrypt for workspace credentials, built from its Go module.
kms_stamp="$CACHE/bin/local-kms.$(echo "$LOCAL_KMS_MODULE" | sed 's/.*@//').ok"
if [ ! -x "$CACHE/bin/local-kms" ] || [ ! -f "$kms_stamp" ]; then
  echo "setup: building local-kms..."
  rm -f "$CACHE"/bin/local-kms.*.ok
  GOBIN="$CACHE/bin" go install "$LOCAL_KMS_MODULE"
  touch "$kms_stamp"
fi

# weed (SeaweedFS): its go.mod has replace directives, which `go install
# module@version` refuses, so it is built inside the downloaded module, as its
# own main module. Several minutes on two cores the first time.
weed_stamp="$CACHE/bin/weed.$(echo "$SEAWEEDFS_MODULE" | sed 's/.*@//').ok"
if [ ! -x "$CACHE/bin/weed" ] || [ ! -f "$weed_stamp" ]; then
  echo "setup: building SeaweedFS ($SEAWEEDFS_MODULE), several minutes the first time..."
  rm -f "$CACHE"/bin/weed.*.ok
  weed_src=$(go mod download -json "$SEAWEEDFS_MODULE" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  test -d "$weed_src/weed"
  (cd "$weed_src" && go build -o "$CACHE/bin/weed" ./weed)
  touch "$weed_stamp"
fi

# Wait for the background steps; show what they said.
wait_step() { # wait_step PID LOG NAME
  local status=0
  wait "$1" || status=$?
  cat "$2"
  if [ "$status" -ne 0 ]; then
    echo "error: setup step '$3' failed (exit $status); its output is above and in $2." >&2
    exit "$status"
  fi
}
wait_step "$node_pid" "$bg_log" "DynamoDB Local and Node tools"
wait_step "$media_pid" "$media_log" "media tools"

echo "setup: ok (DynamoDB Local, versitygw, aws-lambda-rie, local-kms, Node tools in .cache/)"
