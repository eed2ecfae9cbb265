package org.clmr.protocol.wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Flyweight over one collective frame: a fixed 48-byte header, the payload, and, when the generation has a
 * {@link FrameKey}, a 16-byte MAC trailer. Every field is little-endian. One frame carries one chunk of one phase
 * of one collective operation from one rank to another, in one Aeron message of one fragment; the payload is the
 * chunk's elements in little-endian order (float32, float64 or bytes, as the op kind says).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                            Run Id                             |  0
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                          Generation                           |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                             Step                              | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                         Op Sequence                           | 24
 *  +---------------+---------------+-------------------------------+
 *  |    Op Kind    |     Phase     |          Source Rank          | 28
 *  +---------------+---------------+-------------------------------+
 *  |                         Chunk Index                           | 32
 *  +---------------------------------------------------------------+
 *  |                         Chunk Count                           | 36
 *  +---------------------------------------------------------------+
 *  |                        Payload Length                         | 40
 *  +---------------------------------------------------------------+
 *  |                   CRC32C of the Payload                       | 44
 *  +---------------------------------------------------------------+
 *  |                        Payload                               ... 48
 * ...                                                              |
 *  +---------------------------------------------------------------+
 *  |           MAC (16 bytes; only under a generation key)         | 48 + Payload Length
 *  |                                                               |
 *  |                                                               |
 *  |                                                               |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li>Run Id: the run's 64-bit id; frames of another run are dropped.</li>
 *   <li>Generation, Step, Op Sequence: the operation's {@code OpTag}; frames of an older generation or an
 *       earlier operation are dropped as stale and counted.</li>
 *   <li>Op Kind: {@link OpKind#code()}; Phase: 0, or 1 for the second phase of two-phase operations.</li>
 *   <li>Source Rank: the sender's rank in the generation (unsigned 16 bits).</li>
 *   <li>Chunk Index / Count: the chunk's position among the frames this sender sends this receiver in
 *       this phase.</li>
 *   <li>Payload Length: bytes after the header, a whole number of the op kind's elements; CRC32C
 *       (Castagnoli) of exactly those bytes.</li>
 *   <li>MAC: the first 16 bytes of HMAC-SHA256 under the generation's key ({@link FrameMac}) of the
 *       receiver's rank (4 bytes, little-endian), then the header and the payload (bytes 0 to 48 + Payload
 *       Length). Every field that places a frame (run, generation, step, op, phase, chunk, sender) and the
 *       receiver, who is not in the header, are under the MAC, so a captured frame replayed into another
 *       operation, step, generation, run or rank fails it or is stale there. A generation without a key
 *       ({@code clmr bench allreduce --auth off} only) has no trailer.</li>
 * </ul>
 *
 * Not thread safe; one instance per thread, re-wrapped for every frame (no allocation).
 */
public final class FrameFlyweight {
    /** The byte order of every field and of the payload. */
    public static final ByteOrder BYTE_ORDER = ByteOrder.LITTLE_ENDIAN;
    public static final int RUN_ID_OFFSET = 0;
    public static final int GENERATION_OFFSET = 8;
    public static final int STEP_OFFSET = 16;
    public static final int OP_SEQUENCE_OFFSET = 24;
    public static final int OP_KIND_OFFSET = 28;
    public static final int PHASE_OFFSET = 29;
    public static final int SOURCE_RANK_OFFSET = 30;
    public static final int CHUNK_INDEX_OFFSET = 32;
    public static final int CHUNK_COUNT_OFFSET = 36;
    public static final int PAYLOAD_LENGTH_OFFSET = 40;
    public static final int CRC_OFFSET = 44;
    /** Header length; the payload starts here, 8-byte aligned. */
    public static final int HEADER_LENGTH = 48;
    /** Largest source rank the 16-bit field holds. */
    public static final int MAX_RANK = 0xFFFF;
    /** Length of the MAC trailer of a frame under a generation key. */
    public static final int MAC_LENGTH = 16;

    private DirectBuffer buffer;
    private MutableDirectBuffer mutable;
    private int offset;

    /** Points this flyweight at a frame starting at {@code offset}, for writing and reading. */
    public FrameFlyweight wrap(MutableDirectBuffer buffer, int offset) {
        this.buffer = buffer;
        this.mutable = buffer;
        this.offset = offset;
        return this;
    }

    /** Points this flyweight at a received frame, for reading only (a setter then throws). */
    public FrameFlyweight wrapForRead(DirectBuffer buffer, int offset) {
        this.buffer = buffer;
        this.mutable = null;
        this.offset = offset;
        return this;
    }

    /** The wrapped buffer. */
    public DirectBuffer buffer() {
        return buffer;
    }

