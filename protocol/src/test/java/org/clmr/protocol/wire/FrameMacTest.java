package org.clmr.protocol.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameMacTest {
    private static final int PAYLOAD = 16;
    private static final int LENGTH = FrameFlyweight.HEADER_LENGTH + PAYLOAD + FrameFlyweight.MAC_LENGTH;

    private static FrameKey fixedKey() {
        byte[] k = new byte[FrameKey.LENGTH];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) i;
        }
        return FrameKey.of(k);
    }

    /** A frame with a fixed CRC field (the MAC covers it like any header byte), so that Python can rebuild it. */
    private static FrameFlyweight frame(UnsafeBuffer buffer, int offset) {
        FrameFlyweight f = new FrameFlyweight().wrap(buffer, offset);
        f.runId(0x1122334455667788L).generation(7).step(123456789L).opSequence(42)
                .opKind(OpKind.ALL_REDUCE_RING_F32).phase(1).sourceRank(2)
                .chunkIndex(3).chunkCount(9).payloadLength(PAYLOAD).crc(0xCAFEBABE);
        for (int i = 0; i < PAYLOAD; i++) {
            buffer.putByte(f.payloadOffset() + i, (byte) (i * 7));
        }
        return f;
    }

    @Test
    void shouldBeTheFirst16BytesOfHmacSha256OverTheReceiverHeaderAndPayload() {
        // python3: hmac.new(bytes(range(32)), struct.pack('<I', 5) + header + payload, hashlib.sha256).hexdigest()[:32]
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        FrameFlyweight f = frame(buffer, 8);
        FrameMac.of(fixedKey()).sign(f, 5);
        byte[] mac = new byte[FrameFlyweight.MAC_LENGTH];
        buffer.getBytes(f.macOffset(), mac);
        assertEquals("f625125802bddbcf72792c2b8005238d", HexFormat.of().formatHex(mac));
        assertEquals(8 + FrameFlyweight.HEADER_LENGTH + PAYLOAD, f.macOffset());
        assertNull(f.validate(LENGTH, FrameFlyweight.MAC_LENGTH));
    }

    @Test
    void shouldRefuseTheFrameAfterAnyOneBitOfHeaderPayloadOrMacFlips() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[LENGTH]);
        FrameMac mac = FrameMac.of(FrameKey.random());
        FrameFlyweight f = frame(buffer, 0);
        mac.sign(f, 1);
        assertTrue(mac.verify(f, 1));
        for (int i = 0; i < LENGTH; i++) {
            for (int bit = 0; bit < 8; bit++) {
                buffer.putByte(i, (byte) (buffer.getByte(i) ^ (1 << bit)));
                boolean payloadLengthChanged = i >= FrameFlyweight.PAYLOAD_LENGTH_OFFSET
                        && i < FrameFlyweight.PAYLOAD_LENGTH_OFFSET + 4;
                if (!payloadLengthChanged) {
                    assertFalse(mac.verify(f, 1), "byte " + i + " bit " + bit);
                } else {
                    assertFalse(f.sound(LENGTH, FrameFlyweight.MAC_LENGTH) && mac.verify(f, 1), "length byte " + i);
                }
                buffer.putByte(i, (byte) (buffer.getByte(i) ^ (1 << bit)));
            }
        }
        assertTrue(mac.verify(f, 1), "restored");
    }

    @Test
    void shouldBindTheReceiverAndTheKey() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[LENGTH]);
        FrameKey key = FrameKey.random();
        FrameFlyweight f = frame(buffer, 0);
        FrameMac.of(key).sign(f, 1);
        assertTrue(FrameMac.of(key).verify(f, 1), "the same key, another instance");
        assertFalse(FrameMac.of(key).verify(f, 2), "a frame to rank 1 replayed to rank 2");
        assertFalse(FrameMac.of(FrameKey.random()).verify(f, 1), "another generation's key");
    }

    @Test
    void shouldComputeTheSameMacOnHeapAndOffHeapAndLeaveTheByteBufferAsItWas() {
        FrameKey key = FrameKey.random();
        UnsafeBuffer heap = new UnsafeBuffer(new byte[LENGTH + 24]);
        ByteBuffer direct = ByteBuffer.allocateDirect(LENGTH + 64);
        direct.position(3).limit(50);
        UnsafeBuffer offHeap = new UnsafeBuffer(direct, 16, LENGTH + 24);
        FrameMac.of(key).sign(frame(heap, 8), 3);
        FrameMac mac = FrameMac.of(key);
        FrameFlyweight f = frame(offHeap, 8);
        mac.sign(f, 3);
        assertEquals(3, direct.position());
        assertEquals(50, direct.limit());
        byte[] a = new byte[FrameFlyweight.MAC_LENGTH];
        byte[] b = new byte[FrameFlyweight.MAC_LENGTH];
        heap.getBytes(8 + FrameFlyweight.HEADER_LENGTH + PAYLOAD, a);
        offHeap.getBytes(f.macOffset(), b);
        assertEquals(HexFormat.of().formatHex(a), HexFormat.of().formatHex(b));
        assertTrue(mac.verify(f, 3));
    }

    @Test
    void shouldHaveNoTrailerAndPassEveryFrameWithoutAKey() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[LENGTH]);
        FrameMac none = FrameMac.of(FrameKey.NONE);
        FrameFlyweight f = frame(buffer, 0);
        none.sign(f, 1);
        assertFalse(none.enabled());
        assertEquals(0, none.length());
        assertTrue(none.verify(f, 1));
        assertEquals(0, buffer.getLong(f.macOffset()), "nothing written after the payload");
        assertEquals(FrameFlyweight.MAC_LENGTH, FrameMac.of(FrameKey.random()).length());
    }
}
