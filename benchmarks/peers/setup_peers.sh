#!/usr/bin/env bash
# Create benchmarks/peers/.venv with the landmark-based peers (MediaPipe, dlib if it installs).
# Idempotent: reuses an existing venv; pip skips what is already installed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PY="${PYTHON:-python3}"

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)

# mediapipe 0.10.21 is the last release that bundles the face-mesh models; it needs numpy<2.
"${PIP[@]}" "mediapipe==0.10.21" "numpy<2" "opencv-contrib-python==4.11.0.86"

# dlib (prebuilt wheel) + the 68-point predictor shipped in face-recognition-models: optional.
if "${PIP[@]}" "dlib-bin==20.0.1.post1" "face-recognition-models==0.3.0" "numpy<2"; then
  echo "peers: mediapipe + dlib installed in $VENV"
else
  echo "peers: dlib unavailable on this machine; mediapipe only" >&2
fi
