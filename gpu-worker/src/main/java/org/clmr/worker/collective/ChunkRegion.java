package org.clmr.worker.collective;

/**
 * The part of a Java array one {@link PeerLink} sends or receives in the current phase, cut into chunks of
 * at most {@code chunkBytes} payload bytes, and how many of them are done. The array is addressed as raw
 * memory ({@code base} is {@code Unsafe}'s array base offset of its type), so one region serves float,
 * double and byte arrays. Owned by one link; used by the thread running the operation only.
 */
final class ChunkRegion {
    private final int chunkBytes;
    private Object array;
    private long base;
    private int offset;
    private int length;
    private int elementBytes;
    private int perChunk;
    private int chunks;
    private int done;

    ChunkRegion(int chunkBytes) {
        this.chunkBytes = chunkBytes;
    }

    /** This phase moves {@code array[offset, +length)} of {@code elementBytes}-byte elements. */
    void set(Object newArray, long newBase, int newOffset, int newLength, int newElementBytes) {
        array = newArray;
        base = newBase;
        offset = newOffset;
        length = newLength;
        elementBytes = newElementBytes;
        perChunk = chunkBytes / newElementBytes;
        chunks = (newLength + perChunk - 1) / perChunk;
    }

    /** Nothing to move until {@link #set} says otherwise. */
    void clear() {
        array = null;
        chunks = 0;
    }

    /** Starts counting the region's chunks from the first. */
    void rewind() {
        done = 0;
    }

    /** True while a chunk of the region is still to be moved. */
    boolean due() {
        return done < chunks;
    }

    /** Index of the next chunk (the number done). */
    int index() {
        return done;
    }

    /** Chunks in the region. */
    int count() {
        return chunks;
    }

    /** Payload bytes of the next chunk. */
    int nextBytes() {
        return Math.min(perChunk, length - done * perChunk) * elementBytes;
    }

    /** Array index of the next chunk's first element. */
    int nextElement() {
        return offset + done * perChunk;
    }

    /** Raw address (relative to {@link #array()}) of the next chunk's first byte. */
    long nextAddress() {
        return base + (long) nextElement() * elementBytes;
    }

    Object array() {
        return array;
    }

    /**
     * Marks the next chunk done, letting go of the array after the last one.
     *
     * @return true if that was the last chunk
     */
    boolean advance() {
        done++;
        if (done == chunks) {
            array = null;
            return true;
        }
        return false;
    }
}
