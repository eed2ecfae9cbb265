#!/usr/bin/env bash
# The CUDA check of issue #20 (docs/distributed-step.md, "Checking it on a GPU"), in two halves:
#
#   scripts/gpu-check.sh pack DIR
#       on a machine with the JDK 17 and Maven that built clmr: DIR/lib gets the jars the check needs
#       (the worker's, DJL's api, engine and JNI glue, Aeron's Agrona, config; no Akka, no native libtorch,
#       about 12 MiB) and DIR/java a jlink image of the JDK modules they use (about 20 MiB gzipped).
#
#   scripts/gpu-check.sh run DIR OUT [DEVICE PRESET BATCH STEPS]
#       on the GPU machine, which needs no JDK: runs org.clmr.worker.device.GpuCheck (default cuda:0 paper
#       48 30; `cpu tiny 4 8` tries the pack on a CPU) with TF32 off and cuBLAS's deterministic workspace,
#       and writes its JSON lines to OUT/gpu-check.json and the log to OUT/gpu-check.log.
#       DJL must find a libtorch with its JNI library: set PYTORCH_LIBRARY_PATH (libtorch's lib directory),
#       PYTORCH_VERSION and PYTORCH_FLAVOR, and have DJL_CACHE_DIR hold the JNI library built for that
#       libtorch at pytorch/<version>-<flavor>-linux-x86_64/0.33.0-libdjl_torch.so. Building that library
#       from DJL's sources is not part of this script nor of this repository.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

pack() {
  local dir="$1"
  mkdir -p "$dir/lib"
  local cp
  cp="$(mktemp)"
  # package, not install: this branch's snapshot jars stay out of the shared ~/.m2; in one reactor the
  # project's own modules resolve to the jars just packaged under */target
  (cd "$ROOT" && mvn -B -o -q -DskipTests -Dclmr.fuzz.skip=true package dependency:build-classpath \
      -pl gpu-worker -am -Dmdep.includeScope=runtime -Dmdep.outputFile="$cp" >/dev/null)
  tr ':' '\n' <"$cp" | grep -E '/(api-0\.33|pytorch-engine|pytorch-jni|jna-[0-9]|gson|slf4j-api|config-|agrona|jackson-(annotations|core|databind)|protocol-|data-loader-)[^/]*\.jar$' \
    | xargs -I{} cp {} "$dir/lib/"
  cp "$ROOT/gpu-worker/target/gpu-worker-"*.jar "$dir/lib/"
  rm -f "$cp" "$dir/lib/"*-tests.jar
  rm -rf "$dir/java"
  jlink --add-modules java.base,java.logging,java.management,java.naming,java.xml,jdk.unsupported \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$dir/java"
  du -sh "$dir/lib" "$dir/java"
}

run() {
  local dir="$1" out="$2"
  shift 2
  local args=(cuda:0 paper 48 30)
  [ "$#" -eq 0 ] || args=("$@")
  mkdir -p "$out"
  local java="$dir/java/bin/java"
  [ -x "$java" ] || java=java
  export NVIDIA_TF32_OVERRIDE=0 CUBLAS_WORKSPACE_CONFIG=:4096:8 CUDA_DEVICE_ORDER=PCI_BUS_ID
  "$java" --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
    -Dai.djl.offline=true -Xmx8g -cp "$dir/lib/*" org.clmr.worker.device.GpuCheck "${args[@]}" \
    >"$out/gpu-check.json" 2>"$out/gpu-check.log"
}

case "${1:-}" in
  pack) [ "$#" -eq 2 ] || { echo "usage: $0 pack DIR" >&2; exit 2; }; pack "$2" ;;
  run) [ "$#" -eq 3 ] || [ "$#" -eq 7 ] || { echo "usage: $0 run DIR OUT [DEVICE PRESET BATCH STEPS]" >&2; exit 2; }; shift; run "$@" ;;
  *) echo "usage: $0 pack DIR | run DIR OUT [DEVICE PRESET BATCH STEPS]" >&2; exit 2 ;;
esac
