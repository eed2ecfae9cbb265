package org.clmr.protocol.wire;

import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;

import java.nio.ByteBuffer;

/**
 * Hands bytes of a heap or off-heap Agrona buffer to a checksum or MAC without allocating: a heap buffer's array,
 * or an off-heap buffer's ByteBuffer (an Aeron log; its position and limit are restored), so the JDK's intrinsics
 * run; byte by byte only for a buffer over a raw address, which Aeron never hands out. Caller's thread.
 */
final class DirectBytes {
    /** What takes the bytes (CRC32C, a Mac): keep one per user, made once, so that feeding allocates nothing. */
    interface Sink {
        void update(byte[] array, int offset, int length);

        void update(ByteBuffer bytes);

        void update(byte b);
    }

    private DirectBytes() {
    }

    /** Feeds {@code length} bytes at {@code index} of {@code buffer} to {@code sink}. */
    static void feed(DirectBuffer buffer, int index, int length, Sink sink) {
        byte[] array = buffer.byteArray();
        ByteBuffer bb = buffer.byteBuffer();
        if (array != null) {
            sink.update(array, (int) (buffer.addressOffset() - BufferUtil.ARRAY_BASE_OFFSET) + index, length);
        } else if (bb != null) {
            int position = bb.position();
            int limit = bb.limit();
            int start = buffer.wrapAdjustment() + index;
            bb.limit(bb.capacity()).position(start);
            bb.limit(start + length);
            sink.update(bb);
            bb.limit(bb.capacity()).position(position);
            bb.limit(limit);
        } else {
            for (int i = 0; i < length; i++) {
                sink.update(buffer.getByte(index + i));
            }
        }
    }
}
