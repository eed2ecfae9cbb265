#!/usr/bin/env bash
# Renders the SoX reference fixtures of org.clmr.data.augment's tests ONCE; the outputs are committed and the
# tests compare against them by spectral measures (peak frequencies, decay times), never sample by sample.
# Needs sox (Debian's 14.4.2) and /usr/bin/python3 (standard library only). Run from anywhere:
#   data-loader/src/test/scripts/make_sox_fixtures.sh
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/resources/org/clmr/data/augment"
mkdir -p "$out"
rate=22050

# A C major triad (C4 E4 G4), 1 s, mono 16-bit, each note at 0.25.
sox -D -n -r $rate -c 1 -b 16 "$out/chord.wav" synth 1.0 sine 261.63 sine mix 329.63 sine mix 392.00 vol 0.75
# SoX pitch = WSOLA tempo + rate; 32-bit float output so nothing is dithered.
sox -D "$out/chord.wav" -e floating-point -b 32 "$out/chord_pitch_up3_sox.wav" pitch 300
sox -D "$out/chord.wav" -e floating-point -b 32 "$out/chord_pitch_down5_sox.wav" pitch -500

# Plucked strings (an A major chord, notes starting together), 1.5 s, through pitch and through reverb
# (dry + wet, stereo depth 0); 16-bit without dither to keep the files small.
sox -D -R -n -r $rate -c 1 -b 16 "$out/pluck.wav" synth 1.5 pluck 220 pluck mix 277 pluck mix 330 pluck mix 440 vol 0.8
sox -D "$out/pluck.wav" "$out/pluck_pitch_up3_sox.wav" pitch 300
sox -D "$out/pluck.wav" "$out/pluck_pitch_down5_sox.wav" pitch -500
sox -D "$out/pluck.wav" "$out/pluck_reverb_60_80_70_sox.wav" reverb 60 80 70 0

# A unit impulse followed by 1 s of silence, and SoX's wet-only reverb of it with stereo depth 0 (one
# channel, as clmr's reverb): reverberance, HF damping, room scale.
/usr/bin/python3 - "$out/impulse.wav" $rate <<'PY'
import struct, sys, wave
path, rate = sys.argv[1], int(sys.argv[2])
n = rate
with wave.open(path, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
    w.writeframes(struct.pack("<h", 32767) + b"\0\0" * (n - 1))
PY
for p in "50 50 100" "0 50 100" "100 50 100" "50 50 20"; do
  set -- $p
  sox -D "$out/impulse.wav" -e floating-point -b 32 "$out/impulse_reverb_${1}_${2}_${3}_sox.wav" reverb -w $1 $2 $3 0
done
ls -l "$out"