    public int offset() {
        return offset;
    }

    public long runId() {
        return buffer.getLong(offset + RUN_ID_OFFSET, BYTE_ORDER);
    }

    public FrameFlyweight runId(long v) {
        mutable.putLong(offset + RUN_ID_OFFSET, v, BYTE_ORDER);
        return this;
    }

    public long generation() {
        return buffer.getLong(offset + GENERATION_OFFSET, BYTE_ORDER);
    }

    public FrameFlyweight generation(long v) {
        mutable.putLong(offset + GENERATION_OFFSET, v, BYTE_ORDER);
        return this;
    }

    public long step() {
        return buffer.getLong(offset + STEP_OFFSET, BYTE_ORDER);
    }

    public FrameFlyweight step(long v) {
        mutable.putLong(offset + STEP_OFFSET, v, BYTE_ORDER);
        return this;
    }

    public int opSequence() {
        return buffer.getInt(offset + OP_SEQUENCE_OFFSET, BYTE_ORDER);
    }

    public FrameFlyweight opSequence(int v) {
        mutable.putInt(offset + OP_SEQUENCE_OFFSET, v, BYTE_ORDER);
        return this;
    }

    /** The op kind's wire code; see {@link OpKind#fromCode(int)}. */
    public int opKindCode() {
        return buffer.getByte(offset + OP_KIND_OFFSET) & 0xFF;
    }

    public FrameFlyweight opKind(OpKind kind) {
        mutable.putByte(offset + OP_KIND_OFFSET, (byte) kind.code());
        return this;
    }

    public int phase() {
        return buffer.getByte(offset + PHASE_OFFSET) & 0xFF;
    }

    public FrameFlyweight phase(int v) {
        mutable.putByte(offset + PHASE_OFFSET, (byte) v);
        return this;
    }

    public int sourceRank() {
        return buffer.getShort(offset + SOURCE_RANK_OFFSET, BYTE_ORDER) & 0xFFFF;
    }

    public FrameFlyweight sourceRank(int v) {
        mutable.putShort(offset + SOURCE_RANK_OFFSET, (short) v, BYTE_ORDER);
        return this;
    }

    public int chunkIndex() {
        return buffer.getInt(offset + CHUNK_INDEX_OFFSET, BYTE_ORDER);
    }

    public FrameFlyweight chunkIndex(int v) {
        mutable.putInt(offset + CHUNK_INDEX_OFFSET, v, BYTE_ORDER);
        return this;
    }

    public int chunkCount() {
        return buffer.getInt(offset + CHUNK_COUNT_OFFSET, BYTE_ORDER);
    }

    public FrameFlyweight chunkCount(int v) {
        mutable.putInt(offset + CHUNK_COUNT_OFFSET, v, BYTE_ORDER);
        return this;
    }

    public int payloadLength() {
        return buffer.getInt(offset + PAYLOAD_LENGTH_OFFSET, BYTE_ORDER);
    }

    public FrameFlyweight payloadLength(int v) {
        mutable.putInt(offset + PAYLOAD_LENGTH_OFFSET, v, BYTE_ORDER);
        return this;
    }

    public int crc() {
        return buffer.getInt(offset + CRC_OFFSET, BYTE_ORDER);
    }

    public FrameFlyweight crc(int v) {
        mutable.putInt(offset + CRC_OFFSET, v, BYTE_ORDER);
        return this;
    }

    /** Index in {@link #buffer()} of the payload's first byte. */
    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    /** Length of the frame's header and payload (what the CRC's header and the MAC cover), without a MAC trailer. */
    public int frameLength() {
        return HEADER_LENGTH + payloadLength();
    }

    /** Index in {@link #buffer()} of the MAC trailer's first byte, right after the payload. */
    public int macOffset() {
        return offset + HEADER_LENGTH + payloadLength();
    }

    /** Writes the first {@code length} bytes of {@code mac} into the trailer ({@link FrameMac#sign}). */
    FrameFlyweight putMac(byte[] mac, int length) {
        mutable.putBytes(macOffset(), mac, 0, length);
        return this;
    }

    /** CRC32C of the payload as it is in the buffer now (payload length taken from the header). */
    public int computePayloadCrc() {
        return crc32c(buffer, payloadOffset(), payloadLength());
    }

    /** Stores the CRC32C of the current payload; call after the payload and its length are written. */
    public FrameFlyweight sealCrc() {
        return crc(computePayloadCrc());
    }

    /** Whether the stored CRC matches the payload. */
    public boolean crcMatches() {
        return crc() == computePayloadCrc();
    }

