package org.clmr.data.dataset;

import org.clmr.protocol.Sha256;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The SHA-256 of every {@code bytes}-long chunk of a dataset's data file (the last one shorter), as
 * {@code index.json} records them ({@code chunkBytes}, {@code chunkSha256}): a reader checks a chunk the first
 * time it reads from it, so a data file changed after {@code clmr prepare} is found before a changed sample is
 * used, without reading the whole file at start. Datasets prepared before these fields existed have none
 * ({@link #NONE}); their data file is checked whole before its first read. Immutable.
 *
 * @param bytes  chunk length in bytes (0: none recorded)
 * @param sha256 each chunk's SHA-256, hex, in file order
 */
public record DataChunks(long bytes, List<String> sha256) {
    /** The chunk length {@code clmr prepare} writes: 64 MiB, checked in about 70 ms on the development VM. */
    public static final long DEFAULT_BYTES = 64L << 20;
    /** No chunk hashes recorded. */
    public static final DataChunks NONE = new DataChunks(0, List.of());

    public DataChunks {
        sha256 = List.copyOf(sha256);
    }

    /** Whether chunk hashes are recorded. */
    public boolean recorded() {
        return bytes > 0;
    }

    /** The chunks a data file of {@code dataBytes} bytes has. */
    public static long count(long dataBytes, long chunkBytes) {
        return (dataBytes + chunkBytes - 1) / chunkBytes;
    }

    /** Hashes a data file as it is written, whole and chunk by chunk. Not thread-safe. */
    public static final class Hasher {
        private final MessageDigest whole = Sha256.newDigest();
        private final long chunkBytes;
        private final List<String> chunks = new ArrayList<>();
        private MessageDigest chunk = Sha256.newDigest();
        private long inChunk;

        /** A hasher of {@code chunkBytes}-long chunks. */
        public Hasher(long chunkBytes) {
            this.chunkBytes = chunkBytes;
        }

        /** The next bytes of the file (position to limit; the buffer's position is left as it was). */
        public void update(ByteBuffer bytes) {
            ByteBuffer b = bytes.duplicate();
            whole.update(b.duplicate());
            while (b.hasRemaining()) {
                int n = (int) Math.min(b.remaining(), chunkBytes - inChunk);
                ByteBuffer part = b.duplicate();
                part.limit(part.position() + n);
                chunk.update(part);
                b.position(b.position() + n);
                inChunk += n;
                if (inChunk == chunkBytes) {
                    chunks.add(HexFormat.of().formatHex(chunk.digest()));
                    inChunk = 0;
                }
            }
        }

        /** The whole file's SHA-256 (hex). Call once, after the last update, with {@link #chunks()}. */
        public String wholeSha256() {
            return HexFormat.of().formatHex(whole.digest());
        }

        /** The chunks' hashes. */
        public DataChunks chunks() {
            List<String> all = new ArrayList<>(chunks);
            if (inChunk > 0) {
                all.add(HexFormat.of().formatHex(chunk.digest()));
                inChunk = 0;
            }
            return new DataChunks(chunkBytes, all);
        }
    }
}
