package org.clmr.protocol.wire;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.agrona.concurrent.UnsafeBuffer;
import org.clmr.protocol.fuzz.ReaderContract;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes what a receiver does with a collective frame's bytes (validate, then the header fields and the CRC),
 * seeded with sound frames of every op kind. Any bytes, at any offset of a heap or an off-heap buffer: validate
 * answers null or one key=value line and never throws; a frame it passes has a whole number of elements, a
 * length that matches, and a CRC that can be computed and sealed.
 */
public class FrameFlyweightFuzzTest {

    /** Sound frames of every op kind with 0, 1 and 3 elements. */
    public static Stream<byte[]> soundFrames() {
        List<byte[]> frames = new ArrayList<>();
        for (OpKind kind : OpKind.values()) {
            for (int elements : new int[] {0, 1, 3}) {
                byte[] b = new byte[FrameFlyweight.HEADER_LENGTH + elements * kind.elementBytes()];
                FrameFlyweight f = new FrameFlyweight().wrap(new UnsafeBuffer(b), 0);
                f.runId(77).generation(3).step(1234).opSequence(5).opKind(kind).phase(elements % 2).sourceRank(2)
                        .chunkIndex(0).chunkCount(1).payloadLength(elements * kind.elementBytes());
                for (int i = 0; i < f.payloadLength(); i++) {
                    b[FrameFlyweight.HEADER_LENGTH + i] = (byte) (i * 31 + 7);
                }
                f.sealCrc();
                frames.add(b);
            }
        }
        return frames.stream();
    }

    @MethodSource("soundFrames")
    @FuzzTest(maxDuration = "20s")
    void anyFrameBytes(byte[] input) {
        check(input);
    }

    /** The target: one input, checked at offset 0 of a heap buffer and at an offset of an off-heap one. */
    public static void check(byte[] input) {
        checkAt(input, new UnsafeBuffer(input.clone()), 0);
        int offset = 8 * (input.length % 5);
        ByteBuffer direct = ByteBuffer.allocateDirect(offset + input.length);
        UnsafeBuffer offHeap = new UnsafeBuffer(direct);
        offHeap.putBytes(offset, input);
        checkAt(input, new UnsafeBuffer(direct, 0, offset + input.length), offset);
    }

    /**
     * The same bytes read as a frame with a MAC trailer: validate and sound agree, and a MAC can be checked
     * (and fails: no input carries one under this fresh key) on every frame they pass, without reading past it.
     */
    private static void checkWithTrailer(byte[] input, FrameFlyweight f) {
        String verdict = f.validate(input.length, FrameFlyweight.MAC_LENGTH);
        assertEquals(verdict == null, f.sound(input.length, FrameFlyweight.MAC_LENGTH));
        if (verdict == null) {
            assertEquals(input.length, f.frameLength() + FrameFlyweight.MAC_LENGTH);
            assertTrue(!FUZZ_MAC.verify(f, 1), f::toString);
        } else {
            assertTrue(verdict.startsWith("frame=") && verdict.indexOf('\n') < 0, verdict);
        }
    }

    private static final FrameMac FUZZ_MAC = FrameMac.of(FrameKey.random());

    private static void checkAt(byte[] input, UnsafeBuffer buffer, int offset) {
        FrameFlyweight f = new FrameFlyweight().wrapForRead(buffer, offset);
        String verdict = ReaderContract.check("FrameFlyweight.validate of " + input.length + " bytes at offset " + offset,
                input.length, ReaderContract.Allocation.BINARY, List.of(), () -> f.validate(input.length))
                .orElse(null);
        checkWithTrailer(input, f);
        assertEquals(verdict == null, f.sound(input.length, 0));
        if (verdict != null) {
            assertTrue(!verdict.isBlank() && verdict.indexOf('\n') < 0 && verdict.startsWith("frame="), verdict);
            return;
        }
        assertEquals(input.length, f.frameLength());
        OpKind kind = OpKind.fromCode(f.opKindCode());
        assertEquals(0, f.payloadLength() % kind.elementBytes(), f::toString);
        assertTrue(f.phase() <= 1, f::toString);
        f.crcMatches();
        FrameFlyweight w = new FrameFlyweight().wrap(buffer, offset);
        w.sealCrc();
        assertTrue(w.crcMatches(), f::toString);
        assertTrue(f.toString().startsWith("frame "));
    }
}