    /**
     * Structural check of a received frame of {@code length} bytes without a MAC trailer (not the CRC, which
     * the receiver checks once the frame is known to be current): null when sound, otherwise a one-line
     * {@code key=value} description of the first fault.
     */
    public String validate(int length) {
        return validate(length, 0);
    }

    /**
     * Structural check of a received message of {@code length} bytes whose frame ends in a trailer of
     * {@code macLength} bytes ({@link #MAC_LENGTH}, or 0 without a generation key): null when sound, otherwise a
     * one-line {@code key=value} description of the first fault. Allocates only to describe a fault; see
     * {@link #sound} for the receiver's allocation-free check.
     */
    public String validate(int length, int macLength) {
        switch (fault(length, macLength)) {
            case SOUND:
                return null;
            case SHORT:
                return "frame=short length=" + length + " expected>=" + (HEADER_LENGTH + macLength);
            case PAYLOAD_LENGTH:
                return "frame=bad-payload-length payloadLength=" + payloadLength() + " frameLength=" + length
                        + " expected=" + (length - HEADER_LENGTH - macLength);
            case OP_KIND:
                return "frame=bad-op-kind opKind=" + opKindCode();
            case PARTIAL_ELEMENT:
                return "frame=bad-payload-length payloadLength=" + payloadLength() + " opKind=" + opKindCode()
                        + " expected=multiple-of-" + OpKind.fromCode(opKindCode()).elementBytes();
            case PHASE:
                return "frame=bad-phase phase=" + phase() + " expected<=1";
            case CHUNK:
                return "frame=bad-chunk chunkIndex=" + chunkIndex() + " chunkCount=" + chunkCount();
            default:
                return "frame=bad-tag generation=" + generation() + " step=" + step() + " opSequence=" + opSequence();
        }
    }

    /** Whether a received message of {@code length} bytes with a {@code macLength}-byte trailer is sound (allocation-free). */
    public boolean sound(int length, int macLength) {
        return fault(length, macLength) == SOUND;
    }

    private static final int SOUND = 0;
    private static final int SHORT = 1;
    private static final int PAYLOAD_LENGTH = 2;
    private static final int OP_KIND = 3;
    private static final int PARTIAL_ELEMENT = 4;
    private static final int PHASE = 5;
    private static final int CHUNK = 6;
    private static final int TAG = 7;

    /** The first structural fault, in the order {@link #validate(int, int)} names them, or {@link #SOUND}. */
    private int fault(int length, int macLength) {
        if (length < HEADER_LENGTH + macLength) {
            return SHORT;
        }
        int payload = payloadLength();
        if (payload < 0 || (long) HEADER_LENGTH + payload + macLength != length) {
            return PAYLOAD_LENGTH;
        }
        OpKind kind = OpKind.fromCode(opKindCode());
        if (kind == null) {
            return OP_KIND;
        }
        if (payload % kind.elementBytes() != 0) {
            return PARTIAL_ELEMENT;
        }
        if (phase() > 1) {
            return PHASE;
        }
        int count = chunkCount();
        int index = chunkIndex();
        if (count <= 0 || index < 0 || index >= count) {
            return CHUNK;
        }
        if (generation() < 0 || step() < 0 || opSequence() < 0) {
            return TAG;
        }
        return SOUND;
    }

    /**
     * CRC32C (Castagnoli) of {@code length} bytes at {@code index} of {@code buffer}, heap or off-heap,
     * without allocating: a heap buffer's array or an off-heap buffer's ByteBuffer (whose position and
     * limit are restored) is handed to the JDK's intrinsic.
     */
    public int crc32c(DirectBuffer buffer, int index, int length) {
        CRC32C c = crc;
        c.reset();
        DirectBytes.feed(buffer, index, length, crcSink);
        return (int) c.getValue();
    }

    private final CRC32C crc = new CRC32C();
    /** {@link #crc} as {@link DirectBytes}' sink, made once. */
    private final DirectBytes.Sink crcSink = new DirectBytes.Sink() {
        @Override
        public void update(byte[] array, int offset, int length) {
            crc.update(array, offset, length);
        }

        @Override
        public void update(ByteBuffer bytes) {
            crc.update(bytes);
        }

        @Override
        public void update(byte b) {
            crc.update(b);
        }
    };

    @Override
    public String toString() {
        return "frame runId=" + runId() + " generation=" + generation() + " step=" + step()
                + " opSequence=" + opSequence() + " opKind=" + opKindCode() + " phase=" + phase()
                + " sourceRank=" + sourceRank() + " chunkIndex=" + chunkIndex() + " chunkCount=" + chunkCount()
                + " payloadLength=" + payloadLength() + " crc=" + Integer.toHexString(crc());
    }
}
