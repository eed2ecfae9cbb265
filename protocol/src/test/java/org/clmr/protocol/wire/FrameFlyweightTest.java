package org.clmr.protocol.wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameFlyweightTest {

    private static FrameFlyweight sample(UnsafeBuffer buffer, int offset) {
        FrameFlyweight f = new FrameFlyweight().wrap(buffer, offset);
        f.runId(0x1122334455667788L).generation(7).step(123456789L).opSequence(42)
                .opKind(OpKind.ALL_REDUCE_RING_F32).phase(1).sourceRank(65535)
                .chunkIndex(3).chunkCount(9).payloadLength(16);
        for (int i = 0; i < 16; i++) {
            buffer.putByte(f.payloadOffset() + i, (byte) (i * 7));
        }
        return f.sealCrc();
    }

    @Test
    void shouldWriteEveryFieldLittleEndianAtItsDocumentedOffset() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        sample(buffer, 8);
        ByteBuffer bb = ByteBuffer.wrap(buffer.byteArray()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x1122334455667788L, bb.getLong(8));
        assertEquals(0x88, buffer.getByte(8) & 0xFF, "least significant byte first");
        assertEquals(7L, bb.getLong(16));
        assertEquals(123456789L, bb.getLong(24));
        assertEquals(42, bb.getInt(32));
        assertEquals(OpKind.ALL_REDUCE_RING_F32.code(), bb.get(36));
        assertEquals(1, bb.get(37));
        assertEquals(65535, bb.getShort(38) & 0xFFFF);
        assertEquals(3, bb.getInt(40));
        assertEquals(9, bb.getInt(44));
        assertEquals(16, bb.getInt(48));
        CRC32C crc = new CRC32C();
        crc.update(buffer.byteArray(), 8 + FrameFlyweight.HEADER_LENGTH, 16);
        assertEquals((int) crc.getValue(), bb.getInt(52));
    }

    @Test
    void shouldReadBackWhatWasWrittenOnAnOffHeapBuffer() {
        UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(128));
        sample(buffer, 0);
        FrameFlyweight f = new FrameFlyweight().wrapForRead(buffer, 0);
        assertEquals(0x1122334455667788L, f.runId());
        assertEquals(7, f.generation());
        assertEquals(123456789L, f.step());
        assertEquals(42, f.opSequence());
        assertEquals(OpKind.ALL_REDUCE_RING_F32, OpKind.fromCode(f.opKindCode()));
        assertEquals(1, f.phase());
        assertEquals(65535, f.sourceRank());
        assertEquals(3, f.chunkIndex());
        assertEquals(9, f.chunkCount());
        assertEquals(64, f.frameLength());
        assertNull(f.validate(64));
        assertTrue(f.crcMatches());
    }

    @Test
    void shouldComputeTheSameCrcOnHeapAndOffHeap() {
        UnsafeBuffer heap = new UnsafeBuffer(new byte[128]);
        UnsafeBuffer direct = new UnsafeBuffer(ByteBuffer.allocateDirect(128));
        assertEquals(sample(heap, 0).crc(), sample(direct, 0).crc());
    }

    @Test
    void shouldDetectACorruptedPayloadByItsCrc() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        FrameFlyweight f = sample(buffer, 0);
        buffer.putByte(f.payloadOffset() + 5, (byte) (buffer.getByte(f.payloadOffset() + 5) ^ 0x10));
        assertFalse(f.crcMatches());
    }

    @Test
    void shouldDescribeStructuralFaultsAsKeyValues() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        FrameFlyweight f = sample(buffer, 0);
        assertEquals("frame=short length=20 expected>=48", f.validate(20));
        assertEquals("frame=bad-payload-length payloadLength=16 frameLength=60 expected=12", f.validate(60));
        f.chunkIndex(9);
        assertEquals("frame=bad-chunk chunkIndex=9 chunkCount=9", f.validate(64));
        f.chunkIndex(0);
        buffer.putByte(FrameFlyweight.OP_KIND_OFFSET, (byte) 99);
        assertEquals("frame=bad-op-kind opKind=99", f.validate(64));
        f.opKind(OpKind.BROADCAST_BYTES).generation(-1);
        assertEquals("frame=bad-tag generation=-1 step=123456789 opSequence=42", f.validate(64));
    }

    @Test
    void shouldRefuseAPayloadOfPartElementsAndAThirdPhase() {
        // issue #23: validate passed a float32 frame of 6 payload bytes and phase 7; receivers sum whole elements
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        FrameFlyweight f = sample(buffer, 0).payloadLength(6);
        assertEquals("frame=bad-payload-length payloadLength=6 opKind=3 expected=multiple-of-4", f.validate(54));
        f.opKind(OpKind.BROADCAST_BYTES);
        assertNull(f.validate(54));
        f.phase(7);
        assertEquals("frame=bad-phase phase=7 expected<=1", f.validate(54));
    }

    @Test
    void shouldCountTheMacTrailerInTheLengthItValidates() {
        UnsafeBuffer buffer = new UnsafeBuffer(new byte[128]);
        FrameFlyweight f = sample(buffer, 0);
        int mac = FrameFlyweight.MAC_LENGTH;
        assertNull(f.validate(64 + mac, mac));
        assertTrue(f.sound(64 + mac, mac));
        assertEquals(64, f.macOffset());
        assertEquals("frame=short length=50 expected>=64", f.validate(50, mac));
        assertEquals("frame=bad-payload-length payloadLength=16 frameLength=64 expected=0", f.validate(64, mac));
        assertFalse(f.sound(64, mac), "a frame without its trailer");
        assertFalse(f.sound(64 + mac, 0), "a trailer where none is due");
        f.chunkCount(0);
        assertEquals("frame=bad-chunk chunkIndex=3 chunkCount=0", f.validate(64 + mac, mac));
        assertFalse(f.sound(64 + mac, mac));
        f.chunkCount(9).payloadLength(Integer.MAX_VALUE);
        assertFalse(f.sound(64 + mac, mac), "a payload length that overflows the frame length");
    }

    @Test
    void shouldMapEveryOpKindCodeBackToItsKind() {
        for (OpKind k : OpKind.values()) {
            assertEquals(k, OpKind.fromCode(k.code()));
        }
        assertNull(OpKind.fromCode(0));
        assertNull(OpKind.fromCode(200));
    }
}
