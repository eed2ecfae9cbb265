package org.clmr.protocol.wire;

/**
 * The collective operation a frame belongs to, with its wire code and the size of one payload element.
 * Every rank must issue the same kind for the same op tag; a mismatch means the ranks disagree on the
 * order of operations and fails the op.
 */
public enum OpKind {
    /** All-reduce of float32 by direct exchange (every rank sends its vector to every other). */
    ALL_REDUCE_DIRECT_F32(1, 4),
    /** All-reduce of float64 by direct exchange. */
    ALL_REDUCE_DIRECT_F64(2, 8),
    /** All-reduce of float32 as owner-summed reduce-scatter (phase 0) then all-gather (phase 1). */
    ALL_REDUCE_RING_F32(3, 4),
    /** All-gather of float32 with a count per rank. */
    ALL_GATHER_F32(4, 4),
    /** Reduce-scatter (sum) of float32 with a count per rank. */
    REDUCE_SCATTER_F32(5, 4),
    /** Broadcast of bytes from a root: phase 0 carries the length, phase 1 the bytes. */
    BROADCAST_BYTES(6, 1);

    private static final OpKind[] BY_CODE = new OpKind[8];

    static {
        for (OpKind k : values()) {
            BY_CODE[k.code] = k;
        }
    }

    private final int code;
    private final int elementBytes;

    OpKind(int code, int elementBytes) {
        this.code = code;
        this.elementBytes = elementBytes;
    }

    /** The byte on the wire. */
    public int code() {
        return code;
    }

    /** Bytes per payload element. */
    public int elementBytes() {
        return elementBytes;
    }

    /** The kind with this wire code, or null if there is none. */
    public static OpKind fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
