package org.clmr.data.audio;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.UserError;
import org.clmr.protocol.fuzz.ReaderContract;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the WAV reader ({@link Wav#decode} and {@link Wav#format}) with mutated files of every sample format it
 * reads. Any bytes end in finite audio at a positive rate or in one {@link UserError} line, and the header
 * reader agrees with the decoder on the format.
 */
public class WavFuzzTest {

    /** Files of each format: PCM 8/16/24/32, float 32/64, extensible, stereo, an odd chunk before the data. */
    public static Stream<byte[]> wavFiles() {
        return Stream.of(file(1, 1, 16, 0, 6), file(1, 2, 8, 0, 5), file(1, 1, 24, 0, 3), file(1, 1, 32, 0, 2),
                file(3, 1, 32, 0, 4), file(3, 2, 64, 3, 2), file(0xFFFE, 1, 16, 0, 4));
    }

    /** A WAV file: optional odd-sized LIST chunk, fmt, then {@code frames} frames of a ramp. */
    static byte[] file(int tag, int channels, int bits, int listBytes, int frames) {
        int fmtSize = tag == 0xFFFE ? 40 : 16;
        int list = listBytes == 0 ? 0 : 8 + listBytes + (listBytes & 1);
        int data = frames * channels * bits / 8;
        ByteBuffer b = ByteBuffer.allocate(12 + list + 8 + fmtSize + 8 + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46464952).putInt(b.capacity() - 8).putInt(0x45564157);
        if (listBytes > 0) {
            b.putInt(0x5453494c).putInt(listBytes).put(new byte[listBytes + (listBytes & 1)]);
        }
        b.putInt(0x20746d66).putInt(fmtSize).putShort((short) tag).putShort((short) channels).putInt(22050)
                .putInt(22050 * channels * bits / 8).putShort((short) (channels * bits / 8)).putShort((short) bits);
        if (tag == 0xFFFE) {
            b.putShort((short) 22).putShort((short) bits).putInt(0).putShort((short) 1).put(new byte[14]);
        }
        b.putInt(0x61746164).putInt(data);
        for (int i = 0; i < frames * channels; i++) {
            double v = (i % 7) / 7.0 - 0.5;
            switch (tag == 3 ? -bits : bits) {
                case 8: b.put((byte) (128 + v * 100)); break;
                case 16: b.putShort((short) (v * 30000)); break;
                case 24: b.putShort((short) (v * 30000)).put((byte) (v < 0 ? -1 : 0)); break;
                case 32: b.putInt((int) (v * 2e9)); break;
                case -32: b.putFloat((float) v); break;
                default: b.putDouble(v);
            }
        }
        return b.array();
    }

    @MethodSource("wavFiles")
    @FuzzTest(maxDuration = "20s")
    void anyWavBytes(byte[] input) {
        check(input);
    }

    /** The target. */
    public static void check(byte[] input) {
        Optional<Wav.Audio> audio = ReaderContract.check("Wav.decode of " + input.length + " bytes", input.length,
                ReaderContract.Allocation.BINARY, List.of(UserError.class), () -> Wav.decode(input, "fuzz.wav"));
        audio.ifPresent(a -> {
            assertTrue(a.sampleRate() > 0);
            for (float s : a.samples()) {
                assertTrue(Float.isFinite(s), "sample " + s);
            }
        });
        Path file = null;
        try {
            file = Files.createTempFile("clmr-wav-fuzz", ".wav");
            Files.write(file, input);
            Path f = file;
            Optional<Wav.Format> format = ReaderContract.check("Wav.format of " + input.length + " bytes", input.length,
                    ReaderContract.Allocation.BINARY, List.of(UserError.class), () -> Wav.format(f));
            if (audio.isPresent() && format.isPresent() && input.length <= 4096) {
                assertEquals(audio.get().sampleRate(), format.get().sampleRate());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (file != null) {
                file.toFile().delete();
            }
        }
    }
}
