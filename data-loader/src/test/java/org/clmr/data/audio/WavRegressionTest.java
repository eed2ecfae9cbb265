package org.clmr.data.audio;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Regression cases of the WAV reader (issue #23): each ended in a hang or an unchecked exception before. */
class WavRegressionTest {

    private static String refusal(byte[] bytes) {
        String m = assertThrows(UserError.class, () -> Wav.decode(bytes, "x.wav")).getMessage();
        assertFalse(m.contains("\n"), m);
        return m;
    }

    private static ByteBuffer riff(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN).putInt(0x46464952).putInt(capacity - 8)
                .putInt(0x45564157);
    }

    @Test
    @Timeout(10)
    void shouldNotLoopOnAChunkWhoseSizeWrapsBackOntoItself() {
        // a chunk of size 0xFFFFFFF8 moved the int position by -8 + 8: the same chunk again, forever
        byte[] b = riff(20).putInt(0x4b4e554a).putInt(0xFFFFFFF8).array();
        assertTrue(refusal(b).contains("no data chunk"));
    }

    @Test
    void shouldRefuseAChunkSizeThatJumpsPastTheEnd() {
        // a size above 2 GiB turned the position negative: IndexOutOfBoundsException
        byte[] b = riff(28).putInt(0x4b4e554a).putInt(0x80000000).putInt(0x61746164).putInt(0).array();
        assertTrue(refusal(b).contains("no data chunk"));
    }

    @Test
    void shouldRefuseAFmtChunkCutShortByTheEndOfTheFile() {
        byte[] b = riff(24).putInt(0x20746d66).putInt(16).putShort((short) 1).putShort((short) 1).array();
        assertTrue(refusal(b).contains("fmt chunk"));
    }

    @Test
    void shouldRefuseARateThatIsNotPositiveAndBitsThatAreNotWholeBytes() {
        byte[] zeroRate = WavFuzzTest.file(1, 1, 16, 0, 2);
        ByteBuffer.wrap(zeroRate).order(ByteOrder.LITTLE_ENDIAN).putInt(24, 0);
        assertTrue(refusal(zeroRate).contains("sample rate 0"));
        byte[] twelveBits = WavFuzzTest.file(1, 1, 16, 0, 2);
        ByteBuffer.wrap(twelveBits).order(ByteOrder.LITTLE_ENDIAN).putShort(34, (short) 12);
        refusal(twelveBits);
    }

    @Test
    void shouldRefuseASecondFmtChunk() {
        // the decoder followed the last fmt chunk and Wav.format the first: they disagreed on the rate (a fuzz finding)
        byte[] one = WavFuzzTest.file(1, 1, 16, 0, 2);
        ByteBuffer b = ByteBuffer.allocate(one.length + 24).order(ByteOrder.LITTLE_ENDIAN);
        b.put(one, 0, 36).put(one, 12, 24).put(one, 36, one.length - 36).putInt(4, b.capacity() - 8);
        assertTrue(refusal(b.array()).contains("two fmt chunks"));
    }

    @Test
    void shouldRefuseNonFiniteFloatSamples() {
        byte[] b = WavFuzzTest.file(3, 1, 32, 0, 4);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(b.length - 4, Float.NaN);
        assertTrue(refusal(b).contains("sample 3 is NaN"));
        assertEquals(4, Wav.decode(WavFuzzTest.file(3, 1, 32, 0, 4), "ok.wav").samples().length);
    }
}
